"""A population that is the recipient's own list (13/021 point 20), and the 13/021 delivery:
identified, kept for the whole career, run only by staff who signed the declaration on honour."""

from __future__ import annotations

import datetime as dt
import getpass

import polars as pl
import pytest
import yaml

from flows.extract.errors import AuthorisationError
from flows.extract.export import control_export
from flows.runtime.settings import SPECS_DIR, Paths
from flows.schedule.retention import retention_plan
from flows.stores import audit_read
from flows.stores.consultations import CONSULTATION_KEY
from flows.stores.keys import create_key
from flows.stores.requests import RequestError, read_person_list

# the case that each consultation of these tests is made for (16/046 point 9)
CASE = "CTRL-2020-0007"

INSZ_A, INSZ_B = "85073003328", "90010100123"
AS_OF = dt.date(2013, 6, 30)


def test_a_list_reads_plain_and_separated_numbers_and_skips_comments(tmp_path):
    listing = tmp_path / "request.txt"
    listing.write_text(f"# request 2013-001\n\n{INSZ_B}\n85.07.30-033.28\n")
    assert read_person_list(listing)["insz"].to_list() == [INSZ_A, INSZ_B]


def test_a_list_with_a_wrong_number_is_refused_by_line_never_by_value(tmp_path):
    listing = tmp_path / "request.txt"
    wrong = INSZ_A[:-1] + "9"
    listing.write_text(f"{INSZ_A}\n{wrong}\nnot a number\n")
    with pytest.raises(RequestError) as refusal:
        read_person_list(listing)
    assert str(refusal.value) == (
        "request.txt: 2 line(s) do not hold a valid INSZ (11 digits with valid check digits): "
        "line 2, 3"
    )
    assert wrong not in str(refusal.value)


def test_a_list_naming_a_person_twice_or_nobody_is_refused(tmp_path):
    listing = tmp_path / "request.txt"
    listing.write_text(f"{INSZ_A}\n{INSZ_B}\n85.07.30-033.28\n")
    with pytest.raises(RequestError, match="1 line\\(s\\) repeat a person listed above: line 3"):
        read_person_list(listing)
    listing.write_text("# nothing yet\n")
    with pytest.raises(RequestError, match="lists no person"):
        read_person_list(listing)


@pytest.fixture(scope="module")
def vsawse(world, tmp_path_factory):
    """13/021 on the world's store, with a list of 30 persons who worked in 2012-2013 and one
    that the register does not know; the staff member holds the role and signed."""
    root = tmp_path_factory.mktemp("vsawse")
    document = yaml.safe_load((SPECS_DIR / "13-021.yaml").read_text())
    specs_dir = root / "specs"
    specs_dir.mkdir()
    spec = specs_dir / "13-021.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    in_force = dict(document, in_force={"since": "2013-01-01", "test_data_delete_by": "2013-12-31"})
    spec_in_force = specs_dir / "13-021-in-force.yaml"
    spec_in_force.write_text(yaml.safe_dump(in_force, sort_keys=False, allow_unicode=True))
    workers = (
        pl.read_parquet(world["store"] / "dmfa" / "occupations.parquet")
        .filter(pl.col("quarter") >= 20121)["insz"]
        .unique()
        .sort()
        .head(30)
    )
    listing = root / "request.txt"
    # and a bis number (month + 40) the synthetic register never issues
    listing.write_text("\n".join([*workers.to_list(), "00410100191"]) + "\n")
    paths = Paths(data=root / "data", key_store=root / "keys")
    create_key(paths.key_store, document["project"])
    create_key(paths.key_store, CONSULTATION_KEY)
    paths.roster.parent.mkdir(parents=True)
    member = {"roles": ["case handler, customised employment"]}
    paths.roster.write_text(yaml.safe_dump({"staff": {getpass.getuser(): member}}))
    with pytest.raises(AuthorisationError, match="has not signed the declaration on honour"):
        control_export(spec, AS_OF, paths, world["store"], listing, case_reference=CASE)
    member["declaration_signed"] = "2013-04-01"
    paths.roster.write_text(yaml.safe_dump({"staff": {getpass.getuser(): member}}))
    return dict(
        spec=spec,
        spec_in_force=spec_in_force,
        specs_dir=specs_dir,
        paths=paths,
        listing=listing,
        workers=workers,
        store=world["store"],
    )


def test_the_delivery_holds_the_listed_persons_the_register_knows(vsawse):
    result = control_export(
        vsawse["spec"],
        AS_OF,
        vsawse["paths"],
        vsawse["store"],
        vsawse["listing"],
        case_reference=CASE,
    )
    jobs = pl.read_parquet(result.folder / "quarter_job.parquet")
    assert set(jobs["person_id"]) <= set(vsawse["workers"])
    assert result.manifest.persons == 30
    assert result.folder.name.startswith("13-021_control_2013-06-30_request-")
    # before its regulation takes effect, a run is a test run, deleted by the test deadline
    assert result.manifest.test_run is True
    assert result.manifest.delete_by == dt.date(2013, 12, 31)
    request = [e for e in audit_read.read(vsawse["paths"].audit_log) if e.get("persons_requested")]
    assert request[-1]["persons_requested"] == 31  # how many were asked about, never who


