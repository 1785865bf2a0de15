"""Keyed-hash pseudonyms: HMAC-SHA256 under the project key, one domain per kind of identifier.

The same (key, domain, identifier) always gives the same pseudonym; another key or another
domain gives an unrelated one. A pseudonym is written with the letters a-p only (one letter per
hex digit), so that no pseudonym can ever be mistaken for, or checked as, a number such as an
INSZ. 20 letters carry 80 bits: a collision among 12 million persons has a chance of about
1 in 10^10, and a collision still fails the run rather than merging two persons.
"""

from __future__ import annotations

import hashlib

import polars as pl
import polars_hash  # noqa: F401  (registers the .chash namespace)

from specs.patterns import PSEUDONYM_LETTERS
from specs.refusal import Refusal

_HEX = list("0123456789abcdef")
_LETTERS = list("abcdefghijklmnop")

PERSON = "person"
SAMPLE = "sample"
SCRAMBLE = "scramble"


class PseudonymCollision(Refusal, RuntimeError):
    """Two identifiers received the same pseudonym; the run must stop."""


def keyed_digest(identifiers: pl.Expr, key: bytes, domain: str) -> pl.Expr:
    """HMAC-SHA256(key, domain || 0x00 || identifier), as 64 hex digits.

    The HMAC key is the project key written as hex text: the hashing plugin takes text keys only.
    """
    message = pl.lit(domain + "\x00") + identifiers
    return message.chash.hmac_sha256(key=key.hex())  # type: ignore[attr-defined]


def pseudonym(identifiers: pl.Expr, key: bytes, domain: str) -> pl.Expr:
    """The pseudonym of each identifier: the first 20 hex digits of its keyed digest, as letters."""
    return (
        keyed_digest(identifiers, key, domain)
        .str.slice(0, PSEUDONYM_LETTERS)
        .str.replace_many(_HEX, _LETTERS)
    )


def pseudonym_map(identifiers: pl.Series, key: bytes, domain: str) -> pl.DataFrame:
    """Distinct identifiers with their pseudonyms; refuses a collision."""
    frame = pl.DataFrame({"id": identifiers.drop_nulls().unique().sort()}).with_columns(
        pseudonym=pseudonym(pl.col("id"), key, domain)
    )
    if frame["pseudonym"].n_unique() != frame.height:
        raise PseudonymCollision(
            f"two {domain} identifiers received the same pseudonym; the run is stopped"
        )
    return frame


def pseudonym_set_digest(pseudonyms: pl.Series) -> str:
    """sha256 of the distinct pseudonyms, sorted and joined by newlines.

    Names the set of persons a release is about (for the audit log) without naming anybody:
    the same set gives the same digest, and the digest reveals no pseudonym.
    """
    joined = pseudonyms.drop_nulls().unique().sort().str.join("\n").item()
    return hashlib.sha256((joined or "").encode()).hexdigest()
