"""The service side of entity resolution, its one home: linking at ingest (exact and fuzzy),
entity views, golden record, survivors of merges, merge / unmerge / split, the review queue."""
