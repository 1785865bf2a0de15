"""Analysis runs on the on-premise workspace, end to end: a disclosive script gets nothing
person-level out and quotes nothing anywhere but its run's folder; what passes its checks comes
out once two reviewers approved it (tests/test_signoff.py tests the sign-off itself); refusals
and limits are logged."""

from __future__ import annotations

import datetime as dt
import errno
import json
import textwrap
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from flows.analysis import run as analyse
from flows.analysis import signoff
from flows.analysis.output_checking import WITHHELD
from flows.analysis.run import AnalysisFailed, AnalysisRefused, analysis_run
from flows.extract.errors import AuthorisationError
from flows.stores import audit_files, audit_read
from tests.conftest import WORLD_AS_OF
from tests.reviewers import accounts, run_paths

__all__ = ["accounts", "run_paths"]  # fixtures

# The issue's table of attacks, as a researcher's code: each output named after its attack.
HOSTILE = """
import json
import os
import zlib
from pathlib import Path

import polars as pl

from researcher import outputs

workspace = Path(os.environ["REX_RELEASE"])
out = Path(os.environ["REX_OUTPUT"])
quarter = pl.scan_parquet(workspace / "quarter.parquet")
people = quarter.group_by("person_id").agg(
    pl.col("sex").first(),
    pl.col("birth_date").first(),
    pl.col("municipality").first(),
    pl.col("gross_wage").max().alias("wage"),
)
rows = people.collect().sort("person_id")
print(rows.head(40))  # rows of persons, to the run's own stdout

# a CSV written by the code, with a declaration of its own saying 100 persons per cell
rows.head(50).write_csv(out / "forged_record.csv")
(out / ".rex-requests").mkdir(exist_ok=True)
(out / ".rex-requests" / "forged_record.csv.json").write_text(
    json.dumps({"format": 1, "kind": "table", "persons": 100, "plan": "{}"})
)
# estimates on residuals, written by the code: values of persons, no identifier
rows.select(pl.col("wage") - pl.col("wage").mean()).write_csv(out / "residuals.csv")

# a figure whose savefig writes the panel, compressed
class Smuggler:
    def savefig(self, path, **_):
        Path(path).write_bytes(zlib.compress(rows.write_csv().encode()))

outputs.save_figure(Smuggler(), "smuggled_plot")

# person records as row labels, padded with one big cell
detail = people.select("person_id", "birth_date", "sex", "municipality", "wage")
padding = people.select(
    "person_id",
    pl.lit(None, dtype=pl.Date).alias("birth_date"),
    pl.lit("X").alias("sex"),
    pl.lit(None, dtype=pl.String).alias("municipality"),
    pl.lit(None, dtype=pl.Float64).alias("wage"),
)
outputs.save_table(
    outputs.count_table(
        pl.concat([detail, padding]), ["birth_date", "sex", "municipality", "wage"]
    ),
    "labels_are_persons",
)
# a 1-euro histogram of wages
outputs.save_table(
    outputs.count_table(people.with_columns(pl.col("wage").floor().alias("bin")), ["bin"]),
    "histogram",
)
# a constant label column holding JSON
secret = json.dumps({"wages": rows["wage"].drop_nulls().head(3).to_list()})
outputs.save_table(
    outputs.count_table(people.with_columns(pl.lit(secret).alias("note")), ["sex", "note"]),
    "json_label",
)
# sums for the men born up to a man's birth date, and up to the day before
men = rows.filter((pl.col("sex") == "M") & pl.col("wage").is_not_null()).sort("birth_date")
born = men["birth_date"][men.height // 2]
for name, kept in (("born_up_to", pl.col("birth_date") <= born),
                   ("born_before", pl.col("birth_date") < born)):
    outputs.save_table(
        outputs.magnitude_table(people.filter(kept), ["sex"], "wage", "sum"),
        name,
    )
# a sum of ones by age band: counts in effect
aged = people.with_columns(
    (2020 - pl.col("birth_date").dt.year()).alias("age"), pl.lit(1.0).alias("one")
)
for name, low in (("band_from_18", 18), ("band_from_19", 19)):
    band = aged.filter(pl.col("age").is_between(low, 64))
    outputs.save_table(outputs.magnitude_table(band, ["sex"], "one", "sum"), name)
# a table with its total row, one of its cells being four persons
two_sexes = pl.col("sex").is_in(["F", "M"])
fourth = rows.filter(two_sexes)["person_id"][3]
grouped = people.filter(two_sexes).with_columns(
    pl.when(pl.col("person_id") <= fourth)
    .then(pl.lit("few"))
    .otherwise(pl.col("sex"))
    .alias("group")
)
with_total = pl.concat([grouped, grouped.with_columns(pl.lit("total").alias("group"))])
outputs.save_table(
    outputs.count_table(with_total, ["group"], levels={"group": ["F", "M", "few", "total"]}),
    "with_total",
)
# OLS with a dummy for one target person
target = rows.filter(pl.col("wage").is_not_null())["person_id"][0]
singled = people.filter(pl.col("wage").is_not_null()).with_columns(
    (pl.col("person_id") == target).cast(pl.Float64).alias("is_target")
)
outputs.save_table(outputs.model(singled, "wage", ["sex", "is_target"]), "dummy_per_person")
# the median, p10 and p90 of one 11-person cell (not split by sex: a split of 10 and 1 would
# leave a 10-person cell whose percentiles fall between two persons' values)
eleven_ids = rows.filter(pl.col("wage").is_not_null())["person_id"].head(11).to_list()
eleven = people.filter(pl.col("person_id").is_in(eleven_ids))
eleven = eleven.with_columns(pl.lit("all").alias("group"))
for statistic in ("median", "p10", "p90"):
    outputs.save_table(
        outputs.magnitude_table(eleven, ["group"], "wage", statistic), f"{statistic}_of_eleven"
    )
# one person's wage broadcast to every person's row, and a constant the code read
target_wage = rows.filter(pl.col("person_id") == target)["wage"].item()
broadcast = people.with_columns(
    pl.col("wage").filter(pl.col("person_id") == target).first().alias("wage")
)
outputs.save_table(outputs.magnitude_table(broadcast, ["sex"], "wage", "mean"), "broadcast")
constant = people.with_columns(pl.lit(target_wage).alias("wage"))
outputs.save_table(outputs.magnitude_table(constant, ["sex"], "wage", "mean"), "constant")
# pseudonyms in other encodings, written by the code
ids = rows["person_id"].head(30)
(out / "ids_upper.txt").write_text("\\n".join(i.upper() for i in ids))
(out / "ids_reversed.txt").write_text("\\n".join(i[::-1] for i in ids))
# a query with Python in it, and one over data of the code's own
udf = people.with_columns(pl.col("wage").map_elements(lambda w: w, return_dtype=pl.Float64))
outputs.save_table(outputs.magnitude_table(udf, ["sex"], "wage", "mean"), "python_in_query")
outputs.save_table(outputs.count_table(rows.lazy(), ["sex"]), "own_data")
# a name made of a birth date, a municipality and a wage
name = f"{rows['birth_date'][0]}_{rows['municipality'][0]}_{int(rows['wage'].drop_nulls()[0])}"
outputs.save_table(outputs.count_table(people, ["sex"]), name)
# tables that pass
outputs.save_table(outputs.count_table(people, ["sex"]), "persons_by_sex")
outputs.save_table(outputs.magnitude_table(people, ["sex"], "wage", "mean"), "mean_wage_by_sex")
"""


