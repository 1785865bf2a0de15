"""Every consultation tied to its case (16/046 points 4, 9 and 15-17): refused without one, logged
with who, when, spec, purpose and case, the persons as keyed digests, found again by person by
the data steward, drawn by the review, and deleted by retention while the log still verifies."""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import hmac
import json
import shutil

import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from flows.cli import app
from flows.extract.authorise import authorise
from flows.extract.errors import AuthorisationError
from flows.extract.export import control_export
from flows.runtime.settings import SPECS_DIR, Paths, ReviewSchedule
from flows.schedule.retention import apply as apply_retention
from flows.schedule.review import check, review
from flows.stores import audit_files, audit_read, consultations
from flows.stores.consultations import CONSULTATION_KEY, CaseError, case_problem, person_digests
from flows.stores.keys import create_key
from flows.stores.roster import StaffMember
from specs.authorisation import run_refusals
from specs.load import load_spec, spec_digest
from specs.modes import ModeName
from tests.conftest import copy_audit_key
from transforms.retention import Action

DELETE_CONSULTATION = Action.DELETE_CONSULTATION

AS_OF = dt.date(2013, 6, 30)
CASE_A = "MW-2013/0042"
CASE_B = "MW-2013/0043"
ROLE = "case handler, customised employment"


# --- the case reference --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (None, "must carry the reference of the case"),
        ("  ", "must carry the reference of the case"),
        ("dossier\n42", "1 to 80 letters, digits"),
        ("-42", "starting with a letter or digit"),
        ("CT-85073003328", "nine digits or more"),
    ],
)
def test_a_case_reference_missing_malformed_or_holding_a_long_number_is_refused(
    reference, expected
):
    problem = case_problem(reference)
    assert problem is not None and expected in problem
    assert "85073003328" not in problem  # the value is never quoted


def test_a_case_reference_of_the_usual_forms_is_accepted():
    assert case_problem("IRISCARE/ROB/2020/17") is None
    assert case_problem("MW-2013.0042 bis") is None


# --- the persons' digests ------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(st.lists(st.from_regex(r"[0-9]{11}", fullmatch=True), min_size=1, max_size=20))
def test_a_person_is_logged_as_the_hmac_of_the_consultation_key_never_a_plain_hash(numbers):
    key, other = b"k" * 32, b"o" * 32
    digests = person_digests(pl.Series(numbers), key).to_list()
    expected = sorted(
        hmac.new(key.hex().encode(), f"consulted person\x00{n}".encode(), "sha256").hexdigest()
        for n in set(numbers)
    )
    assert digests == expected
    plain = {hashlib.sha256(n.encode()).hexdigest() for n in numbers}
    assert not plain & set(digests)
    assert not set(person_digests(pl.Series(numbers), other)) & set(digests)


# --- one authorisation rule for runs and reviews -------------------------------------------


def _entry(spec_file, as_of, made_on, roles, signed, synthetic, actor="anne"):
    request = {"seq": 1, "event": "request", "run": "r1"}
    entry = {
        "seq": 2,
        "event": "release",
        "run": "r1",
        "spec": spec_file.name,
        "spec_sha256": spec_digest(spec_file),
        "mode": "control",
        "as_of": as_of.isoformat(),
        "at": f"{made_on.isoformat()}T10:00:00+00:00",
        "actor": actor,
        "roles": list(roles),
        "declaration_signed": signed and signed.isoformat(),
        "synthetic_store": synthetic,
    }
    return [request, entry]


@settings(max_examples=60, deadline=None)
@given(
    as_of=st.dates(dt.date(2012, 1, 1), dt.date(2015, 12, 31)),
    made_after=st.integers(-30, 400),
    roles=st.sampled_from([(), (ROLE,), ("intern",)]),
    signed=st.one_of(st.none(), st.dates(dt.date(2012, 1, 1), dt.date(2015, 12, 31))),
    synthetic=st.booleans(),
)
def test_the_review_judges_a_run_by_the_rule_the_run_applied(
    as_of, made_after, roles, signed, synthetic
):
    spec_file = SPECS_DIR / "13-021.yaml"
    spec = load_spec(spec_file)
    made_on = as_of + dt.timedelta(days=made_after)
    staff = StaffMember(roles=roles, declaration_signed=signed)
    reasons = run_refusals(spec, ModeName.CONTROL, as_of, "anne", roles, signed, synthetic, made_on)
    try:
        authorise(spec, ModeName.CONTROL, as_of, "anne", synthetic, staff, today=made_on)
        refused = None
    except AuthorisationError as error:
        refused = str(error)
    assert refused == (reasons[0] if reasons else None)
    entries = _entry(spec_file, as_of, made_on, roles, signed, synthetic)
    assert list(check(entries[1], entries, SPECS_DIR).violations) == reasons


