"""Bad input, a broken data folder or a full disk: one line that names the file and what is wrong,
a non-zero exit, and nothing of the data, the roster or a key quoted."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.runtime.settings import Paths
from flows.stores import audit_read
from flows.stores.roster import RosterError, load_roster


def _env(tmp_path, monkeypatch) -> Paths:
    monkeypatch.setenv("REX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REX_KEY_STORE", str(tmp_path / "keys"))
    return Paths.from_environment()


# --- the roster (point 15) ---------------------------------------------------------------------

BROKEN_ROSTER = (
    "staff:\n"
    "  jdoe-secret:\n"
    '    roles: ["case handler, customised employment"\n'
    "    declaration_signed: 2013-04-01\n"
)


def test_a_malformed_roster_is_named_by_line_and_column_without_quoting_it(tmp_path):
    roster = tmp_path / "roster.yaml"
    roster.write_text(BROKEN_ROSTER)
    with pytest.raises(RosterError) as refused:
        load_roster(roster)
    message = str(refused.value)
    assert message.startswith(f"{roster}: not valid YAML at line ") and ", column " in message
    assert len(message.splitlines()) == 1
    for quoted in ("jdoe", "case handler", "customised", "2013-04-01"):
        assert quoted not in message


def test_a_roster_of_the_wrong_shape_names_the_field_not_its_value(tmp_path):
    roster = tmp_path / "roster.yaml"
    roster.write_text(
        "staff:\n  anne:\n    roles: [{secret-role: 1}]\n    declaration_signed: secret-day\n"
    )
    with pytest.raises(RosterError) as refused:
        load_roster(roster)
    message = str(refused.value)
    assert "staff.anne.roles.0" in message and "staff.anne.declaration_signed" in message
    assert "secret" not in message


# --- the key store (point 16) ------------------------------------------------------------------


def test_keys_create_logs_its_refusal_of_a_second_key(tmp_path, monkeypatch):
    paths = _env(tmp_path, monkeypatch)
    runner = CliRunner()
    assert runner.invoke(app, ["keys", "create", "demo-project"]).exit_code == 0
    second = runner.invoke(app, ["keys", "create", "demo-project"])
    assert second.exit_code == 2
    last = audit_read.read(paths.audit_log)[-1]
    assert last["event"] == "refusal" and last["project"] == "demo-project"
    assert "already has a key" in last["reason"]
    key = (paths.key_store / "demo-project.key").read_text().strip()
    assert key not in paths.audit_log.read_text()
    assert audit_read.verify(paths.audit_log) == []


# --- the recipient's list of persons (point 14) ------------------------------------------------


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not a text file"),
        (b"85073003328\n\x00\x01\x02\n", "not a text file"),
        (b"# only a comment\n\n", "lists no person"),
    ],
)
def test_an_empty_or_binary_person_list_is_refused_in_one_line(tmp_path, content, said):
    from flows.stores.requests import RequestError, read_person_list

    listing = tmp_path / "request.txt"
    listing.write_bytes(content)
    with pytest.raises(RequestError) as refused:
        read_person_list(listing)
    message = str(refused.value)
    assert message.startswith("request.txt: ") and said in message
    assert len(message.splitlines()) == 1 and "85073003328" not in message


# --- a full disk (point 14) ----------------------------------------------------------------------


def _raising(error: Exception):
    from flows.runtime.outcome import withheld

    @withheld
    def write_step() -> None:
        raise error

    return write_step


def test_a_full_disk_is_said_and_names_the_file_it_could_not_write():
    import errno

    from flows.runtime.outcome import StepFailed

    target = "/srv/rex/data/releases/p/.18-088_sample_2020-06-30.x/month.parquet"
    with pytest.raises(StepFailed) as failed:
        _raising(OSError(errno.ENOSPC, "No space left on device", target))()
    message = str(failed.value)
    assert "no space left on device" in message.lower() and target in message
    assert "withheld" not in message


def test_a_full_disk_said_by_a_library_is_said_without_its_detail():
    import errno

    from flows.runtime.outcome import StepFailed

    detail = "Error writing bytes to file. Detail: [errno 28] No space left on device"
    with pytest.raises(StepFailed) as failed:
        _raising(OSError(errno.EDQUOT, detail))()
    assert "Disk quota exceeded" in str(failed.value) and "Detail" not in str(failed.value)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("could not convert '85073003328' to a date"),
        OSError(5, "I/O error near '85073003328'", "/data/85073003328"),
        KeyError("85073003328"),
    ],
)
def test_other_errors_stay_withheld(error):
    from flows.runtime.outcome import StepFailed

    with pytest.raises(StepFailed) as failed:
        _raising(error)()
    assert "withheld" in str(failed.value) and "85073003328" not in str(failed.value)


def test_a_run_that_fills_the_disk_says_so_in_its_refusal_and_its_log(world, tmp_path, monkeypatch):
    import errno

    from flows.extract.errors import ExtractFailed
    from flows.extract.export import sample_export
    from flows.release.parquet_writer import RowGroupWriter
    from flows.stores.keys import create_key
    from tests.conftest import WORLD_AS_OF

    paths = Paths(data=tmp_path / "data", key_store=tmp_path / "keys")
    create_key(paths.key_store, "e2e")

    def full(writer, table) -> None:
        # as Arrow says it: the errno, a detail of its own, and no file name
        raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space")

    monkeypatch.setattr(RowGroupWriter, "write", full)
    with pytest.raises(ExtractFailed) as failed:
        sample_export(world["spec"], WORLD_AS_OF, paths, world["store"])
    message = str(failed.value)
    assert "No space left on device" in message and str(paths.releases / "e2e") in message
    assert "Detail" not in message
    assert len(message.splitlines()) == 1
    logged = audit_read.read(paths.audit_log)[-1]
    assert logged["event"] == "failure" and "No space left on device" in logged["reason"]
    assert not list(paths.releases.rglob("*.parquet"))


# --- a data folder that cannot be written (point 14) -------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["export", "sample", "--as-of", "2020-06-30"],
        ["retention", "apply", "--as-of", "2020-06-30"],
        ["keys", "create", "demo-project"],
    ],
)
def test_a_data_folder_that_cannot_be_written_is_refused_at_once(tmp_path, monkeypatch, command):
    import time

    blocker = tmp_path / "a-file"
    blocker.write_text("")  # a data folder under a file cannot be made, even by root
    monkeypatch.setenv("REX_DATA_DIR", str(blocker / "data"))
    monkeypatch.setenv("REX_KEY_STORE", str(tmp_path / "keys"))
    monkeypatch.setenv("PREFECT_HOME", str(blocker / "data" / ".prefect"))
    started = time.monotonic()
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert len(line.splitlines()) == 1 and f"data folder {blocker / 'data'}" in line
    assert "cannot be written (Not a directory)" in line
    assert time.monotonic() - started < 10


def test_a_read_only_file_system_is_named_with_its_reason(tmp_path, monkeypatch):
    import errno
    import tempfile

    from flows.runtime.settings import DataFolderError, check_writable

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(DataFolderError, match=r"data folder .* \(Read-only file system\)"):
        check_writable(Paths(data=tmp_path / "data", key_store=tmp_path / "keys"))
