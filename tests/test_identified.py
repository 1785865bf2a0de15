"""Identified data for control purposes (19/104, 13/021): only where a deliberation grants it,
and every other rule still holds: declared columns only, verified identifiers, a log without
identifiers, deadlines, access by login or role."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import polars as pl
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from flows.extract.authorise import authorise
from flows.extract.errors import AuthorisationError
from flows.extract.export import control_export
from flows.extract.tasks import period_values
from flows.release.validate import ValidationFailed, validate_panel
from flows.runtime.settings import SPECS_DIR, Paths
from flows.schedule.retention import retention_plan
from flows.schedule.review import review
from flows.stores import audit_read
from flows.stores.consultations import CONSULTATION_KEY
from flows.stores.keys import load_key
from flows.stores.roster import Roster, RosterError, StaffMember, load_roster, login
from specs import checks as c
from specs.identifiers import Scheme, valid
from specs.load import load_spec
from specs.model import Spec
from specs.modes import Mode, ModeName
from specs.release import released_panels
from specs.values import add_months
from transforms.modes import mode_key
from transforms.protect import protect_panel
from transforms.pseudonymise import PERSON, pseudonym_map, pseudonym_set_digest
from transforms.retention import Action, Holding, plan

# the case that each consultation of these tests is made for (16/046 point 9)
CASE = "CTRL-2020-0007"

ROLE = "attaché, Directorate Budget, Finance and Monitoring"
# Valid identifiers (check digits computed as specs.identifiers says).
INSZ_A, INSZ_B = "85073003328", "90010100123"
RSZ, KBO = "011133465", "0403170701"


def _document() -> dict:
    return yaml.safe_load((SPECS_DIR / "19-104.yaml").read_text())


def _spec(**changes) -> Spec:
    document = _document()
    document.update(changes)
    return Spec.model_validate(document)


# --- the spec language ---------------------------------------------------------------------


def test_the_19_104_spec_grants_identified_data_to_its_control_mode():
    spec = load_spec(SPECS_DIR / "19-104.yaml")
    assert spec.identified_data is not None
    assert spec.modes[ModeName.CONTROL].identified
    assert spec.modes[ModeName.CONTROL].keep_months == 6


def test_each_mode_of_the_seed_specs_says_what_it_delivers():
    kinds = {
        name: {m.value: mode.kind.value for m, mode in load_spec(SPECS_DIR / name).modes.items()}
        for name in ("18-088.yaml", "19-104.yaml", "14-045.yaml")
    }
    assert kinds == {
        "18-088.yaml": {"sample": "sample", "onprem": "population"},
        "19-104.yaml": {"control": "identified"},
        "14-045.yaml": {"sample": "sample"},
    }


def test_an_identified_mode_without_a_grant_is_refused():
    with pytest.raises(ValidationError, match="only a deliberation that grants identified data"):
        _spec(identified_data=None)


def test_identified_data_goes_by_the_control_mode_only():
    document = _document()
    document["modes"]["sample"] = {**document["modes"]["control"], "identified": True}
    with pytest.raises(ValidationError, match="identified data goes by the control mode only"):
        Spec.model_validate(document)
    document = _document()
    document["modes"]["control"]["identified"] = False
    del document["modes"]["control"]["consultation_log"]  # an identified mode's only
    with pytest.raises(ValidationError, match="the control mode is identified"):
        Spec.model_validate(document)


def test_the_18_088_specs_hold_no_grant_and_no_identified_mode():
    for name in ("18-088.yaml", "18-088-part1.yaml", "14-045.yaml"):
        spec = load_spec(SPECS_DIR / name)
        assert spec.identified_data is None
        assert not any(mode.identified for mode in spec.modes.values())


def test_direct_identifiers_are_refused_wherever_a_mode_is_pseudonymised():
    document = yaml.safe_load((SPECS_DIR / "18-088.yaml").read_text())
    document["variables"]["quarter"].append("last_name")
    with pytest.raises(ValidationError, match=r"direct identifiers \(last_name\)"):
        Spec.model_validate(document)
    document = _document()  # 19/104 asks for names and addresses: fine in its control mode only
    document["modes"]["onprem"] = {"protect": {}, "delete_by": "2021-12-31"}
    with pytest.raises(ValidationError, match="pseudonymised modes: onprem"):
        Spec.model_validate(document)


def test_an_identified_sample_is_refused():
    with pytest.raises(ValidationError, match="not a sample"):
        Mode.model_validate({"identified": True, "persons": 10, "protect": {}, "keep_months": 6})


@pytest.mark.parametrize(
    "retention",
    [
        {},
        {"delete_by": "2021-01-01", "keep_months": 6},
        {"keep_months": 6, "keep_whole_career": True, "our_copy_keep_months": 3},
    ],
)
def test_a_mode_states_its_retention_one_way_exactly(retention):
    with pytest.raises(ValidationError, match="give the retention of a mode one way"):
        Mode.model_validate({"protect": {}, **retention})


def test_a_term_in_months_counts_from_the_run_day():
    mode = Mode.model_validate({"protect": {}, "keep_months": 6})
    assert mode.deadline(dt.date(2020, 12, 15)) == dt.date(2021, 6, 15)
    assert mode.deadline(dt.date(2020, 8, 31)) == dt.date(2021, 2, 28)
    whole_career = Mode.model_validate(
        {"protect": {}, "keep_whole_career": True, "our_copy_keep_months": 3}
    )
    assert whole_career.deadline(dt.date(2020, 1, 1)) is None
    assert whole_career.our_copy_deadline(dt.date(2020, 1, 1), None) == dt.date(2020, 4, 1)
    with pytest.raises(ValidationError, match="needs 'our_copy_keep_months'"):
        Mode.model_validate({"protect": {}, "keep_whole_career": True})


@given(st.dates(dt.date(1990, 1, 1), dt.date(2090, 1, 1)), st.integers(0, 240))
def test_add_months_moves_by_whole_months_and_never_past_the_day(day, months):
    later = add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day <= day.day
    assert later.day == day.day or (later + dt.timedelta(days=1)).day == 1


def test_an_open_ended_window_holds_every_later_day():
    spec = _spec()
    assert spec.valid.until is None
    assert spec.valid.contains(dt.date(2090, 1, 1))
    assert not spec.valid.contains(dt.date(2019, 7, 1))
    assert spec.last_deadline() is None  # a term from each run of a run that may come any day


# --- access: logins, roles and the declaration on honour -----------------------------------


def test_a_role_of_the_spec_in_the_roster_lets_a_login_run():
    spec = _spec()
    day = dt.date(2020, 12, 15)
    mode = authorise(spec, ModeName.CONTROL, day, "anne", True, StaffMember(roles=(ROLE,)))
    assert mode.delete_by == dt.date(2021, 6, 15)
    with pytest.raises(
        AuthorisationError, match="'bert' is not an operator of deliberation 19/104"
    ):
        authorise(spec, ModeName.CONTROL, day, "bert", True, StaffMember(roles=("intern",)))


def test_a_declaration_on_honour_must_be_signed_before_the_run():
    spec = _spec(operators_sign_declaration=True)
    day = dt.date(2020, 12, 15)
    for staff in (
        StaffMember(roles=(ROLE,)),
        StaffMember(roles=(ROLE,), declaration_signed=day + dt.timedelta(days=1)),
    ):
        with pytest.raises(AuthorisationError, match="has not signed the declaration on honour"):
            authorise(spec, ModeName.CONTROL, day, "anne", True, staff)
    signed = StaffMember(roles=(ROLE,), declaration_signed=day)
    assert authorise(spec, ModeName.CONTROL, day, "anne", True, signed).identified


def test_a_run_as_of_a_day_after_today_is_refused():
    spec = _spec()
    staff = StaffMember(roles=(ROLE,))
    today = dt.date(2021, 1, 4)
    with pytest.raises(AuthorisationError, match="after today"):
        authorise(spec, ModeName.CONTROL, dt.date(2099, 1, 1), "anne", True, staff, today=today)
    assert authorise(spec, ModeName.CONTROL, today, "anne", True, staff, today=today).identified


def test_the_login_is_the_accounts_not_the_environments(monkeypatch):
    before = login()
    monkeypatch.setenv("LOGNAME", "someone-else")
    monkeypatch.setenv("USER", "someone-else")
    assert login() == before


def test_a_roster_others_may_write_is_refused(tmp_path):
    roster = tmp_path / "roster.yaml"
    roster.write_text("staff: {}\n")
    roster.chmod(0o664)
    with pytest.raises(RosterError, match="writable by others than its owner"):
        load_roster(roster)
    roster.chmod(0o644)
    assert load_roster(roster) == Roster()


def test_a_missing_roster_holds_nobody_and_a_bad_one_is_named(tmp_path):
    assert load_roster(tmp_path / "roster.yaml") == Roster()
    bad = tmp_path / "bad.yaml"
    bad.write_text("staff:\n  anne:\n    roles: [x]\n    declaration_signed: someday\n")
    with pytest.raises(RosterError, match=r"bad\.yaml: staff\.anne\.declaration_signed"):
        load_roster(bad)


# --- what an identified release holds, and how it is checked -------------------------------


def test_an_identified_release_names_persons_and_employers_and_verifies_them():
    document = _document()
    document["variables"]["month"] = ["programme_id"]
    spec = Spec.model_validate(document)
    mode = spec.modes[ModeName.CONTROL]
    layout = released_panels(spec, mode, period_values(spec))
    columns = {col.name: col for panel in layout.values() for col in panel}
    assert columns["person_id"].check_digits is Scheme.INSZ
    assert columns["employer_id"].check_digits is Scheme.RSZ
    assert columns["enterprise_id"].check_digits is Scheme.KBO
    assert columns["local_unit_id"].check_digits is Scheme.KBO
    # Other coded identifiers are no person and no employer: they stay pseudonymised.
    assert columns["programme_id"].protection == "pseudonymised"
    assert c.ValidIdentifier("person_id", Scheme.INSZ) in c.panel_checks(
        layout["month"], None, True
    )


def test_protect_keeps_the_identifiers_of_persons_and_employers_in_the_control_mode():
    document = _document()
    document["variables"] = {"quarter": ["employer_id"]}
    document["summaries"] = {}
    spec = Spec.model_validate(document)
    exact = pl.DataFrame(
        {
            "insz": [INSZ_B, INSZ_A],
            "quarter": ["2020-Q3", "2020-Q3"],
            "job": [1, 1],
            "employer_id": [RSZ, RSZ],
        }
    )
    key = b"k" * 32
    persons = pseudonym_map(exact["insz"], key, PERSON)
    protected = protect_panel(
        "quarter_job", exact, spec, spec.modes[ModeName.CONTROL], key, persons
    )
    assert protected.to_dicts() == [
        {"person_id": INSZ_A, "quarter": "2020-Q3", "job": 1, "employer_id": RSZ},
        {"person_id": INSZ_B, "quarter": "2020-Q3", "job": 1, "employer_id": RSZ},
    ]


def test_an_identifier_with_wrong_check_digits_fails_validation_without_its_value():
    wrong = INSZ_A[:-1] + "9"
    check = c.ValidIdentifier("person_id", Scheme.INSZ)
    assert validate_panel("p", pl.DataFrame({"person_id": [INSZ_A, INSZ_B]}), [check])[0].success
    with pytest.raises(ValidationFailed) as failure:
        validate_panel("p", pl.DataFrame({"person_id": [INSZ_A, wrong]}), [check])
    assert "(1 rows)" in str(failure.value)
    assert wrong not in str(failure.value)


@pytest.mark.parametrize(
    ("scheme", "good", "bad"),
    [
        (Scheme.INSZ, INSZ_A, "85073003329"),
        (Scheme.RSZ, RSZ, "011133466"),
        (Scheme.KBO, KBO, "0403170702"),
    ],
)
def test_each_scheme_accepts_its_valid_numbers_only(scheme, good, bad):
    values = pl.DataFrame({"v": [good, bad, "12345"]})  # noqa: F841 (read by DuckDB)
    verdicts = duckdb.sql(f"select {valid(scheme, 'v')} as ok from values").pl()["ok"]
    assert verdicts.to_list() == [True, False, False]


# --- retention of terms and whole careers --------------------------------------------------


def test_data_kept_for_a_whole_career_is_never_due_and_keeps_its_key():
    held = [Holding("p", "13/021", "control", "VSAWSE", None, "/c", ours) for ours in (True, False)]
    assert plan(held, {"p": None}, {}, ["p"], dt.date(2090, 1, 1)) == []


def test_a_term_from_the_run_is_due_the_day_after_it():
    deadline = dt.date(2021, 6, 15)
    held = [Holding("p", "19/104", "control", "IRISCARE", deadline, "/c", False)]
    assert plan(held, {"p": None}, {}, ["p"], deadline) == []
    assert [s.action for s in plan(held, {"p": None}, {}, ["p"], deadline + dt.timedelta(1))] == [
        Action.ATTEST
    ]


# --- end to end, on the shared world -------------------------------------------------------


@pytest.fixture(scope="module")
def control(world, tmp_path_factory):
    """A control delivery of 19/104 on the world's store (the workers of its care facilities in
    Brussels), run by a login the roster gives the role."""
    import getpass

    from flows.stores.keys import create_key

    root = tmp_path_factory.mktemp("control")
    document = _document()
    specs_dir = root / "specs"
    specs_dir.mkdir()
    spec = specs_dir / "19-104.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    paths = Paths(data=root / "data", key_store=root / "keys")
    create_key(paths.key_store, document["project"])
    create_key(paths.key_store, CONSULTATION_KEY)
    paths.roster.parent.mkdir(parents=True)
    refused_first = None
    try:
        control_export(spec, dt.date(2020, 12, 15), paths, world["store"], case_reference=CASE)
    except AuthorisationError as error:
        refused_first = str(error)
    paths.roster.write_text(yaml.safe_dump({"staff": {getpass.getuser(): {"roles": [ROLE]}}}))
    result = control_export(spec, dt.date(2020, 12, 15), paths, world["store"], case_reference=CASE)
    return dict(spec=spec, specs_dir=specs_dir, paths=paths, result=result, refused=refused_first)


def test_a_run_by_someone_without_the_role_was_refused_and_logged(control):
    assert "is not an operator of deliberation 19/104" in control["refused"]
    events = [e["event"] for e in audit_read.read(control["paths"].audit_log)]
    assert events == ["request", "refusal", "request", "release"]


def test_the_control_delivery_holds_valid_identifiers_of_the_granted_workers(control, world):
    folder = control["result"].folder
    jobs = pl.read_parquet(folder / "quarter_job.parquet")
    assert jobs.height > 0
    # the lines of the facilities concerned only: care NACE codes, a local unit in Brussels
    store_lines = pl.read_parquet(world["store"] / "dmfa" / "occupations.parquet").select(
        employer_id="employer_rsz", local_unit_id="local_unit_id", nace="nace", nis="local_unit_nis"
    )
    where = (
        jobs.select("employer_id", "local_unit_id")
        .unique()
        .join(store_lines.unique(), on=["employer_id", "local_unit_id"])
    )
    assert set(where["nace"]) <= {"87100", "87200", "87300", "86900"}
    assert where["nis"].str.starts_with("21").all()
    lines = jobs  # noqa: F841 (read by DuckDB)
    invalid = duckdb.sql(
        f"""select count(*) filter (where not {valid(Scheme.INSZ, "person_id")})
                 + count(*) filter (where not {valid(Scheme.RSZ, "employer_id")})
                 + count(*) filter (where not {valid(Scheme.KBO, "enterprise_id")})
            from lines"""
    ).fetchall()[0][0]
    assert invalid == 0
    sources = duckdb.read_parquet(str(world["store"] / "register" / "persons.parquet"))
    known = set(sources.pl()["insz"])
    assert set(jobs["person_id"]) <= known
    manifest = control["result"].manifest
    assert manifest.identified is True
    assert manifest.delete_by == dt.date(2021, 6, 15)


def test_neither_the_log_nor_the_manifest_holds_an_identifier(control):
    folder = control["result"].folder
    quarter = pl.read_parquet(folder / "quarter.parquet")
    persons = set(quarter["person_id"])
    names = set(quarter["last_name"]) | set(quarter["address"])
    employers = set(pl.read_parquet(folder / "quarter_job.parquet")["employer_id"])
    assert quarter["last_name"].null_count() == 0  # the grant's natural-person block is there
    for text in (control["paths"].audit_log.read_text(), (folder / "manifest.json").read_text()):
        assert not any(insz in text for insz in persons)
        assert not any(rsz in text for rsz in employers)
        assert not any(f'"{name}"' in text for name in names)


def test_the_logged_person_set_is_a_digest_of_pseudonyms_not_of_insz(control):
    folder = control["result"].folder
    persons = pl.read_parquet(folder / "quarter.parquet")["person_id"]
    project_key = load_key(control["paths"].key_store, "iriscare-financing-control")
    key = mode_key(project_key, ModeName.CONTROL)
    expected = pseudonym_set_digest(pseudonym_map(persons, key, PERSON)["pseudonym"])
    release = audit_read.read(control["paths"].audit_log)[-1]
    assert release["pseudonym_set_sha256"] == expected
    assert json.loads((folder / "manifest.json").read_text())["pseudonym_set_sha256"] == expected
    assert expected != pseudonym_set_digest(persons)


def test_the_review_finds_the_control_delivery_covered(control):
    count, findings = review(
        control["paths"].audit_log,
        control["specs_dir"],
        5,
        dt.date(2020, 12, 31),
        seed=1,
        consultation_sample=5,
    )
    assert count == 1
    # a control delivery is a consultation, drawn from the consultations' pool
    assert [(f.kind, f.violations) for f in findings] == [("consultation", ())]


def test_retention_asks_the_recipient_to_destroy_it_six_months_later(control):
    paths, specs_dir = control["paths"], control["specs_dir"]
    assert retention_plan(paths, specs_dir, dt.date(2021, 6, 15)) == []
    due = retention_plan(paths, specs_dir, dt.date(2021, 6, 16))
    # the consultations' case and persons go with the data (its consultation_log: 6 months)
    assert {s.action for s in due} == {Action.ATTEST, Action.DELETE, Action.DELETE_CONSULTATION}
    assert Action.SHRED_KEY not in {s.action for s in due}  # an open-ended grant keeps its key


def test_the_fte_per_facility_adds_up_the_delivered_lines_of_the_two_quarters(control):
    folder = control["result"].folder
    summary = pl.read_parquet(folder / "fte_per_facility.parquet")
    jobs = pl.read_parquet(folder / "quarter_job.parquet")
    assert set(summary["quarter"]) == {"2019-Q4", "2020-Q3"}
    compared = jobs.filter(pl.col("quarter").is_in(["2019-Q4", "2020-Q3"]))
    assert summary["fte"].sum() == pytest.approx(compared["fte"].sum(), abs=1e-3)
    assert (
        summary["persons"].sum()
        == compared.select("person_id", "quarter", "employer_id", "local_unit_id").unique().height
    )
    book = json.loads((folder / "codebook.json").read_text())
    assert "COVID-19" in book["fte_per_facility"]["description"]