def test_the_review_finds_a_run_dated_after_its_day_and_a_test_run_on_real_data():
    spec_file = SPECS_DIR / "13-021.yaml"
    signed = dt.date(2013, 4, 1)
    future = _entry(spec_file, AS_OF, dt.date(2013, 6, 1), (ROLE,), signed, True)
    assert check(future[1], future, SPECS_DIR).violations == (
        "a run cannot be made as of 2013-06-30, after today (2013-06-01): its rules and its "
        "deadline would count from a day that has not come",
    )
    real = _entry(spec_file, AS_OF, AS_OF, (ROLE,), signed, False)
    (violation,) = check(real[1], real, SPECS_DIR).violations
    assert "not in force on 2013-06-30" in violation and "is not synthetic" in violation
    unrecorded = _entry(spec_file, AS_OF, AS_OF, (ROLE,), signed, None)
    del unrecorded[1]["synthetic_store"]
    # what is not recorded is not presumed: the store counts as real data
    unproven, as_real = check(unrecorded[1], unrecorded, SPECS_DIR).violations
    assert unproven == "the entry does not record whether its source store was synthetic"
    assert as_real == violation


def test_the_review_schedule_is_a_setting(monkeypatch):
    assert ReviewSchedule.from_environment() == ReviewSchedule("0 6 * * *", 20, 20)
    monkeypatch.setenv("REX_REVIEW_CRON", "0 7 * * 1")
    monkeypatch.setenv("REX_REVIEW_CONSULTATIONS", "50")
    assert ReviewSchedule.from_environment() == ReviewSchedule("0 7 * * 1", 20, 50)
    monkeypatch.setenv("REX_REVIEW_DISCLOSURES", "many")
    with pytest.raises(ValueError, match="REX_REVIEW_DISCLOSURES: expected a whole number"):
        ReviewSchedule.from_environment()
    with pytest.raises(ValueError, match="a cron line of 5 fields"):
        ReviewSchedule(cron="daily")


# --- consultations made by the real flow ---------------------------------------------------


@pytest.fixture(scope="module")
def consulted(world, tmp_path_factory):
    """13/021 on the world's store: a request without a case (refused), then two consultations
    of three workers each, one person in both, each for a case of its own."""
    root = tmp_path_factory.mktemp("consultations")
    paths = Paths(data=root / "data", key_store=root / "keys")
    create_key(paths.key_store, "vsawse-customised-employment")
    create_key(paths.key_store, CONSULTATION_KEY)
    paths.roster.parent.mkdir(parents=True)
    member = {"roles": [ROLE, "data steward"], "declaration_signed": "2013-04-01"}
    paths.roster.write_text(yaml.safe_dump({"staff": {getpass.getuser(): member}}))
    workers = (
        pl.read_parquet(world["store"] / "dmfa" / "occupations.parquet")
        .filter(pl.col("quarter") >= 20121)["insz"]
        .unique()
        .sort()
        .head(5)
        .to_list()
    )
    spec = SPECS_DIR / "13-021.yaml"
    first, second = root / "first.txt", root / "second.txt"
    first.write_text("\n".join(workers[:3]) + "\n")
    second.write_text("\n".join(workers[2:]) + "\n")
    with pytest.raises(CaseError) as refused:
        control_export(spec, AS_OF, paths, world["store"], first)
    results = [
        control_export(spec, AS_OF, paths, world["store"], listing, case_reference=case)
        for listing, case in ((first, CASE_A), (second, CASE_B))
    ]
    return dict(
        paths=paths, workers=workers, refused=str(refused.value), results=results, root=root
    )


def _copy(consulted, tmp_path) -> Paths:
    """The consultations' data folder, copied, for a test that damages or deletes things."""
    paths = consulted["paths"]
    shutil.copytree(paths.data, tmp_path / "data")
    copied = Paths(data=tmp_path / "data", key_store=paths.key_store)
    copy_audit_key(paths, copied)
    return copied


