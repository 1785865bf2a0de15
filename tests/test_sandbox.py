"""The researcher's code in the sandbox, attacked as a hostile researcher would (issue table of
`rex analyse run`): each attempt is made by code run through the analysis flow, which writes
what it got into its outputs; the tests read rex's copy of that record and assert that nothing
was reached, nothing outlived the run and nothing of rex's was changed."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest
import yaml

from flows.analysis import sandbox
from flows.analysis.run import analysis_run
from flows.release.files import alterations
from flows.runtime.settings import Paths
from flows.stores import audit_read
from flows.stores.keys import load_key
from tests.conftest import WORLD_AS_OF
from tests.reviewers import Accounts

# Tries everything the table lists and records, per attempt, what it got ("" for nothing).
HOSTILE = """
import json, os, socket, sys, time, urllib.request
from pathlib import Path

import polars as pl
from researcher import outputs

targets = json.loads(TARGETS)
out = Path(os.environ["REX_OUTPUT"])
workspace = Path(os.environ["REX_RELEASE"])
got = {}

def attempt(name, action):
    try:
        got[name] = str(action())
    except Exception as error:
        got[name] = ""
        got[name + ".error"] = type(error).__name__

def environments():
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found.append((entry / "environ").read_bytes().decode(errors="replace"))
            except OSError:
                pass
    return "".join(e for e in found if "REX_KEY_STORE" in e or "REX_DATA_DIR" in e)

attempt("environment", environments)
attempt("parent_environment", lambda: Path(f"/proc/{os.getppid()}/environ").read_bytes())
attempt("key", lambda: Path(targets["key"]).read_text())
attempt("source_store", lambda: sorted(os.listdir(targets["sources"])))
attempt("audit_read", lambda: Path(targets["audit"]).read_text())
attempt("audit_write", lambda: Path(targets["audit"]).open("a").write("{}\\n"))
attempt("roster_write", lambda: Path(targets["roster"]).write_text("staff: {}\\n"))
attempt("other_run", lambda: Path(targets["other_run"]).read_text())
attempt("data_folder", lambda: sorted(os.listdir(targets["data"])))
attempt("prefect", lambda: urllib.request.urlopen(targets["prefect"], timeout=2).status)
attempt("loopback", lambda: socket.create_connection(("127.0.0.1", targets["port"]), 2))
attempt("outside_outputs", lambda: (out / ".." / "x").write_text("x"))
attempt("code_copy", lambda: Path(sys.argv[0]).write_text("print('other code')"))
attempt("workspace_write", lambda: (workspace / "planted.txt").write_text("x"))
attempt("workspace_chmod", lambda: os.chmod(workspace / "manifest.json", 0o666))
attempt("workspace_edit", lambda: (workspace / "manifest.json").open("a").write(" "))
attempt("processes", lambda: sorted(p.name for p in Path("/proc").iterdir() if p.name.isdigit()))
attempt("uid", os.getuid)

# a link to the key, and a record that calls it a plot
os.symlink(targets["key"], out / "figure.png")
(out / outputs.REQUESTS).mkdir(exist_ok=True)
(out / outputs.REQUESTS / "figure.png.json").write_text(json.dumps({"kind": "plot"}))

# a process that leaves the run's session and group, to write after the checks
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(3)
        (out / "late.txt").write_text("written after the run")
        Path(targets["published_marker"]).write_text("planted")
        os._exit(0)
    os._exit(0)

