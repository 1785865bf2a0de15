"""Analysis runs on the on-premise workspace, end to end: a disclosive script gets nothing
person-level out and quotes nothing anywhere but its run's folder; a passing table comes out
as written; refusals, limits and a steward's release are logged."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import textwrap
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from flows import analyse, audit
from flows.access import login
from flows.analyse import AnalysisFailed, AnalysisRefused, analysis_run, release_withheld
from flows.export import AuthorisationError
from flows.output_checking import RELEASED, RELEASED_CHANGED, WITHHELD
from flows.settings import Paths
from tests.conftest import WORLD_AS_OF

STEWARD_ROLE = "data steward, KSZ"

DISCLOSIVE = """
import os
from pathlib import Path

import matplotlib.pyplot as plt
import polars as pl

from researcher import outputs

workspace = Path(os.environ["REX_RELEASE"])
out = Path(os.environ["REX_OUTPUT"])
quarter = pl.read_parquet(workspace / "quarter.parquet")
month = pl.read_parquet(workspace / "month.parquet")
people = quarter.select("person_id", "sex", "birth_date").unique("person_id").sort("person_id")
print(people.head(40))  # rows of persons, to the run's own stdout

# person-level rows, and a list of pseudonyms
people.head(50).write_parquet(out / "person_rows.parquet")
(out / "pseudonyms.txt").write_text("\\n".join(people["person_id"].head(30)) + "\\n")

# a table whose only cell is 3 persons
three = people.head(3).with_columns(pl.lit("selected").alias("group"))
outputs.save_table(outputs.count_table(three, ["group"]), "three_persons")

# a mean dominated by one person: 14 small wages and one enormous one
wages = people.head(15).with_columns(
    pl.lit("all").alias("group"),
    pl.when(pl.int_range(pl.len()) == 0).then(1e9).otherwise(100.0).alias("wage"),
)
outputs.save_table(outputs.magnitude_table(wages, ["group"], "wage", "mean"), "dominated_mean")

# one person's trajectory, plotted from the panel
one = month.filter(pl.col("person_id") == people["person_id"][0]).sort("month")
figure, axis = plt.subplots()
axis.plot(range(one.height), one["socio_economic_position"].cast(pl.Int64, strict=False))
figure.savefig(out / "one_person.png")

# tables that pass: persons by sex, and by a group of which one cell is 4 persons
outputs.save_table(outputs.count_table(people, ["sex"]), "persons_by_sex")
grouped = people.with_columns(
    pl.when(pl.int_range(pl.len()) < 4).then(pl.lit("rare")).otherwise(pl.lit("common"))
    .alias("group")
)
outputs.save_table(outputs.count_table(grouped, ["group"]), "persons_by_group")
"""


def _variant(world, folder: Path, name: str, **analysis) -> Path:
    """The world's spec with its analysis block changed (None: removed), same workspace."""
    document = yaml.safe_load(world["spec"].read_text())
    document.update(analysis.pop("spec", {}))
    onprem = document["modes"]["onprem"]
    if analysis.pop("absent", False):
        onprem.pop("analysis")
    else:
        checks = analysis.pop("output_checks", {})
        onprem["analysis"].update(analysis)
        onprem["analysis"]["output_checks"].update(checks)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.fixture
def run_paths(world, tmp_path) -> Paths:
    """A data folder of its own (log, runs, outputs) that sees the world's workspace."""
    paths = Paths(data=tmp_path / "data", key_store=world["paths"].key_store)
    paths.data.mkdir()
    (paths.data / "onprem").symlink_to(world["paths"].onprem)
    return paths