def _cli(paths: Paths, monkeypatch, *arguments: str, given: str | None = None):
    monkeypatch.setenv("REX_DATA_DIR", str(paths.data))
    monkeypatch.setenv("REX_KEY_STORE", str(paths.key_store))
    monkeypatch.setenv("COLUMNS", "250")
    return CliRunner().invoke(app, list(arguments), input=given)


def test_a_request_without_a_case_is_refused_logged_and_delivers_nothing(consulted):
    entries = audit_read.read(consulted["paths"].audit_log)
    assert [e["event"] for e in entries[:2]] == ["request", "refusal"]
    assert "case" not in entries[0]
    assert entries[1]["reason"] == consulted["refused"]
    assert "must carry the reference of the case" in consulted["refused"]
    # only the two consultations made for a case were delivered
    delivered = sorted(consulted["paths"].releases.glob("*/*"))
    assert delivered == sorted(r.folder for r in consulted["results"])


def test_each_consultation_is_logged_with_its_case_before_it_and_its_persons(consulted):
    log = consulted["paths"].audit_log
    entries = audit_read.read(log)
    for result, case in zip(consulted["results"], (CASE_A, CASE_B), strict=True):
        (release,) = [e for e in entries if e.get("folder") == str(result.folder)]
        (request,) = [e for e in entries if e["event"] == "request" and e["run"] == release["run"]]
        assert request["seq"] < release["seq"]
        assert request["case"] == release["case"]
        logged_case = consultations.read_detail(log, request["case"]["detail"])
        detail = consultations.read_detail(log, release["consultation"]["detail"])
        assert logged_case is not None and detail is not None
        assert logged_case.case_reference == detail.case_reference == case
        assert (detail.actor, detail.deliberation, detail.spec) == (
            release["actor"],
            "13/021",
            "13-021.yaml",
        )
        assert detail.purpose == release["purpose"]
        assert len(detail.persons) == release["consultation"]["persons"] == 3


def test_no_insz_reaches_the_log_its_records_or_a_refusal(consulted):
    folder = consultations.details_folder(consulted["paths"].audit_log)
    written = consulted["paths"].audit_log.read_text() + consulted["refused"]
    written += "".join(p.read_text() for p in sorted(folder.glob("*.json")))
    for insz in consulted["workers"]:
        assert insz not in written
        assert hashlib.sha256(insz.encode()).hexdigest() not in written


def test_the_data_steward_finds_the_consultations_of_one_person_and_nothing_else(
    consulted, monkeypatch
):
    shared = consulted["workers"][2]  # in both requests
    result = _cli(consulted["paths"], monkeypatch, "audit", "person", "-", given=shared + "\n")
    assert result.exit_code == 0, result.output
    assert CASE_A in result.output and CASE_B in result.output
    assert "2 consultations whose records are kept" in result.output
    assert shared not in result.output
    only_first = consulted["workers"][0]
    result = _cli(consulted["paths"], monkeypatch, "audit", "person", only_first)
    assert CASE_A in result.output and CASE_B not in result.output
    assert audit_read.read(consulted["paths"].audit_log)[-1]["event"] == "person_lookup"
    wrong = _cli(consulted["paths"], monkeypatch, "audit", "person", only_first[:-1] + "0")
    assert wrong.exit_code == 2 and "not given by a valid INSZ" in wrong.output
    assert only_first[:-1] not in wrong.output
    refused = audit_read.read(consulted["paths"].audit_log)[-1]
    assert (refused["event"], refused["action"]) == ("refusal", "person_lookup")


def test_anyone_but_the_data_steward_is_refused_and_logged(consulted, tmp_path, monkeypatch):
    paths = _copy(consulted, tmp_path)
    roster = yaml.safe_load(paths.roster.read_text())
    roster["staff"][getpass.getuser()]["roles"] = [ROLE]
    paths.roster.write_text(yaml.safe_dump(roster))
    result = _cli(paths, monkeypatch, "audit", "person", consulted["workers"][0])
    assert result.exit_code == 2 and "only the data steward" in result.output
    assert CASE_A not in result.output
    last = audit_read.read(paths.audit_log)[-1]
    assert (last["event"], last["action"]) == ("refusal", "person_lookup")


