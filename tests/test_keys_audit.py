"""The key store and the audit log."""

from __future__ import annotations

import json
import stat

import pytest

from flows import audit
from flows.keys import KeyStoreError, create_key, fingerprint, load_key


def test_created_key_is_owner_only_and_loads(tmp_path):
    store = tmp_path / "keys"
    printed = create_key(store, "demo")
    assert stat.S_IMODE((store / "demo.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    assert fingerprint(load_key(store, "demo")) == printed


def test_existing_key_is_never_replaced(tmp_path):
    create_key(tmp_path, "demo")
    before = (tmp_path / "demo.key").read_text()
    with pytest.raises(KeyStoreError, match="already has a key"):
        create_key(tmp_path, "demo")
    assert (tmp_path / "demo.key").read_text() == before


def test_missing_key_is_a_clear_error_that_says_how_to_create_it(tmp_path):
    with pytest.raises(KeyStoreError, match="no key for project 'demo'.*rex keys create demo"):
        load_key(tmp_path, "demo")


def test_key_readable_by_others_is_refused(tmp_path):
    create_key(tmp_path, "demo")
    (tmp_path / "demo.key").chmod(0o644)
    with pytest.raises(KeyStoreError, match="readable by others"):
        load_key(tmp_path, "demo")


def test_fingerprint_does_not_contain_the_key(tmp_path):
    create_key(tmp_path, "demo")
    key = load_key(tmp_path, "demo")
    assert key.hex()[:16] != fingerprint(key) and key.hex() not in fingerprint(key)


def test_audit_chain_verifies_and_detects_an_edited_entry(tmp_path):
    log = tmp_path / "audit.jsonl"
    for n in range(3):
        audit.append(log, "release", persons=n)
    assert audit.verify_chain(log) == []
    lines = log.read_text().splitlines()
    edited = json.loads(lines[1]) | {"persons": 99}
    lines[1] = json.dumps(edited, sort_keys=True)
    log.write_text("\n".join(lines) + "\n")
    assert audit.verify_chain(log) == ["entry 3: does not follow entry 2"]


def test_audit_entry_says_who_when_and_what(tmp_path):
    entry = audit.append(tmp_path / "a.jsonl", "refusal", deliberation="18/088", reason="x")
    assert {"seq", "at", "actor", "event", "deliberation", "reason", "prev"} <= set(entry)
