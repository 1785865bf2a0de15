"""Unlinkable modes: each mode of a spec pseudonymises under a key of its own.

The key of a mode is HMAC-SHA256(project key, MODE_KEY_LABEL || 0x00 || mode name): the label
separates this use of the project key from every other (the sample draw and the pseudonyms are
HMACs of identifiers under the project key, in domains of their own), and the mode name gives
each mode its key. So the sample and the on-premise build of one spec carry unrelated person and
employer pseudonyms, and who sees both cannot join them; the deliveries of one mode (the yearly
sample, say) keep their pseudonyms, as the project key and the mode name stay the same. A mode
whose spec says it shares another mode's pseudonyms (`shares_pseudonyms_with`) takes that mode's
key. Shredding the project key loses every mode's key with it.

The sample draw stays keyed by the project key itself (transforms.sample), so that the persons
drawn do not depend on the mode that asks: the on-premise build draws the same sample to mark
its persons (`in_sample`).
"""

from __future__ import annotations

import hashlib
import hmac

import polars as pl

from specs.model import Spec
from specs.modes import ModeName

MODE_KEY_LABEL = "rex/mode-pseudonyms/v1"


def mode_key(project_key: bytes, mode: ModeName) -> bytes:
    """The key of one mode's pseudonyms, derived from the project key (see the module)."""
    message = f"{MODE_KEY_LABEL}\x00{mode.value}".encode()
    return hmac.new(project_key, message, hashlib.sha256).digest()


def pseudonym_mode(spec: Spec, mode: ModeName) -> ModeName:
    """The mode whose pseudonyms `mode` carries: its own, unless the spec links it to another."""
    link = spec.modes[mode].shares_pseudonyms_with
    return mode if link is None else link.mode


def pseudonym_key(spec: Spec, mode: ModeName, project_key: bytes) -> bytes:
    """The key the pseudonyms of `mode` are made under."""
    return mode_key(project_key, pseudonym_mode(spec, mode))


def pseudonyms_statement(spec: Spec, mode: ModeName) -> dict[str, str | None]:
    """What the manifest says of a release's pseudonyms: whose they are, and why if shared."""
    link = spec.modes[mode].shares_pseudonyms_with
    return {
        "mode": pseudonym_mode(spec, mode).value,
        "shared_with": None if link is None else link.mode.value,
        "reason": None if link is None else link.reason,
    }


def in_sample(person_ids: pl.DataFrame, drawn: pl.DataFrame) -> pl.DataFrame:
    """Per person of a build (insz, person_id), whether the sample mode's draw holds them
    (`drawn`: the persons drawn, by insz); sorted by person_id, without the insz."""
    return person_ids.select(
        "person_id", in_sample=pl.col("insz").is_in(drawn["insz"].implode())
    ).sort("person_id")