PASSING = """
import os
from pathlib import Path

import polars as pl

from researcher import outputs

quarter = pl.scan_parquet(Path(os.environ["REX_RELEASE"]) / "quarter.parquet")
outputs.save_table(outputs.count_table(quarter, ["sex"]), "persons_by_sex")
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


def _script(folder: Path, text: str, name: str = "analysis.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def _outcomes(result) -> dict[str, tuple[str, str]]:
    return {c.name: (c.outcome, c.reason) for c in result.checks}


@pytest.fixture
def disclosive_run(world, run_paths, tmp_path, capfd):
    result = analysis_run(world["spec"], WORLD_AS_OF, _script(tmp_path, HOSTILE), run_paths)
    captured = capfd.readouterr()
    return result, captured.out + captured.err


@pytest.fixture
def signed_off(world, disclosive_run, accounts) -> signoff.Released:
    """The disclosive run's outputs that passed their checks, approved by two reviewers and
    released."""
    return accounts.sign_off(disclosive_run[0], world["spec"].parent)


def _pseudonyms(world) -> list[str]:
    workspace = world["onprem"].folder
    people = pl.read_parquet(workspace / "quarter.parquet", columns=["person_id"]).unique()
    return people.sort("person_id")["person_id"].head(50).to_list()


def _by_name(result) -> dict[str, list]:
    found: dict[str, list] = {}
    for check in result.checks:
        found.setdefault(check.name, []).append(check)
    return found


def test_each_attack_of_the_issue_is_stopped_through_rex_analyse_run(disclosive_run):
    result, _ = disclosive_run
    assert result.failure is None, result.failure
    checks = _by_name(result)

    def one(name):
        (check,) = checks[name]
        return check

    # files the code wrote: never out on the automatic checks, person-level where they name
    assert all(c.outcome == WITHHELD for c in checks["forged_record.csv"])
    assert any(c.person_level for c in checks["forged_record.csv"])
    for name in ("residuals.csv", "smuggled_plot.png"):
        assert one(name).reason.startswith("unchecked: written by the code"), name
    for name in ("ids_upper.txt", "ids_reversed.txt"):
        assert one(name).person_level, name
    # labels: person records and 1-euro bins are person-level, JSON goes to a reviewer
    assert one("labels_are_persons.csv").person_level
    assert one("histogram.csv").person_level
    assert one("json_label.csv").reason.startswith("unchecked: it needs a reviewer")
    assert one("json_label.csv").outcome == WITHHELD
    # the two sums of the men differ by one man: not both leave
    pair = [one("born_up_to.csv"), one("born_before.csv")]
    men_sums = [
        pl.read_csv(c.released).filter(pl.col("sex") == "M")["sum_wage"].drop_nulls().len()
        for c in pair
        if c.released is not None
    ]
    assert sum(men_sums) <= 1
    assert any("disclosure ledger" in " ".join(c.cells) for c in pair)
    # a sum of ones is rounded as a count
    for name in ("band_from_18.csv", "band_from_19.csv"):
        check = one(name)
        if check.released is not None:
            released = pl.read_csv(check.released)
            assert (released["sum_one"].drop_nulls() % 5 == 0).all()
    # the total would give the four persons' cell back: it is suppressed too
    assert one("with_total.csv").released is not None, one("with_total.csv").reason
    total = pl.read_csv(one("with_total.csv").released)
    # the four persons' row is left out with its labels, and the total suppressed
    assert "few" not in total["group"].to_list()
    assert total.filter(pl.col("group") == "total")["persons"].to_list() == [None]
    assert "persons_check" in total.columns
    assert set(total["persons_check"]) == {"", "suppressed"}
    # rex fits the model and sees the dummy singling out one person
    assert one("dummy_per_person.csv").reason.startswith("1 of its predictors single out")
    # a percentile that is one person's value is suppressed
    for statistic in ("median", "p10", "p90"):
        check = one(f"{statistic}_of_eleven.csv")
        assert check.outcome == WITHHELD
        assert "one person's value" in " ".join(check.cells), check.cells
    # one person's value moved into every row: not run; a constant: to a reviewer
    assert "other persons' rows" in one("broadcast.csv").reason
    assert "the same for every person" in one("constant.csv").reason
    assert one("constant.csv").outcome == WITHHELD
    # queries rex will not run
    assert "Python" in one("python_in_query.csv").reason
    assert one("own_data.csv").reason.startswith("unchecked: rex cannot run")
    # what passes is rex's own, rounded
    # what passes is rex's own, rounded: the persons by sex, unless the total above (the four
    # persons left out of its own table) makes them a difference too
    by_sex = one("persons_by_sex.csv")
    if by_sex.released is not None:
        assert (pl.read_csv(by_sex.released)["persons"].drop_nulls() % 5 == 0).all()
    else:
        assert "disclosure ledger" in by_sex.reason
    assert [c for c in result.checks if c.outcome != WITHHELD]


def test_released_outputs_are_named_by_number_and_the_report_quotes_no_name(
    world, disclosive_run, signed_off, run_paths
):
    result, _ = disclosive_run
    folder = signed_off.folder
    published = sorted(p.name for p in folder.iterdir())
    released = [c for c in result.checks if c.outcome != WITHHELD]
    assert published == sorted(
        [c.released_name for c in released]
        + ["checking_report.json", "checking_report.md", "manifest.json"]
    )
    report = (folder / "checking_report.md").read_text()
    report += (folder / "checking_report.json").read_text()
    report += (result.run_folder / "checking_report.md").read_text()
    # the review, up to the code it quotes (which names its outputs)
    review = signoff.review(run_paths, result.run, world["spec"].parent).read_text()
    report += review.split("## Code")[0]
    for check in result.checks:
        assert Path(check.name).stem not in report, check.number
    # rex's own bytes are what leaves
    for check in released:
        assert (folder / check.released_name).read_bytes() == check.released


def test_nothing_the_disclosive_script_printed_or_wrote_leaves_its_run_folder(
    world, disclosive_run, run_paths, signed_off
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
        p.read_bytes().decode("latin-1") for p in signed_off.folder.iterdir() if p.is_file()
    )
    for place, text in (("terminal", terminal), ("audit log", log), ("Prefect", recorded)):
        assert not [p for p in pseudonyms if p in text], place
    assert not [p for p in pseudonyms if p in published]


def test_the_run_is_logged_with_its_code_workspace_and_outcomes_and_nothing_leaves_unreviewed(
    disclosive_run, run_paths
):
    result, _ = disclosive_run
    entries = audit_read.read(run_paths.audit_log)
    assert [e["event"] for e in entries] == ["request", "checked"]
    checked = entries[1]
    assert checked["run"] == entries[0]["run"] == result.run
    assert checked["code"]["file"] == "analysis.py" and len(checked["code"]["sha256"]) == 64
    assert checked["workspace"] == "18-088_onprem_2020-06-30"
    # outputs by number, never by the code's names
    assert checked["passed"] == [c.number for c in result.checks if c.outcome != WITHHELD]
    assert set(checked["withheld"]) == {
        str(c.number) for c in result.checks if c.outcome == WITHHELD
    }
    text = run_paths.audit_log.read_text()
    assert not [c.name for c in result.checks if Path(c.name).stem in text]
    assert audit_read.verify(run_paths.audit_log) == []
    # nothing is published on the checks alone
    assert not run_paths.releases.exists() or not list(run_paths.releases.rglob("*_outputs_*"))


def test_a_spec_without_analysis_runs_is_refused_and_logged(world, run_paths, tmp_path):
    spec = _variant(world, tmp_path, "no-analysis", absent=True)
    with pytest.raises(AnalysisRefused, match="allows no analysis runs"):
        analysis_run(spec, WORLD_AS_OF, _script(tmp_path, "print(1)\n"), run_paths)
    entries = audit_read.read(run_paths.audit_log)
    assert [e["event"] for e in entries] == ["request", "refusal"]
    assert not run_paths.analysis_runs.exists()


def test_only_the_specs_operators_run_analyses(world, run_paths, tmp_path):
    spec = _variant(world, tmp_path, "operators", spec={"operators": ["someone-else"]})
    with pytest.raises(AuthorisationError, match="is not an operator"):
        analysis_run(spec, WORLD_AS_OF, _script(tmp_path, "print(1)\n"), run_paths)
    assert audit_read.read(run_paths.audit_log)[-1]["event"] == "refusal"


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
    assert result.seconds < 30
    outcomes = _outcomes(result)
    assert outcomes["early.txt"] == (WITHHELD, f"the run failed: {result.failure}")
    assert outcomes["listed.txt"][1].startswith("person-level")  # still never releasable
    assert audit_read.read(run_paths.audit_log)[-1]["event"] == "failure"


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
        ["analyse", "review", "--help"],
        ["analyse", "approve", "--help"],
        ["analyse", "reject", "--help"],
        ["analyse", "release", "--help"],
    ):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0, result.output


def test_a_runs_folder_and_its_outputs_fall_under_the_specs_retention(
    disclosive_run, signed_off, run_paths, tmp_path
):
    from flows.schedule.retention import retention_plan

    result, _ = disclosive_run
    before = {s.target for s in retention_plan(run_paths, tmp_path, dt.date(2021, 12, 31))}
    after = {s.target for s in retention_plan(run_paths, tmp_path, dt.date(2022, 1, 1))}
    folders = {str(result.run_folder), str(signed_off.folder)}
    assert not folders & before
    assert folders <= after


BAROMETER_TABLES = [
    "inflow_by_year_sex_age.csv",
    "inflow_by_year_sex.csv",
    "invalidity_on_31_december.csv",
    "mean_duration_by_start_year.csv",
    "median_duration_by_start_year_sex.csv",
    "mean_entry_benefit_by_sex_age.csv",
    "trajectories.csv",
]


def test_the_barometer_runs_on_premise_and_rex_makes_its_tables_and_plots_which_reviewers_release(
    world, run_paths, accounts
):
    from flows.runtime.settings import REPO_ROOT

    code = REPO_ROOT / "notebooks" / "barometer_onprem.py"
    result = analysis_run(world["spec"], WORLD_AS_OF, code, run_paths)
    assert result.failure is None, result.failure
    outcomes = _outcomes(result)
    assert set(BAROMETER_TABLES) <= set(outcomes)
    # every table and plot is rex's own: none is unchecked or person-level
    assert all(c.computed for c in result.checks)
    assert all(
        not reason.startswith(("unchecked", "person-level")) for _, reason in outcomes.values()
    ), outcomes
    released = [c for c in result.checks if c.outcome != WITHHELD]
    assert {c.kind for c in released} == {"table", "plot"}
    folder = accounts.sign_off(result, world["spec"].parent).folder
    published = {p.name for p in folder.iterdir()}
    assert {c.released_name for c in released} <= published
    invalidity = next(c for c in result.checks if c.name == "invalidity_on_31_december.csv")
    table = pl.read_csv(folder / invalidity.released_name)
    assert {"year", "sex", "in_invalidity"} <= set(table.columns)
    # every count rounded to 5, and no column says which were multiples already
    assert (table["persons"].drop_nulls() % 5 == 0).all()
    assert all(
        not c.endswith("_check") or set(table[c].drop_nulls()) <= {"suppressed", ""}
        for c in table.columns
    )


def test_a_full_disk_while_publishing_outputs_publishes_nothing_and_leaves_nothing(
    world, run_paths, tmp_path, monkeypatch, accounts
):
    written = signoff.write_json
    calls = []

    def disk_full_at_the_manifest(value, path):
        calls.append(path.name)
        if path.name == "manifest.json":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        written(value, path)

    result = analysis_run(world["spec"], WORLD_AS_OF, _script(tmp_path, PASSING), run_paths)
    specs = world["spec"].parent
    accounts.approve(result.run, [1], specs)
    with monkeypatch.context() as patched:
        patched.setattr(signoff, "write_json", disk_full_at_the_manifest)
        with pytest.raises(AnalysisFailed):
            accounts.release(result.run, specs)
    assert "manifest.json" in calls  # the released files and the report were written first
    releases = run_paths.releases
    assert not [p for p in releases.rglob("*") if "_outputs_" in p.name or p.name.startswith(".")]
    events = [e["event"] for e in audit_read.read(run_paths.audit_log)]
    assert events[-2:] == ["request", "failure"]
    released = accounts.release(result.run, specs)
    assert released.released == (1,) and (released.folder / "manifest.json").exists()
    assert audit_read.verify_chain(run_paths.audit_log) == []


def test_a_run_that_stops_before_its_end_is_still_found_by_retention(
    world, run_paths, tmp_path, monkeypatch
):
    """The run's record is written before its code runs: a run whose checking fails (or that
    is killed) leaves a folder that retention still deletes by the workspace's deadline."""
    from flows.schedule.retention import retention_plan

    def checking_fails(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    code = _script(tmp_path, PASSING)
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
    assert all(c.person_level for c in result.checks)  # never releasable, by anybody


def test_an_outputs_manifest_states_the_logs_head_and_the_log_is_checked_against_it(
    disclosive_run, signed_off, run_paths, monkeypatch
):
    from flows.cli import app
    from flows.release.files import WITNESS

    manifest = json.loads((signed_off.folder / "manifest.json").read_text())
    request = audit_read.read(run_paths.audit_log)[-2]
    assert request["event"] == "request"
    assert manifest[WITNESS]["seq"] == request["seq"]  # the head before its release entry
    monkeypatch.setenv("REX_DATA_DIR", str(run_paths.data))
    monkeypatch.setenv("REX_KEY_STORE", str(run_paths.key_store))
    verified = CliRunner().invoke(
        app, ["audit", "verify", f"--against={signed_off.folder / 'manifest.json'}"]
    )
    assert verified.exit_code == 0, verified.output
    assert "the log holds its head and its release entry" in verified.output


def test_a_full_disk_while_rex_records_the_ledger_publishes_nothing_and_keeps_no_half_ledger(
    world, run_paths, tmp_path, monkeypatch
):
    """Released cells missing from the ledger could be differenced later: a ledger that cannot
    be written stops the run before anything is published."""
    written = audit_files.write_atomically

    def disk_full_at_the_ledger(path, data):
        if path.name == analyse.LEDGER:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return written(path, data)

    code = _script(tmp_path, PASSING)
    monkeypatch.setattr(audit_files, "write_atomically", disk_full_at_the_ledger)
    with pytest.raises(AnalysisFailed, match="OSError"):
        analysis_run(world["spec"], WORLD_AS_OF, code, run_paths)
    monkeypatch.undo()
    assert [e["event"] for e in audit_read.read(run_paths.audit_log)] == ["request", "failure"]
    assert not (run_paths.releases.exists() and list(run_paths.releases.rglob("*_outputs_*")))
    (run_folder,) = [p.parent for p in run_paths.analysis_runs.glob("*/*/run.json")]
    assert not (run_folder / analyse.LEDGER).exists()
    assert not [p for p in run_folder.iterdir() if p.name.startswith(".")]  # no temporary left
    assert json.loads((run_folder / "run.json").read_text())["outputs"] == []
    # the next run checks against a ledger without it, and records its own
    result = analysis_run(world["spec"], WORLD_AS_OF, code, run_paths)
    assert result.failure is None and (result.run_folder / analyse.LEDGER).is_file()