def test_the_review_draws_the_consultations_and_finds_them_lawful(consulted, monkeypatch):
    total, findings = review(
        consulted["paths"].audit_log,
        SPECS_DIR,
        0,
        dt.date(2013, 12, 31),
        seed=1,
        consultation_sample=5,
    )
    assert total == 2
    assert [(f.kind, f.violations) for f in findings] == [("consultation", ())] * 2
    result = _cli(consulted["paths"], monkeypatch, "audit", "review", "--as-of", "2013-12-31")
    assert result.exit_code == 0, result.output
    assert "0 of 0 disclosures and 2 of 2 consultations" in result.output


def test_a_case_reference_edited_by_hand_is_found_by_verify_and_the_review(
    consulted, tmp_path, monkeypatch
):
    paths = _copy(consulted, tmp_path)
    folder = consultations.details_folder(paths.audit_log)
    (record,) = [p for p in folder.glob("*.case.json") if CASE_B in p.read_text()]
    record.write_text(record.read_text().replace(CASE_B, "MW-2013/0099"))
    result = _cli(paths, monkeypatch, "audit", "verify")
    assert result.exit_code == 1
    assert f"its detail record {record.name} was edited" in result.output
    _, findings = review(paths.audit_log, SPECS_DIR, 0, AS_OF, seed=1, consultation_sample=5)
    broken = [f for f in findings if not f.ok]
    assert len(broken) == 1 and "was edited" in broken[0].violations[0]


def test_a_consultation_entry_deleted_by_hand_is_found_by_verify(consulted, tmp_path, monkeypatch):
    paths = _copy(consulted, tmp_path)
    lines = paths.audit_log.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if '"consultation":' in line)
    del lines[at]
    paths.audit_log.path.write_text("\n".join(lines) + "\n")
    result = _cli(paths, monkeypatch, "audit", "verify")
    assert result.exit_code == 1
    assert f"entry {at + 1} is missing before this line (deleted)" in result.output


def test_a_record_removed_outside_retention_is_tampering(consulted, tmp_path, monkeypatch):
    paths = _copy(consulted, tmp_path)
    folder = consultations.details_folder(paths.audit_log)
    record = sorted(folder.glob("*.consultation.json"))[0]
    record.unlink()
    result = _cli(paths, monkeypatch, "audit", "verify")
    assert result.exit_code == 1
    assert f"{record.name} is missing and no deletion of it is logged" in result.output