def _script(folder: Path, text: str, name: str = "analysis.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def _outcomes(result) -> dict[str, tuple[str, str]]:
    return {c.name: (c.outcome, c.reason) for c in result.checks}


@pytest.fixture
def disclosive_run(world, run_paths, tmp_path, capfd):
    spec = _variant(world, tmp_path, "unrounded", output_checks={"round_counts_to": 1})
    result = analysis_run(spec, WORLD_AS_OF, _script(tmp_path, DISCLOSIVE), run_paths)
    captured = capfd.readouterr()
    return result, captured.out + captured.err


def _pseudonyms(world) -> list[str]:
    workspace = world["onprem"].folder
    people = pl.read_parquet(workspace / "quarter.parquet", columns=["person_id"]).unique()
    return people.sort("person_id")["person_id"].head(50).to_list()


def test_each_disclosive_output_is_withheld_with_its_reason(disclosive_run):
    result, _ = disclosive_run
    outcomes = _outcomes(result)
    assert outcomes["person_rows.parquet"][0] == WITHHELD
    assert "person-level" in outcomes["person_rows.parquet"][1]
    assert "column 'person_id'" in outcomes["person_rows.parquet"][1]
    assert outcomes["pseudonyms.txt"] == (
        WITHHELD,
        "person-level: it names persons of the workspace (30 pseudonyms in its text)",
    )
    assert outcomes["three_persons.csv"] == (
        WITHHELD,
        "every count cell is suppressed (1 fewer persons than the threshold)",
    )
    assert outcomes["dominated_mean.csv"][0] == WITHHELD
    assert "dominated by its largest contributors" in outcomes["dominated_mean.csv"][1]
    assert outcomes["one_person.png"][0] == WITHHELD
    assert outcomes["one_person.png"][1].startswith("unchecked: not written with rex's")
    published = sorted(p.name for p in result.published.iterdir())
    assert published == [
        "checking_report.json",
        "checking_report.md",
        "manifest.json",
        "persons_by_group.csv",
        "persons_by_sex.csv",
    ]


def test_a_passing_table_comes_out_byte_identical_with_its_report(disclosive_run):
    result, _ = disclosive_run
    written = result.run_folder / "outputs" / "persons_by_sex.csv"
    assert _outcomes(result)["persons_by_sex.csv"] == (RELEASED, "every cell passes")
    assert (result.published / "persons_by_sex.csv").read_bytes() == written.read_bytes()
    report = json.loads((result.published / "checking_report.json").read_text())
    assert {o["file"]: o["outcome"] for o in report["outputs"]}["persons_by_sex.csv"] == RELEASED
    manifest = json.loads((result.published / "manifest.json").read_text())
    assert set(manifest["files"]) == {
        "checking_report.json",
        "checking_report.md",
        "persons_by_group.csv",
        "persons_by_sex.csv",
    }


def test_only_the_suppressed_cells_of_a_table_change_and_the_file_says_which(disclosive_run):
    result, _ = disclosive_run
    assert _outcomes(result)["persons_by_group.csv"][0] == RELEASED_CHANGED
    written = pl.read_csv(result.run_folder / "outputs" / "persons_by_group.csv")
    released = pl.read_csv(result.published / "persons_by_group.csv")
    assert released.columns == ["group", "persons", "persons_check"]
    joined = written.join(released, on="group", suffix="_released")
    assert (
        joined.filter(pl.col("group") == "common")
        .select(pl.col("persons") == pl.col("persons_released"))
        .item()
    )
    rare = joined.filter(pl.col("group") == "rare").row(0, named=True)
    assert rare["persons"] == 4 and rare["persons_released"] is None
    # the released column does not say which rule suppressed a cell (an empty cell would show)
    assert rare["persons_check"] == "suppressed"


def test_nothing_the_disclosive_script_printed_or_wrote_leaves_its_run_folder(
    world, disclosive_run, run_paths
):
    from prefect.client.orchestration import get_client

    result, terminal = disclosive_run
    pseudonyms = _pseudonyms(world)
    printed = (result.run_folder / "stdout.txt").read_text()
    assert any(p in printed for p in pseudonyms)  # the script did quote them, inside
    log = run_paths.audit_log.read_text()
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(limit=200) + client.read_task_runs(limit=200)
        logs = client.read_logs(limit=200)
    recorded = "\n".join(r.model_dump_json() for r in [*runs, *logs])
    published = "\n".join(
        p.read_bytes().decode("latin-1") for p in result.published.iterdir() if p.is_file()
    )
    for place, text in (("terminal", terminal), ("audit log", log), ("Prefect", recorded)):
        assert not [p for p in pseudonyms if p in text], place
    assert not [p for p in pseudonyms if p in published]


def test_the_run_is_logged_with_its_code_workspace_and_outcomes(disclosive_run, run_paths):
    result, _ = disclosive_run
    entries = audit.read(run_paths.audit_log)
    assert [e["event"] for e in entries] == ["request", "release"]
    release = entries[1]
    assert release["run"] == entries[0]["run"] == result.run
    assert release["code"]["file"] == "analysis.py" and len(release["code"]["sha256"]) == 64
    assert release["workspace"] == "18-088_onprem_2020-06-30"
    assert release["released"] == ["persons_by_group.csv", "persons_by_sex.csv"]
    assert set(release["withheld"]) == {
        "dominated_mean.csv",
        "one_person.png",
        "person_rows.parquet",
        "pseudonyms.txt",
        "three_persons.csv",
    }
    assert audit.verify(run_paths.audit_log) == []


def test_a_steward_releases_a_withheld_table_with_a_reason_but_never_person_level_output(
    disclosive_run, run_paths, tmp_path
):
    from flows.review import review

    result, _ = disclosive_run
    run_paths.roster.parent.mkdir(parents=True)
    run_paths.roster.write_text(yaml.safe_dump({"staff": {login(): {"roles": [STEWARD_ROLE]}}}))
    os.chmod(run_paths.roster, 0o644)
    specs_dir = tmp_path  # where the run's spec (the test's variant) lies
    with pytest.raises(AnalysisRefused, match="person-level output, which is never released"):
        release_withheld(run_paths, result.run, "pseudonyms.txt", "asked for", specs_dir)
    target = release_withheld(
        run_paths, result.run, "three_persons.csv", "the 3 persons agreed in writing", specs_dir
    )
    assert (target / "three_persons.csv").read_bytes() == (
        result.run_folder / "outputs" / "three_persons.csv"
    ).read_bytes()
    entries = audit.read(run_paths.audit_log)
    assert [e["event"] for e in entries][-4:] == ["request", "refusal", "request", "release"]
    assert entries[-1]["release_reason"] == "the 3 persons agreed in writing"
    assert entries[-1]["steward_release"] == "three_persons.csv"
    total, findings = review(run_paths.audit_log, specs_dir, 10, dt.date(2021, 1, 1), seed=1)
    assert total == 2 and all(f.ok for f in findings), findings
    assert [" ".join(f.notes) for f in findings][-1].startswith(
        "withheld analysis output 'three_persons.csv' released by a steward: the 3 persons"
    )


def test_a_steward_role_is_needed_to_release_a_withheld_output(disclosive_run, run_paths, tmp_path):
    result, _ = disclosive_run
    with pytest.raises(AnalysisRefused, match="holds none of the roles"):
        release_withheld(run_paths, result.run, "three_persons.csv", "why not", tmp_path)
    assert audit.read(run_paths.audit_log)[-1]["event"] == "refusal"


def test_a_spec_without_analysis_runs_is_refused_and_logged(world, run_paths, tmp_path):
    spec = _variant(world, tmp_path, "no-analysis", absent=True)
    with pytest.raises(AnalysisRefused, match="allows no analysis runs"):
        analysis_run(spec, WORLD_AS_OF, _script(tmp_path, "print(1)\n"), run_paths)
    entries = audit.read(run_paths.audit_log)
    assert [e["event"] for e in entries] == ["request", "refusal"]
    assert not run_paths.analysis_runs.exists()


def test_only_the_specs_operators_run_analyses(world, run_paths, tmp_path):
    spec = _variant(world, tmp_path, "operators", spec={"operators": ["someone-else"]})
    with pytest.raises(AuthorisationError, match="is not an operator"):
        analysis_run(spec, WORLD_AS_OF, _script(tmp_path, "print(1)\n"), run_paths)
    assert audit.read(run_paths.audit_log)[-1]["event"] == "refusal"


def test_a_run_past_its_time_limit_is_stopped_and_its_outputs_withheld(world, run_paths, tmp_path):
    spec = _variant(world, tmp_path, "short", time_limit_minutes=0.05)
    code = _script(
        tmp_path,
        """
        import os, time
        from pathlib import Path
        import polars as pl
        out = Path(os.environ["REX_OUTPUT"])
        ids = pl.read_parquet(Path(os.environ["REX_RELEASE"]) / "persons.parquet")["person_id"]
        (out / "early.txt").write_text("written before the limit")
        (out / "listed.txt").write_text("\\n".join(ids.head(5)))
        time.sleep(60)
        """,
    )
    result = analysis_run(spec, WORLD_AS_OF, code, run_paths)
    assert result.failure == "the code was stopped at the run's time limit"
    assert result.seconds < 30 and result.published is None
    outcomes = _outcomes(result)
    assert outcomes["early.txt"] == (WITHHELD, f"the run failed: {result.failure}")
    assert outcomes["listed.txt"][1].startswith("person-level")  # still never releasable
    assert audit.read(run_paths.audit_log)[-1]["event"] == "failure"


def test_a_run_over_its_memory_limit_fails_and_its_outputs_are_withheld(world, run_paths, tmp_path):
    spec = _variant(world, tmp_path, "small", memory_limit_gib=0.5)
    code = _script(tmp_path, "block = bytearray(2 << 30)\n")
    result = analysis_run(spec, WORLD_AS_OF, code, run_paths)
    assert result.failure is not None and "exited with status 1" in result.failure
    assert "MemoryError" in (result.run_folder / "stderr.txt").read_text()


def test_analyse_commands_have_help():
    from flows.cli import app

    for command in (
        ["analyse", "--help"],
        ["analyse", "run", "--help"],
        ["analyse", "release", "--help"],
    ):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0, result.output


def test_a_runs_folder_and_its_outputs_fall_under_the_specs_retention(
    disclosive_run, run_paths, tmp_path
):
    from flows.retention import retention_plan

    result, _ = disclosive_run
    before = {s.target for s in retention_plan(run_paths, tmp_path, dt.date(2021, 12, 31))}
    after = {s.target for s in retention_plan(run_paths, tmp_path, dt.date(2022, 1, 1))}
    assert str(result.run_folder) not in before and str(result.published) not in before
    assert {str(result.run_folder), str(result.published)} <= after


BAROMETER_TABLES = [
    "inflow_by_year_sex_age.csv",
    "inflow_by_year_sex.csv",
    "invalidity_on_31_december.csv",
    "mean_duration_by_start_year.csv",
    "median_duration_by_start_year_sex.csv",
    "mean_entry_benefit_by_sex_age.csv",
    "trajectories.csv",
]


def test_the_barometer_runs_on_premise_and_its_tables_leave_checked(world, run_paths):
    from flows.settings import REPO_ROOT

    code = REPO_ROOT / "notebooks" / "barometer_onprem.py"
    result = analysis_run(world["spec"], WORLD_AS_OF, code, run_paths)
    assert result.failure is None, result.failure
    outcomes = _outcomes(result)
    assert set(BAROMETER_TABLES) <= set(outcomes)
    # every table is checked: none leaves unchecked or person-level
    assert all(
        not reason.startswith(("unchecked", "person-level")) for _, reason in outcomes.values()
    )
    released = {name for name, (outcome, _) in outcomes.items() if outcome != WITHHELD}
    assert released and released <= {p.name for p in result.published.iterdir()}
    invalidity = pl.read_csv(result.published / "invalidity_on_31_december.csv")
    assert {"year", "sex", "in_invalidity"} <= set(invalidity.columns)


def test_a_full_disk_while_publishing_outputs_publishes_nothing_and_leaves_nothing(
    world, run_paths, tmp_path, monkeypatch
):
    written = analyse.write_json
    calls = []

    def disk_full_at_the_manifest(value, path):
        calls.append(path.name)
        if path.name == "manifest.json":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        written(value, path)

    spec = _variant(world, tmp_path, "unrounded", output_checks={"round_counts_to": 1})
    code = _script(tmp_path, DISCLOSIVE)
    monkeypatch.setattr(analyse, "write_json", disk_full_at_the_manifest)
    with pytest.raises(AnalysisFailed):
        analysis_run(spec, WORLD_AS_OF, code, run_paths)
    assert "manifest.json" in calls  # the released files and the report were written first
    releases = run_paths.releases
    assert not [p for p in releases.rglob("*") if "_outputs_" in p.name or p.name.startswith(".")]
    events = [e["event"] for e in audit.read(run_paths.audit_log)]
    assert events[-2:] == ["request", "failure"]
    monkeypatch.undo()
    result = analysis_run(spec, WORLD_AS_OF, code, run_paths)
    assert result.published is not None and (result.published / "manifest.json").exists()
    assert audit.verify_chain(run_paths.audit_log) == []


def test_a_run_that_stops_before_its_end_is_still_found_by_retention(
    world, run_paths, tmp_path, monkeypatch
):
    """The run's record is written before its code runs: a run whose checking fails (or that
    is killed) leaves a folder that retention still deletes by the workspace's deadline."""
    from flows.retention import retention_plan

    def checking_fails(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    code = _script(tmp_path, DISCLOSIVE)
    monkeypatch.setattr(analyse, "check_outputs", checking_fails)
    with pytest.raises(AnalysisFailed):
        analysis_run(world["spec"], WORLD_AS_OF, code, run_paths)
    monkeypatch.undo()
    (run_folder,) = [p.parent for p in run_paths.analysis_runs.glob("*/*/run.json")]
    assert (run_folder / analyse.OUTPUTS).is_dir()  # the code ran and wrote its outputs
    after = {s.target for s in retention_plan(run_paths, tmp_path, dt.date(2022, 1, 1))}
    assert str(run_folder) in after
    # a run being deleted (its tombstone) is not taken for another holding
    tombstone = run_folder.with_name(f".deleting-{run_folder.name}")
    run_folder.rename(tombstone)
    assert not [
        s
        for s in retention_plan(run_paths, tmp_path, dt.date(2022, 1, 1))
        if "deleting" in s.target
    ]


def test_a_full_disk_while_a_steward_releases_an_output_publishes_nothing_and_leaves_nothing(
    disclosive_run, run_paths, tmp_path, monkeypatch
):
    result, _ = disclosive_run
    run_paths.roster.parent.mkdir(parents=True, exist_ok=True)
    run_paths.roster.write_text(yaml.safe_dump({"staff": {login(): {"roles": [STEWARD_ROLE]}}}))
    os.chmod(run_paths.roster, 0o644)
    written = analyse.write_json

    def disk_full_at_the_manifest(value, path):
        if path.name == "manifest.json":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        written(value, path)

    def steward_folders() -> list[Path]:
        return [p for p in run_paths.releases.rglob("*") if "_steward-" in p.name]

    monkeypatch.setattr(analyse, "write_json", disk_full_at_the_manifest)
    with pytest.raises(AnalysisFailed, match="OSError"):
        release_withheld(run_paths, result.run, "three_persons.csv", "agreed", tmp_path)
    monkeypatch.undo()
    assert steward_folders() == []  # neither published nor left as a staging folder
    target = release_withheld(run_paths, result.run, "three_persons.csv", "agreed", tmp_path)
    assert steward_folders() == [target]


ENCODED = """
import base64, os
from pathlib import Path
import polars as pl

out = Path(os.environ["REX_OUTPUT"])
workspace = Path(os.environ["REX_RELEASE"])
ids = pl.read_parquet(workspace / "persons.parquet")["person_id"].head(12).to_list()
born = pl.read_parquet(workspace / "quarter.parquet")["birth_date"].head(12).to_list()

def number(pseudonym):
    return str(int("".join(f"{ord(c) - 97:x}" for c in pseudonym), 16))

(out / "upper.txt").write_text("\\n".join(i.upper() for i in ids))
(out / "reversed.txt").write_text("\\n".join(i[::-1] for i in ids))
(out / "base64.txt").write_text("\\n".join(base64.b64encode(i.encode()).decode() for i in ids))
(out / "hex.txt").write_text("\\n".join(i.encode().hex() for i in ids))
pl.DataFrame({"n": [number(i) for i in ids]}).write_csv(out / "numbers.csv")
pl.DataFrame({"a": [i[:8] for i in ids], "b": [i[8:] for i in ids]}).write_csv(out / "split.csv")
(out / "insz.txt").write_text("85.07.30-033.28\\n")
pl.DataFrame({"born": born, "n": 1}).write_parquet(out / "birth_dates.parquet")
"""


def test_identifiers_in_any_encoding_make_an_output_person_level(world, run_paths, tmp_path):
    result = analysis_run(world["spec"], WORLD_AS_OF, _script(tmp_path, ENCODED), run_paths)
    outcomes = _outcomes(result)
    expected = {
        "upper.txt": "pseudonyms in its text",
        "reversed.txt": "pseudonyms reversed",
        "base64.txt": "pseudonyms in base64",
        "hex.txt": "pseudonyms in hexadecimal",
        "numbers.csv": "pseudonyms as numbers",
        "split.csv": "pseudonyms split across columns",
        "insz.txt": "1 INSZ numbers",
        "birth_dates.parquet": "exact birth dates",
    }
    for name, said in expected.items():
        outcome, reason = outcomes[name]
        assert outcome == WITHHELD and reason.startswith("person-level"), name
        assert said in reason, (name, reason)
    assert result.published is None
    assert all(c.person_level for c in result.checks)  # never releasable by a steward either


def test_an_outputs_manifest_states_the_logs_head_and_the_log_is_checked_against_it(
    disclosive_run, run_paths, monkeypatch
):
    from flows.cli import app
    from flows.release import WITNESS

    result, _ = disclosive_run
    manifest = json.loads((result.published / "manifest.json").read_text())
    request = audit.read(run_paths.audit_log)[0]
    assert manifest[WITNESS]["seq"] == request["seq"]  # the head before its release entry
    monkeypatch.setenv("REX_DATA_DIR", str(run_paths.data))
    monkeypatch.setenv("REX_KEY_STORE", str(run_paths.key_store))
    verified = CliRunner().invoke(
        app, ["audit", "verify", f"--against={result.published / 'manifest.json'}"]
    )
    assert verified.exit_code == 0, verified.output
    assert "the log holds its head and its release entry" in verified.output
