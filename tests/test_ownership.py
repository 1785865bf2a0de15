"""Who may write what rex trusts: the roster and the key store are refused when another account
could change them (flows.stores.ownership)."""

from __future__ import annotations

import os

import pytest

from flows.stores.keys import KeyStoreError, create_key, load_key
from flows.stores.roster import RosterError, load_roster


def test_a_key_store_others_may_write_is_refused(tmp_path):
    store = tmp_path / "keys"
    create_key(store, "demo")
    store.chmod(0o730)
    with pytest.raises(KeyStoreError, match=rf"{store} is writable by others .*chmod go-w {store}"):
        load_key(store, "demo")


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another account takes root")
def test_a_roster_or_key_owned_by_another_account_is_refused(tmp_path):
    create_key(tmp_path / "keys", "demo")
    os.chown(tmp_path / "keys" / "demo.key", 4321, -1)
    with pytest.raises(KeyStoreError, match="belongs to uid 4321, not to this account"):
        load_key(tmp_path / "keys", "demo")
    roster = tmp_path / "access" / "roster.yaml"
    roster.parent.mkdir()
    roster.write_text("staff: {}\n")
    os.chown(roster, 4321, -1)
    with pytest.raises(RosterError, match="could be changed by another account"):
        load_roster(roster)


def test_a_roster_in_a_folder_others_may_write_is_refused(tmp_path):
    roster = tmp_path / "access" / "roster.yaml"
    roster.parent.mkdir()
    roster.write_text("staff: {}\n")
    roster.parent.chmod(0o777)
    with pytest.raises(RosterError, match=rf"{roster.parent} is writable by others .*chmod go-w"):
        load_roster(roster)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another account takes root")
def test_a_roster_kept_by_the_data_steward_it_names_is_accepted(tmp_path):
    import pwd

    steward = pwd.getpwnam("nobody")
    roster = tmp_path / "access" / "roster.yaml"
    roster.parent.mkdir()
    roster.write_text("staff: {nobody: {roles: [data steward]}, anne: {roles: [operator]}}\n")
    os.chown(roster, steward.pw_uid, -1)
    assert load_roster(roster).member("nobody").roles == ("data steward",)