def test_retention_deletes_the_records_when_due_and_the_chain_still_verifies(
    consulted, tmp_path, monkeypatch
):
    paths = _copy(consulted, tmp_path)
    folder = consultations.details_folder(paths.audit_log)
    held = sorted(p.name for p in folder.glob("*.json"))
    # 13/021 keeps them 120 months (point 34) from the run's day
    assert not [
        o
        for o in apply_retention(paths, SPECS_DIR, dt.date(2023, 6, 30))
        if o.step.action is DELETE_CONSULTATION
    ]
    outcomes = apply_retention(paths, SPECS_DIR, dt.date(2023, 7, 1))
    deleted = sorted(
        o.step.target for o in outcomes if o.step.action.value == "delete_consultation"
    )
    assert deleted == held and all(o.done for o in outcomes)
    assert not list(folder.iterdir())
    result = _cli(paths, monkeypatch, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "was deleted by retention (entry" in result.output
    _, findings = review(paths.audit_log, SPECS_DIR, 0, AS_OF, seed=1, consultation_sample=5)
    assert all(f.ok and f.notes for f in findings)
    found = _cli(paths, monkeypatch, "audit", "person", consulted["workers"][2])
    assert "0 consultations whose records are kept" in found.output


def test_a_record_deletion_the_log_could_not_take_is_finished_and_logged_next_time(
    consulted, tmp_path
):
    paths = _copy(consulted, tmp_path)
    folder = consultations.details_folder(paths.audit_log)
    name = sorted(p.name for p in folder.glob("*.json"))[0]

    def log_is_full() -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        consultations.delete_detail(paths.audit_log, name, log_is_full)
    (tombstone,) = consultations.detail_tombstones(paths.audit_log)
    assert tombstone.stat().st_size == 0  # the content went on time
    apply_retention(paths, SPECS_DIR, AS_OF)
    assert not consultations.detail_tombstones(paths.audit_log)
    entries = audit_read.read(paths.audit_log)
    assert [e["detail"] for e in entries if e["event"] == "consultation_deleted"] == [name]
    assert not [s for s in consultations.detail_states(entries, paths.audit_log) if s.problem]


def test_records_hold_no_field_beyond_the_declared_ones(consulted):
    folder = consultations.details_folder(consulted["paths"].audit_log)
    for path in folder.glob("*.json"):
        recorded = json.loads(path.read_text())
        assert set(recorded) <= set(consultations.Detail.model_fields)


def test_the_scheduled_review_logs_what_it_checked_and_fails_on_a_violation(
    consulted, tmp_path, monkeypatch
):
    from flows.schedule.deployments import ReviewFoundViolations, scheduled_review

    paths = _copy(consulted, tmp_path)
    monkeypatch.setenv("REX_DATA_DIR", str(paths.data))
    monkeypatch.setenv("REX_KEY_STORE", str(paths.key_store))
    assert scheduled_review.fn(as_of="2013-12-31") == 2
    logged = audit_read.read(paths.audit_log)[-1]
    assert (logged["event"], logged["consultations_reviewed"], logged["violations"]) == (
        "review",
        2,
        [],
    )
    record = sorted(consultations.details_folder(paths.audit_log).glob("*.consultation.json"))[0]
    record.unlink()
    with pytest.raises(ReviewFoundViolations, match="1 of 2 reviewed entries break a rule"):
        scheduled_review.fn(as_of="2013-12-31")
    assert len(audit_read.read(paths.audit_log)[-1]["violations"]) == 1


def test_a_record_that_is_no_json_any_more_is_tampering_and_the_look_up_goes_on(
    consulted, tmp_path, monkeypatch
):
    paths = _copy(consulted, tmp_path)
    folder = consultations.details_folder(paths.audit_log)
    broken = sorted(folder.glob("*.consultation.json"))[0]
    broken.write_text('{"persons": ["')
    found = _cli(paths, monkeypatch, "audit", "person", consulted["workers"][2])
    assert found.exit_code == 0, found.output
    assert "1 consultations whose records are kept" in found.output
    result = _cli(paths, monkeypatch, "audit", "verify")
    assert result.exit_code == 1 and f"{broken.name} was edited" in result.output


def test_a_case_goes_with_a_consultation_only(paths):
    from flows.extract.export import run_extract

    with pytest.raises(AuthorisationError, match="not with a sample run"):
        run_extract(
            SPECS_DIR / "18-088.yaml",
            ModeName.SAMPLE,
            dt.date(2020, 6, 30),
            paths,
            paths.sources,
            case_reference=CASE_A,
        )
    request, refusal = audit_read.read(paths.audit_log)
    assert "case" not in request and refusal["event"] == "refusal"
    assert not consultations.details_folder(paths.audit_log).exists()


def test_a_case_that_cannot_be_recorded_stops_the_request_before_it_is_logged(paths, monkeypatch):
    import errno

    from flows.extract.export import run_extract

    def disk_full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(consultations, "write_detail", disk_full)
    with pytest.raises(audit_files.AuditWriteFailed, match="the disk is full"):
        run_extract(
            SPECS_DIR / "13-021.yaml",
            ModeName.CONTROL,
            AS_OF,
            paths,
            paths.sources,
            case_reference=CASE_A,
        )
    assert not paths.audit_log.path.exists() or audit_read.read(paths.audit_log) == []


def test_consultation_records_are_due_after_their_specs_term_from_the_runs_day():
    from transforms.retention import ConsultationTerm, consultation_steps

    terms = {
        ("19-104.yaml", "control"): ConsultationTerm("iriscare", "19/104", 6),
        ("13-021.yaml", "control"): ConsultationTerm("vsawse", "13/021", 120),
    }
    held = [
        ("a.case.json", "19-104.yaml", "control", dt.date(2020, 12, 15)),
        ("b.case.json", "19-104.yaml", "control", dt.date(2020, 12, 16)),
        ("c.case.json", "13-021.yaml", "control", dt.date(2013, 6, 30)),
        ("d.case.json", "gone.yaml", "control", dt.date(2000, 1, 1)),  # no rule: kept
        ("e.case.json", "19-104.yaml", "sample", dt.date(2000, 1, 1)),  # no rule: kept
    ]
    steps = consultation_steps(held, terms, dt.date(2021, 6, 16))
    assert [(s.project, s.target) for s in steps] == [("iriscare", "a.case.json")]
    assert steps[0].reason == (
        "19/104 consultation of 2020-12-15: its case and persons are kept 6 months, to 2021-06-15"
    )
    assert [s.target for s in consultation_steps(held, terms, dt.date(2023, 7, 1))] == [
        "a.case.json",
        "b.case.json",
        "c.case.json",
    ]
