"""`rex verify`: every release and workspace against its manifest and the manifest against the
audit log; reruns and retention call an altered release tampering."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.release import verify
from flows.release.files import alterations, sha256_file, write_json
from flows.release.publish import ReleaseExists, publish
from flows.runtime.settings import Paths
from flows.schedule.retention import apply
from flows.stores import audit, audit_files, audit_read
from tests.conftest import copy_audit_key


@pytest.fixture
def held(world, tmp_path, monkeypatch) -> Paths:
    """A copy of the world's releases, workspace and audit log, to tamper with."""
    paths = Paths(data=tmp_path / "data", key_store=tmp_path / "keys")
    for part in ("releases", "onprem", "audit"):
        shutil.copytree(world["paths"].data / part, paths.data / part)
    shutil.copytree(world["paths"].key_store, paths.key_store)
    copy_audit_key(world["paths"], paths)
    monkeypatch.setenv("REX_DATA_DIR", str(paths.data))
    monkeypatch.setenv("REX_KEY_STORE", str(paths.key_store))
    return paths


def only(paths: Paths, mode: str):
    (folder,) = (f for f in verify.folders(paths) if f"_{mode}_" in f.name)
    return folder


def rex_verify() -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["verify"])
    return result.exit_code, result.output.splitlines()


def test_release_entry_records_the_sha256_of_the_published_manifest(world):
    (entry,) = (
        e
        for e in audit_read.read(world["paths"].audit_log)
        if e["event"] == "release" and e["folder"] == str(world["sample"].folder)
    )
    assert entry["manifest_sha256"] == sha256_file(world["sample"].folder / "manifest.json")


def test_verify_passes_every_release_and_workspace_as_published(held):
    code, lines = rex_verify()
    assert code == 0
    assert lines == [f"ok: {folder}" for folder in verify.folders(held)]


def test_verify_names_the_edited_the_missing_and_the_added_file(held):
    sample, onprem = only(held, "sample"), only(held, "onprem")
    with open(sample / "month.parquet", "ab") as handle:
        handle.write(b"\0")
    (onprem / "codebook.md").unlink()
    (onprem / "notes.csv").write_text("added by hand\n")
    code, lines = rex_verify()
    assert code == 1
    assert lines == sorted(
        [
            f"{onprem}: codebook.md is missing; notes.csv was added (the manifest does not list "
            "it)",
            f"{sample}: month.parquet was edited (its sha256 is not the manifest's)",
        ],
        key=lambda line: [str(f) for f in verify.folders(held)].index(line.split(": ")[0]),
    )


def test_verify_finds_a_manifest_rewritten_to_match_an_edited_file(held):
    sample = only(held, "sample")
    with open(sample / "year.parquet", "ab") as handle:
        handle.write(b"\0")
    manifest = json.loads((sample / "manifest.json").read_text())
    manifest["files"]["year.parquet"]["sha256"] = sha256_file(sample / "year.parquet")
    write_json(manifest, sample / "manifest.json")
    code, lines = rex_verify()
    assert code == 1
    assert f"{sample}: manifest.json is not the one the audit log recorded" in lines


def test_verify_finds_a_release_the_audit_log_never_recorded(held):
    sample = only(held, "sample")
    planted = sample.with_name(sample.name.replace("2020-06-30", "2020-07-01"))
    shutil.copytree(sample, planted)
    code, lines = rex_verify()
    assert code == 1
    assert f"{planted}: the audit log has no release entry for it" in lines
    assert f"ok: {sample}" in lines


def test_verify_still_checks_the_files_when_the_audit_log_is_damaged(held):
    sample = only(held, "sample")
    (sample / "codebook.json").unlink()
    lines_of_log = held.audit_log.path.read_bytes().split(b"\n")
    lines_of_log[0] = b"{" + b"x" * (len(lines_of_log[0]) - 1)  # same length: only verify sees it
    held.audit_log.path.write_bytes(b"\n".join(lines_of_log))
    code, lines = rex_verify()
    assert code == 1
    assert lines[0].startswith(f"the audit log {held.audit_log} is damaged (line 1: ")
    assert f"{sample}: codebook.json is missing" in lines


def _folder_with_manifest(folder, content: bytes):
    folder.mkdir(parents=True)
    (folder / "month.parquet").write_bytes(content)
    files = {"month.parquet": {"sha256": sha256_file(folder / "month.parquet")}}
    write_json({"files": files}, folder / "manifest.json")
    return folder


def test_a_rerun_over_an_altered_release_is_refused_as_tampering(tmp_path):
    target = _folder_with_manifest(tmp_path / "p" / "release", b"published")
    (target / "month.parquet").write_bytes(b"edited by hand")
    staging = _folder_with_manifest(tmp_path / "p" / ".staging", b"published")
    with pytest.raises(ReleaseExists, match="altered since it was published") as refused:
        publish(staging, target)
    assert "month.parquet was edited" in str(refused.value)
    assert "remove it first" not in str(refused.value)


def test_a_rerun_that_differs_from_an_intact_release_is_refused_as_another_release(tmp_path):
    target = _folder_with_manifest(tmp_path / "p" / "release", b"published")
    staging = _folder_with_manifest(tmp_path / "p" / ".staging", b"built from other sources")
    with pytest.raises(ReleaseExists, match="already exists with other content") as refused:
        publish(staging, target)
    assert "tampering" not in str(refused.value)