people = pl.scan_parquet(workspace / "persons.parquet")
outputs.save_table(outputs.count_table(people, ["in_sample"]), "marks")
(out / "attempts.json").write_text(json.dumps(got))
"""


@pytest.fixture(scope="module")
def attack(world, tmp_path_factory):
    """One run of the hostile code, with the places it aims at."""
    from prefect.settings import PREFECT_API_URL

    root = tmp_path_factory.mktemp("attack")
    paths = Paths(data=root / "data", key_store=world["paths"].key_store)
    paths.data.mkdir()
    (paths.data / "onprem").symlink_to(world["paths"].onprem)
    other_run = paths.analysis_runs / "e2e" / "earlierrun" / "outputs" / "pseudonyms.txt"
    other_run.parent.mkdir(parents=True)
    other_run.write_text("withheld")
    paths.roster.parent.mkdir(parents=True)
    url = PREFECT_API_URL.value()
    targets = {
        "key": str(world["paths"].key_store / "e2e.key"),
        "sources": str(world["store"]),
        "audit": str(paths.audit_log),
        "roster": str(paths.roster),
        "other_run": str(other_run),
        "data": str(paths.data),
        "prefect": f"{url}/health",
        "port": int(url.split(":")[-1].split("/")[0]),
        "published_marker": str(paths.releases / "planted.txt"),
    }
    code = root / "hostile.py"
    code.write_text(f"TARGETS = {json.dumps(json.dumps(targets))}\n" + textwrap.dedent(HOSTILE))
    result = analysis_run(world["spec"], WORLD_AS_OF, code, paths)
    attempts = json.loads((result.run_folder / "outputs" / "attempts.json").read_text())
    time.sleep(4)  # longer than the process that left its session waits before it writes
    roster_after_run = paths.roster.exists()  # the code's try at writing it
    with pytest.MonkeyPatch.context() as patched:  # two reviewers release what passed
        published = Accounts(patched, paths, {}).sign_off(result, world["spec"].parent).folder
    return dict(
        result=result,
        attempts=attempts,
        paths=paths,
        targets=targets,
        code=code,
        published=published,
        roster_after_run=roster_after_run,
    )


def _published_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_the_code_runs_as_an_unprivileged_account_and_sees_only_its_own_processes(attack):
    attempts = attack["attempts"]
    assert attempts["uid"] == str(sandbox.DEFAULT_SANDBOX_UID)
    assert json.loads(attempts["processes"].replace("'", '"')) == ["1", "2"]


def test_rexs_environment_and_the_key_are_out_of_reach(attack, world):
    attempts = attack["attempts"]
    assert attempts["environment"] == "" and attempts["parent_environment"] == ""
    assert attempts["key"] == "" and attempts["key.error"] == "FileNotFoundError"
    key = load_key(world["paths"].key_store, "e2e").hex()
    assert key.encode() not in _published_bytes(attack["published"])


def test_a_link_to_the_key_is_not_taken_and_nothing_is_published_for_it(attack, world):
    result = attack["result"]
    assert not (result.run_folder / "outputs" / "figure.png").exists()
    # its forged declaration is not one rex's API writes: nothing of it is taken
    assert all(
        c.outcome == "withheld" and not c.computed for c in result.checks if c.name == "figure.png"
    )
    assert not (attack["published"] / "figure.png").exists()
    report = json.loads((result.run_folder / "run.json").read_text())
    assert report["not_taken"] == {"not a regular file (a link, a device, a pipe or a socket)": 1}


def test_the_source_store_the_data_folder_and_other_runs_are_out_of_reach(attack):
    attempts = attack["attempts"]
    for name in ("source_store", "data_folder", "other_run", "audit_read"):
        assert attempts[name] == "", name
        assert attempts[f"{name}.error"] == "FileNotFoundError", name


def test_the_audit_log_and_the_roster_cannot_be_written(attack):
    attempts, paths = attack["attempts"], attack["paths"]
    assert attempts["audit_write"] == attempts["roster_write"] == ""
    assert not attack["roster_after_run"]
    entries = audit_read.read(paths.audit_log)
    # the run's entries, then the reviewers' (every passing output approved by two, released)
    assert [e["event"] for e in entries][:2] == ["request", "checked"]
    assert [e["event"] for e in entries][-2:] == ["request", "release"]
    assert audit_read.verify(paths.audit_log) == []


def test_no_network_reaches_prefect_or_anything_on_the_loopback(attack):
    attempts = attack["attempts"]
    assert attempts["prefect"] == "" and attempts["loopback"] == ""
    assert attempts["loopback.error"] == "ConnectionRefusedError"


def test_nothing_the_code_started_outlives_the_run_or_writes_after_the_checks(attack):
    result = attack["result"]
    assert not Path(attack["targets"]["published_marker"]).exists()
    assert not (result.run_folder / "outputs" / "late.txt").exists()
    assert not (result.run_folder / "written").exists()  # the code's folder is gone
    assert alterations(attack["published"]) == []
    survivors = [
        p
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and _owner(p) == sandbox.DEFAULT_SANDBOX_UID
    ]
    assert survivors == []


def _owner(process: Path) -> int | None:
    try:
        return process.stat().st_uid
    except OSError:
        return None


def test_the_code_writes_nothing_outside_its_outputs_and_cannot_change_the_copy_that_ran(attack):
    attempts, result = attack["attempts"], attack["result"]
    assert attempts["outside_outputs"] == "" and attempts["code_copy"] == ""
    kept = result.run_folder / "code.py"
    assert kept.read_bytes() == attack["code"].read_bytes()
    (checked,) = [e for e in audit_read.read(attack["paths"].audit_log) if e["event"] == "checked"]
    logged = checked["code"]["sha256"]
    from flows.release.files import sha256_file

    assert sha256_file(kept) == logged


def test_the_workspace_is_mounted_read_only(attack, world):
    attempts = attack["attempts"]
    for name in ("workspace_write", "workspace_chmod", "workspace_edit"):
        # a read-only mount (OSError: EROFS) or a folder the account may not write
        assert attempts[name] == "", name
        assert attempts[f"{name}.error"] in {"OSError", "PermissionError"}, name
    assert alterations(world["onprem"].folder) == []
    assert attack["result"].failure is None  # the run itself went on, and its table came out
    (marks,) = [c for c in attack["result"].checks if c.name == "marks.csv"]
    assert (attack["published"] / marks.released_name).is_file()


def _spec(world, folder: Path, **analysis) -> Path:
    document = yaml.safe_load(world["spec"].read_text())
    document["modes"]["onprem"]["analysis"].update(analysis)
    path = folder / "limited.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _run_paths(world, folder: Path) -> Paths:
    paths = Paths(data=folder / "data", key_store=world["paths"].key_store)
    paths.data.mkdir()
    (paths.data / "onprem").symlink_to(world["paths"].onprem)
    return paths


def test_forks_and_file_sizes_stop_at_the_runs_limits(world, tmp_path):
    spec = _spec(world, tmp_path, process_limit=32, output_limit_mib=8)
    code = tmp_path / "forks.py"
    code.write_text(
        textwrap.dedent(
            """
            import json, os, time
            from pathlib import Path
            out = Path(os.environ["REX_OUTPUT"])
            forked, refused = 0, ""
            try:
                for _ in range(200):
                    if os.fork() == 0:
                        time.sleep(20)
                        os._exit(0)
                    forked += 1
            except OSError as error:
                refused = type(error).__name__
            try:
                with open(out / "sparse.bin", "wb") as handle:
                    handle.seek(64 << 30)
                    handle.write(b"x")
                big = ""
            except OSError as error:
                big = error.strerror
            (out / "limits.json").write_text(json.dumps([forked, refused, big]))
            """
        )
    )
    started = time.monotonic()
    result = analysis_run(spec, WORLD_AS_OF, code, _run_paths(world, tmp_path))
    forked, refused, big = json.loads((result.run_folder / "outputs" / "limits.json").read_text())
    assert forked < 32 and refused == "BlockingIOError"
    assert big == "File too large"
    # the 20-second sleepers died with the run's PID namespace
    assert time.monotonic() - started < 20
    assert result.failure is None


def test_outputs_past_their_limits_stop_the_run_and_what_was_written_is_still_reported(
    world, tmp_path
):
    spec = _spec(world, tmp_path, output_file_limit=20)
    code = tmp_path / "files.py"
    code.write_text(
        textwrap.dedent(
            """
            import os, time
            from pathlib import Path
            out = Path(os.environ["REX_OUTPUT"])
            (out / "early.txt").write_text("an output written first")
            for number in range(100000):
                (out / f"f{number}.txt").write_text("x")
            time.sleep(30)
            """
        )
    )
    paths = _run_paths(world, tmp_path)
    result = analysis_run(spec, WORLD_AS_OF, code, paths)
    assert result.failure is not None
    assert "more than 20 files and folders" in result.failure
    assert result.seconds < 25
    record = json.loads((result.run_folder / "run.json").read_text())
    assert "early.txt" in {o["name"] for o in record["outputs"]}  # checked, withheld, not lost
    assert len(record["outputs"]) <= 20
    assert audit_read.read(paths.audit_log)[-1]["event"] == "failure"


def test_what_the_code_prints_is_kept_up_to_a_cap(world, tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "STREAM_BYTES", 1000)
    code = tmp_path / "loud.py"
    code.write_text("print('x' * 100000)\n")
    result = analysis_run(world["spec"], WORLD_AS_OF, code, _run_paths(world, tmp_path))
    printed = (result.run_folder / "stdout.txt").read_text()
    kept, note = printed.split("\n", 1)
    assert kept == "x" * 1000
    assert note == "[rex: past 1,000 bytes, the rest was dropped]\n"


def test_a_machine_without_bubblewrap_refuses_analysis_runs_and_logs_it(
    world, tmp_path, monkeypatch
):
    monkeypatch.setattr(sandbox, "BWRAP", "bwrap-that-is-not-installed")
    paths = _run_paths(world, tmp_path)
    code = tmp_path / "any.py"
    code.write_text("print('never runs')\n")
    with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
        analysis_run(world["spec"], WORLD_AS_OF, code, paths)
    entries = audit_read.read(paths.audit_log)
    assert [e["event"] for e in entries] == ["request", "refusal"]
    assert "rex never runs them less isolated" in entries[-1]["reason"]
    assert not list(paths.analysis_runs.glob("*/*"))  # nothing ran


def test_an_output_that_changed_after_its_check_and_approval_is_not_released(
    world, tmp_path, monkeypatch
):
    from flows.analysis.run import AnalysisRefused

    paths = _run_paths(world, tmp_path)
    code = tmp_path / "small.py"
    code.write_text(
        textwrap.dedent(
            """
            import os
            from pathlib import Path
            import polars as pl
            out = Path(os.environ["REX_OUTPUT"])
            pl.DataFrame({"group": ["selected"], "persons": [3]}).write_csv(out / "three.csv")
            """
        )
    )
    result = analysis_run(world["spec"], WORLD_AS_OF, code, paths)
    accounts = Accounts(monkeypatch, paths, {})
    accounts.approve(result.run, [1], world["spec"].parent)
    kept = result.run_folder / "checked" / "output-001.csv"
    os.chmod(kept, 0o644)
    ids = pl.read_parquet(world["onprem"].folder / "persons.parquet")["person_id"].head(3)
    kept.write_text("group,persons\n" + "\n".join(f"{i},1" for i in ids) + "\n")
    with pytest.raises(AnalysisRefused, match="changed or is gone since it was checked"):
        accounts.release(result.run, world["spec"].parent)


PROBE = """
import json, os, socket
from pathlib import Path
seen = {"uid": os.getuid(), "processes": sorted(p for p in os.listdir("/proc") if p.isdigit())}
seen["environment"] = sorted(os.environ)
seen["workspace"] = Path("/workspace/panel.txt").read_text()
seen["library"] = Path(LIBRARY).read_text()  # a mount under /tmp, beneath the scratch tmpfs
try:
    Path("/workspace/panel.txt").write_text("changed")
    seen["workspace_write"] = "written"
