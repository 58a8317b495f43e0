"""Storing what adapters deliver: exactly-once source records, validation with quarantine,
versions, credit records and entity links, counts.

Exactly once: a record is identified by (feed, source key). Re-delivered with the same payload
hash, it is a duplicate and is not stored again (the identical payload is already there). With a
different payload it becomes the next version: the previous accepted version is marked
superseded (its payload stays readable) and the credit record follows the new version.

- ``plan``: a batch's records prepared (payload, hash, source key, mapped fields), validated
  and decided against what is stored (duplicate, new, next version, quarantined);
- ``payloads``: the JSON-safe payload and its hash (what recognises a re-delivery);
- ``credit_values``: a validated record as its credit-record row;
- ``store``: ``store_batch``, writing a planned batch and linking its records;
- ``replay``: ``replay_quarantine``, the quarantine validated again after a mapping fix;
- ``outcomes``: the counts of a batch or run and what became of each record.

Nothing here commits: the caller (``ingest.runner``) owns the transaction.
"""