def test_retention_logs_that_a_release_it_deletes_was_altered(held, world):
    sample = only(held, "sample")
    (sample / "quarter.parquet").unlink()
    outcomes = apply(held, world["root"], dt.date(2021, 1, 1))  # past the sample's deadline
    (deleted,) = (o for o in outcomes if o.step.action == "delete")
    assert not sample.exists()
    assert deleted.detail.startswith("altered since it was published (tampering)")
    assert "quarter.parquet is missing" in deleted.detail
    (entry,) = (e for e in audit_read.read(held.audit_log) if e["event"] == "deletion")
    assert entry["altered"] == deleted.detail
    assert audit_read.verify_chain(held.audit_log) == []


def test_retention_says_nothing_of_tampering_when_a_release_is_intact(held, world):
    outcomes = apply(held, world["root"], dt.date(2021, 1, 1))
    (deleted,) = (o for o in outcomes if o.step.action == "delete")
    assert deleted.detail == ""
    (entry,) = (e for e in audit_read.read(held.audit_log) if e["event"] == "deletion")
    assert "altered" not in entry


def test_an_added_file_named_with_a_long_number_is_not_named(tmp_path):
    folder = _folder_with_manifest(tmp_path / "p" / "release", b"published")
    number = "".join(str(d % 10) for d in range(3, 14))  # 11 digits, as an INSZ has
    (folder / f"{number}.csv").write_text("x\n")
    (problem,) = alterations(folder)
    assert number not in problem and problem.startswith("a file whose name holds a number")


def test_verify_finds_a_logged_release_removed_outside_retention(held):
    sample = only(held, "sample")
    shutil.rmtree(sample)
    code, lines = rex_verify()
    assert code == 1
    # named as the log recorded it (the world's folder, of which `held` is a copy)
    (line,) = (line for line in lines if line.split(":")[0].endswith(f"/{sample.name}"))
    assert "not on disk and no deletion of it is logged" in line


def test_verify_accepts_a_logged_release_that_retention_deleted(held):
    sample = only(held, "sample")
    shutil.rmtree(sample)
    audit.append(held.audit_log, "deletion", target=str(sample), reason="past its deadline")
    code, lines = rex_verify()
    assert code == 0, lines


# --- the manifests' witness of the audit log (issue 28) ------------------------------------------


def rex_audit_verify_against(*manifests) -> tuple[int, str]:
    arguments = ["audit", "verify"] + [f"--against={m}" for m in manifests]
    result = CliRunner().invoke(app, arguments)
    return result.exit_code, result.output


def test_audit_verify_against_the_published_manifests_passes(held):
    manifests = [only(held, mode) / "manifest.json" for mode in ("sample", "onprem")]
    code, output = rex_audit_verify_against(*manifests)
    assert code == 0, output
    for manifest in manifests:
        assert f"{manifest}: the log holds its head and its release entry" in output
    assert "intact" in output


def test_a_log_cut_back_before_a_release_passes_its_chain_but_not_the_manifest(held):
    # the release published last, whose head has entries before it
    manifest = max(
        (f / "manifest.json" for f in verify.folders(held) if (f / "manifest.json").is_file()),
        key=lambda m: json.loads(m.read_text()).get("audit_head", {}).get("seq", 0),
    )
    head = json.loads(manifest.read_text())["audit_head"]
    assert head["seq"] > 1
    log = held.audit_log
    lines = log.path.read_text().splitlines()
    # cut back to before the manifest's head, with the head the chain itself vouches for (the
    # digest the cut-off entry carried of its predecessor): the chain alone cannot see it
    kept = lines[: head["seq"] - 1]
    log.path.write_text("\n".join(kept) + "\n")
    digest = json.loads(lines[head["seq"] - 1])["prev"]
    size = log.path.stat().st_size
    record = {"seq": head["seq"] - 1, "digest": digest, "size": size}
    audit_files.head_path(log.path).write_text(json.dumps(record) + "\n")
    assert audit_read.verify_chain(log) == []
    code, output = rex_audit_verify_against(manifest)
    assert code == 1
    assert (
        f"{manifest}: the log no longer holds the head this manifest states: the log has no "
        f"entry {head['seq']} in audit.jsonl (cut back before it)"
    ) in output.replace("\n", " ")


def test_a_log_whose_release_entry_was_removed_fails_against_its_manifest(held):
    manifest = only(held, "sample") / "manifest.json"
    digest = sha256_file(manifest)
    log = held.audit_log
    lines = [line for line in log.path.read_text().splitlines() if digest not in line]
    log.path.write_text("\n".join(lines) + "\n")
    code, output = rex_audit_verify_against(manifest)
    assert code == 1
    assert f"{manifest}: the log has no release entry with this manifest's sha256" in output
    assert "was edited" in output or "missing before this line" in output  # the chain says too


def test_a_manifest_without_an_audit_head_cannot_be_checked_against(held, tmp_path):
    older = tmp_path / "manifest.json"
    document = json.loads((only(held, "sample") / "manifest.json").read_text())
    del document["audit_head"]
    older.write_text(json.dumps(document))
    code, output = rex_audit_verify_against(older)
    assert code == 1 and "states no audit_head" in output


def test_audit_verify_help_says_what_against_checks():
    result = CliRunner().invoke(app, ["audit", "verify", "--help"])
    assert result.exit_code == 0
    assert "--against" in result.output and "audit_head" in result.output