except OSError as error:
    seen["workspace_write"] = type(error).__name__
try:
    socket.create_connection(("127.0.0.1", 22), 1)
    seen["network"] = "connected"
except OSError as error:
    seen["network"] = type(error).__name__
Path("/outputs/seen.json").write_text(json.dumps(seen))
"""


@pytest.mark.parametrize("as_root", [True, False], ids=["own account", "user namespace"])
def test_the_sandbox_holds_as_root_and_in_a_user_namespace(tmp_path, monkeypatch, as_root):
    """Run by root, the code is dropped to an account of its own; run by another account, rex
    asks for a user namespace (exercised here by root taking that path)."""
    monkeypatch.setattr(sandbox, "runs_as_root", lambda: as_root)
    workspace, outputs = tmp_path / "workspace", tmp_path / "outputs"
    workspace.mkdir(mode=0o750)
    outputs.mkdir()
    (workspace / "panel.txt").write_text("rows")
    library = tmp_path / "library"  # under /tmp, as a Python environment may be
    library.mkdir()
    (library / "module.py").write_text("x = 1\n")
    code = tmp_path / "probe.py"
    code.write_text(f"LIBRARY = {str(library / 'module.py')!r}\n" + PROBE)
    mounts = sandbox.Mounts(
        workspace, outputs, ((code, f"{sandbox.CODE}/code.py"), (library, str(library)))
    )
    limits = sandbox.Limits(60, 2 << 30, 64, 1 << 20, 10)
    ended = sandbox.run(
        [sys.executable, f"{sandbox.CODE}/code.py"],
        mounts,
        limits,
        {},
        tmp_path / "stdout.txt",
        tmp_path / "stderr.txt",
    )
    assert ended.returncode == 0, (tmp_path / "stderr.txt").read_text()
    seen = json.loads((outputs / "seen.json").read_text())
    assert seen["uid"] == sandbox.DEFAULT_SANDBOX_UID
    assert seen["processes"] == ["1", "2"]
    assert seen["workspace"] == "rows" and seen["workspace_write"] == "OSError"
    assert seen["library"] == "x = 1\n"
    assert seen["network"] == "ConnectionRefusedError"
    # bubblewrap adds PWD (its --chdir); Python may add LC_CTYPE (its locale coercion)
    assert set(seen["environment"]) <= set(sandbox.environment({})) | {"PWD", "LC_CTYPE"}
    assert (workspace / "panel.txt").read_text() == "rows"


def test_a_full_disk_while_rex_takes_the_outputs_publishes_nothing_and_logs_a_failure(
    world, tmp_path, monkeypatch
):
    import errno

    from flows.analysis import child
    from flows.analysis.run import AnalysisFailed

    copied = child._copy_regular
    calls = []

    def disk_full_at_the_second_file(source, target):
        calls.append(source.name)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return copied(source, target)

    code = tmp_path / "two.py"
    code.write_text(
        "import os\nfrom pathlib import Path\nout = Path(os.environ['REX_OUTPUT'])\n"
        "(out / 'a.txt').write_text('a')\n(out / 'b.txt').write_text('b')\n"
    )
    paths = _run_paths(world, tmp_path)
    monkeypatch.setattr(child, "_copy_regular", disk_full_at_the_second_file)
    with pytest.raises(AnalysisFailed):
        analysis_run(world["spec"], WORLD_AS_OF, code, paths)
    assert [e["event"] for e in audit_read.read(paths.audit_log)] == ["request", "failure"]
    assert not paths.releases.exists() or not list(paths.releases.rglob("*_outputs_*"))
    (run_folder,) = [p.parent for p in paths.analysis_runs.glob("*/*/run.json")]
    record = json.loads((run_folder / "run.json").read_text())
    assert record["outputs"] == []  # nothing was checked, so nothing can be released later
