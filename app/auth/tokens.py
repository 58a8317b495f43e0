"""Bearer tokens: random, shown once, stored only as a SHA-256 hash.

A plain SHA-256 is enough here (unlike passwords): the tokens carry 256 random bits, so there
is nothing to guess from a leaked hash, and look-ups by hash stay a single indexed query.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "chk_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