def test_once_in_force_the_delivery_is_kept_for_the_whole_career(vsawse):
    in_force_day = dt.date(2013, 7, 1)
    result = control_export(
        vsawse["spec_in_force"],
        in_force_day,
        vsawse["paths"],
        vsawse["store"],
        vsawse["listing"],
        case_reference=CASE,
    )
    assert result.manifest.test_run is False
    assert result.manifest.delete_by is None
    assert result.manifest.kept == "for the whole career"
    assert result.manifest.our_copy_delete_by == dt.date(2013, 10, 1)  # ours goes after 3 months
    on_the_day = retention_plan(vsawse["paths"], vsawse["specs_dir"], dt.date(2013, 10, 1))
    assert not [s for s in on_the_day if s.target == str(result.folder)]
    steps = retention_plan(vsawse["paths"], vsawse["specs_dir"], dt.date(2090, 1, 1))
    assert [s.action.value for s in steps if s.target == str(result.folder)] == ["delete"]
    assert "shred_key" not in {s.action.value for s in steps}


def test_a_run_without_the_list_or_with_one_where_none_is_asked_is_refused_and_logged(vsawse):
    with pytest.raises(AuthorisationError, match="give the list of the request"):
        control_export(vsawse["spec"], AS_OF, vsawse["paths"], vsawse["store"], case_reference=CASE)
    paths = vsawse["paths"]
    roster = yaml.safe_load(paths.roster.read_text())
    roster["staff"][getpass.getuser()]["roles"].append(
        "attaché, Directorate Budget, Finance and Monitoring"
    )
    paths.roster.write_text(yaml.safe_dump(roster, allow_unicode=True))
    create_key(paths.key_store, "iriscare-financing-control")
    spec_19 = vsawse["specs_dir"] / "19-104.yaml"
    spec_19.write_text((SPECS_DIR / "19-104.yaml").read_text())
    with pytest.raises(AuthorisationError, match="not a list of persons"):
        control_export(
            spec_19,
            dt.date(2020, 12, 15),
            paths,
            vsawse["store"],
            vsawse["listing"],
            case_reference=CASE,
        )
    assert [e["event"] for e in audit_read.read(paths.audit_log)[-2:]] == ["request", "refusal"]


def test_a_listed_population_goes_to_identified_modes_only():
    from pydantic import ValidationError

    from specs.model import Spec

    document = yaml.safe_load((SPECS_DIR / "13-021.yaml").read_text())
    document["modes"]["sample"] = {"persons": 10, "protect": {}, "delete_by": "2014-01-01"}
    with pytest.raises(ValidationError, match="goes to identified modes only"):
        Spec.model_validate(document)


def test_a_line_may_give_the_months_to_check_and_a_bad_period_is_refused_by_line(tmp_path):
    listing = tmp_path / "request.txt"
    listing.write_text(f"{INSZ_A};2013-01;2013-06\n{INSZ_B}\n")
    assert read_person_list(listing).to_dicts() == [
        {"insz": INSZ_A, "from_month": "2013-01", "until_month": "2013-06"},
        {"insz": INSZ_B, "from_month": None, "until_month": None},
    ]
    listing.write_text(f"{INSZ_A};2013-07;2013-06\n{INSZ_B};2013-01\n{INSZ_B[:-2]}00;x;y\n")
    with pytest.raises(RequestError, match="line\\(s\\) do not hold a valid INSZ.*line 3"):
        read_person_list(listing)
    listing.write_text(f"{INSZ_A};2013-07;2013-06\n{INSZ_B};2013-01\n")
    with pytest.raises(RequestError, match="2 line\\(s\\) do not give the period.*line 1, 2"):
        read_person_list(listing)


def test_rows_are_cut_to_each_persons_months_whatever_the_panel():
    from transforms.requested import within_requested_periods

    requested = pl.DataFrame(
        {"insz": ["a", "b"], "from_month": ["2013-02", None], "until_month": ["2013-04", None]}
    )
    months = pl.DataFrame(
        {
            "insz": ["a"] * 5 + ["b"],
            "month": ["2013-01", "2013-02", "2013-04", "2013-05", "2013-12", "2013-01"],
        }
    )
    assert within_requested_periods(months, "month", requested)["month"].to_list() == [
        "2013-02",
        "2013-04",
        "2013-01",
    ]
    quarters = pl.DataFrame({"insz": ["a"] * 3, "quarter": ["2013-Q1", "2013-Q2", "2013-Q3"]})
    assert within_requested_periods(quarters, "quarter", requested)["quarter"].to_list() == [
        "2013-Q1",
        "2013-Q2",
    ]
    years = pl.DataFrame({"insz": ["a", "a"], "year": [2012, 2013]})
    assert within_requested_periods(years, "year", requested)["year"].to_list() == [2013]


def test_a_delivery_holds_only_the_months_asked_about(vsawse, tmp_path):
    listing = tmp_path / "request.txt"
    first, *others = vsawse["workers"].to_list()
    listing.write_text("\n".join([f"{first};2012-01;2012-06", *others]) + "\n")
    result = control_export(
        vsawse["spec"],
        dt.date(2013, 6, 29),
        vsawse["paths"],
        vsawse["store"],
        listing,
        case_reference=CASE,
    )
    months = pl.read_parquet(result.folder / "month.parquet")
    asked = months.filter(pl.col("person_id") == first)["month"]
    assert asked.min() >= "2012-01" and asked.max() <= "2012-06" and asked.len() > 0
    assert months.filter(pl.col("person_id") != first)["month"].min() < "2012-01"
