"""Protections closed under derivation, and the derivation audit: spec tests with inline rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.runtime.settings import SPECS_DIR
from specs.catalog import DERIVATIONS
from specs.codebook import codebook
from specs.load import SpecError, load_spec
from specs.modes import ModeName
from specs.release import released_panels
from transforms import derivation_audit as da
from transforms.classes import to_classes
from transforms.protect import protect_panel
from transforms.pseudonymise import PERSON, pseudonym_map

SPEC_18_088 = SPECS_DIR / "18-088.yaml"
KEY = b"k" * 32
DAILY_WAGE_EDGES = [60, 80, 100, 120, 140, 160, 180, 200, 250, 300]


def small_variant(tmp_path: Path, change=None) -> Path:
    """18/088 with only the wage and incapacity variables the derivations are about."""
    document = yaml.safe_load(SPEC_18_088.read_text())
    document["variables"] = {
        "month": ["incapacity_start", "incapacity_end", "incapacity_days"],
        "quarter": ["daily_wage", "wage_class", "job_gross_wage", "paid_days"],
    }
    document["classes"] = {
        "daily_wage": DAILY_WAGE_EDGES,
        "job_gross_wage": [3000, 6000, 7500, 9000, 10500, 12000, 15000, 18000],
    }
    if change is not None:
        change(document)
    path = tmp_path / "derived.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


# --- the closure -------------------------------------------------------------------------------


def test_wage_class_in_the_18_088_sample_takes_the_daily_wage_classes():
    spec = load_spec(SPEC_18_088)
    taken = spec.derived_protections(spec.modes[ModeName.SAMPLE])["wage_class"]
    assert (taken.source, taken.edges) == ("daily_wage", tuple(DAILY_WAGE_EDGES))
    assert spec.derived_protections(spec.modes[ModeName.ONPREM]) == {}


def test_a_wage_class_reads_as_the_lower_end_of_its_wage_in_the_daily_wage_classes():
    # class k holds [(k-1) x 1.25, k x 1.25): 48 is [58.75, 60), 49 is [60, 61.25), 0 is no wage
    wage_class = pl.DataFrame({"wage_class": [0, 1, 48, 49, 64, 65, 240, 241, 500]})
    to_euro = DERIVATIONS["wage_class"].to_source_unit
    assert to_euro is not None
    labels = wage_class.select(to_classes(to_euro(pl.col("wage_class")), DAILY_WAGE_EDGES))
    assert labels["wage_class"].to_list() == [
        "<60",
        "<60",
        "<60",
        "[60,80)",
        "[60,80)",
        "[80,100)",
        "[250,300)",
        ">=300",
        ">=300",
    ]


def test_protect_puts_wage_class_in_the_daily_wage_classes_in_the_sample_only(tmp_path):
    spec = load_spec(small_variant(tmp_path))
    exact = pl.DataFrame(
        {
            "insz": ["a", "a", "b"],
            "quarter": ["2010-Q1", "2010-Q2", "2010-Q1"],
            "job": [1, 1, 1],
            "daily_wage": [61.0, 99.99, None],
            "wage_class": [49, 80, 0],
            "job_gross_wage": [3965.0, 6499.35, 0.0],
            "paid_days": [65.0, 65.0, 0.0],
        }
    )
    persons = pseudonym_map(exact["insz"], KEY, PERSON)
    sample = protect_panel("quarter_job", exact, spec, spec.modes[ModeName.SAMPLE], KEY, persons)
    onprem = protect_panel("quarter_job", exact, spec, spec.modes[ModeName.ONPREM], KEY, persons)
    assert set(sample.select("quarter", "daily_wage", "wage_class").iter_rows()) == {
        ("2010-Q1", "[60,80)", "[60,80)"),
        ("2010-Q2", "[80,100)", "[80,100)"),
        ("2010-Q1", None, "<60"),
    }
    assert sorted(onprem["wage_class"].to_list()) == [0, 49, 80]


def test_the_codebook_states_the_protection_a_derived_variable_takes(tmp_path):
    spec = load_spec(small_variant(tmp_path))
    mode = spec.modes[ModeName.SAMPLE]
    periods = {g: ["2010-01"] for g in ("month", "quarter", "year")}
    book = codebook(released_panels(spec, mode, periods))  # type: ignore[arg-type]
    columns = {c["name"]: c for panel in book.values() for c in panel["columns"]}
    assert (
        columns["wage_class"]["protection"] == "classes (as daily_wage, which it is derived from)"
    )
    assert columns["wage_class"]["classes"][0] == "<60"
    assert columns["incapacity_days"]["protection"] == (
        "none: accepted derivation from incapacity_start"
    )
    assert columns["incapacity_days"]["accepted_derivation"].startswith("point 8")


def test_a_derived_amount_whose_source_has_no_classes_is_refused_naming_it(tmp_path):
    def without_daily_wage(document):
        document["variables"]["quarter"].remove("daily_wage")
        del document["classes"]["daily_wage"]

    with pytest.raises(SpecError) as refusal:
        load_spec(small_variant(tmp_path, without_daily_wage))
    assert "derived.yaml" in str(refusal.value)
    assert "mode 'sample': 'wage_class' is derived from the amount 'daily_wage'" in str(
        refusal.value
    )
    assert "'classes.daily_wage'" in str(refusal.value)


def test_a_day_count_of_a_protected_date_is_refused_unless_the_spec_accepts_it(tmp_path):
    def not_accepted(document):
        del document["accepted_derivations"]

    with pytest.raises(SpecError, match="'incapacity_days' is derived from the date"):
        load_spec(small_variant(tmp_path, not_accepted))


def test_an_accepted_derivation_of_a_variable_not_requested_is_refused(tmp_path):
    def unknown(document):
        document["accepted_derivations"][0]["by"] = ["wage_class_typo"]

    with pytest.raises(SpecError, match=r"accepted_derivations\[0\]: wage_class_typo is not"):
        load_spec(small_variant(tmp_path, unknown))


# --- the recomputations, applied to released rows ----------------------------------------------


def counts(spec_path: Path, panel: str, exact: pl.DataFrame, released: pl.DataFrame):
    spec = load_spec(spec_path)
    found = [a for a in da.attacks(spec, spec.modes[ModeName.SAMPLE]) if a.panel == panel]
    return {
        (a.rule.variable, a.rule.by): c
        for a, c in zip(found, da.audit_panel(panel, found, exact, released), strict=True)
    }


JOB_KEYS = {"person_id": ["p", "p", "q", "r"], "quarter": ["2010-Q1"] * 4, "job": [1, 1, 1, 1]}


def test_an_exact_wage_class_gives_back_the_daily_and_the_gross_wage(tmp_path):
    keys = {**JOB_KEYS, "job": [1, 2, 1, 1]}
    exact = pl.DataFrame(
        {**keys, "daily_wage": [61.0, 99.0, 300.0, None], "job_gross_wage": [3965.0, 6435.0, 0, 0]}
    )
    released = pl.DataFrame(
        {
            **keys,
            # 49: [60, 61.25) holds 61.0; 80: [98.75, 100) holds 99.0; the top class pins nothing
            "wage_class": [49, 80, 500, 0],
            "paid_days": [65.0, 65.0, 10.0, 0.0],
            "daily_wage": ["[60,80)", "[80,100)", ">=300", None],
            "job_gross_wage": ["[3000,6000)", "[6000,7500)", "<3000", "<3000"],
        }
    )
    found = counts(small_variant(tmp_path), "quarter_job", exact, released)
    assert found[("daily_wage", ("wage_class",))] == (3, 2)
    assert found[("job_gross_wage", ("wage_class", "paid_days"))] == (4, 2)


def test_wage_classes_released_in_the_daily_wage_classes_give_back_nothing(tmp_path):
    exact = pl.DataFrame(
        {**JOB_KEYS, "daily_wage": [61.0, 99.0, 150.0, None], "job_gross_wage": [1.0] * 4}
    )
    released = pl.DataFrame(
        {
            **JOB_KEYS,
            "job": [1, 2, 1, 1],
            "wage_class": ["[60,80)", "[80,100)", "[140,160)", "<60"],
            "paid_days": [65.0, 65.0, 10.0, 0.0],
            "daily_wage": ["[60,80)", "[80,100)", "[140,160)", None],
            "job_gross_wage": ["<3000"] * 4,
        }
    )
    exact = exact.with_columns(job=pl.Series([1, 2, 1, 1]))
    found = counts(small_variant(tmp_path), "quarter_job", exact, released)
    assert found[("daily_wage", ("wage_class",))] == (3, 0)
    assert found[("job_gross_wage", ("wage_class", "paid_days"))] == (4, 0)


def test_the_day_count_of_the_start_month_gives_back_the_start_day(tmp_path):
    exact = pl.DataFrame(
        {
            "person_id": ["p", "p", "q", "r", "s"],
            "month": ["2010-02", "2010-03", "2010-02", "2010-02", "2010-02"],
            "incapacity_start": [
                dt.date(2010, 2, 10),  # starts in February: 19 days to the 28th
                dt.date(2010, 2, 10),  # a later month of the same episode: the month says nothing
                dt.date(2010, 2, 1),  # a second episode in the month: the count overstates
                None,
                dt.date(2010, 1, 5),
            ],
        }
    )
    released = pl.DataFrame(
        {
            "person_id": ["p", "p", "q", "r", "s"],
            "month": ["2010-02", "2010-03", "2010-02", "2010-02", "2010-02"],
            "incapacity_start": ["2010-02", "2010-02", "2010-02", None, "2010-01"],
            "incapacity_days": [19, 31, 20, 0, 28],
        }
    )
    no_end = {"incapacity_end": pl.lit(None, pl.Date)}
    found = counts(
        small_variant(tmp_path),
        "month",
        exact.with_columns(**no_end),
        released.with_columns(incapacity_end=pl.lit(None, pl.String)),
    )
    assert found[("incapacity_start", ("incapacity_days",))] == (4, 1)


def test_an_attack_needs_every_column_it_uses_in_the_release(tmp_path):
    def without_wage_class(document):
        document["variables"]["quarter"].remove("wage_class")

    spec = load_spec(small_variant(tmp_path, without_wage_class))
    found = da.attacks(spec, spec.modes[ModeName.SAMPLE])
    assert [(a.rule.variable, a.rule.by) for a in found] == [
        ("incapacity_start", ("incapacity_days",)),
        ("incapacity_end", ("incapacity_days",)),
    ]
    assert da.attacks(spec, spec.modes[ModeName.ONPREM]) == []


# --- findings and refusal -------------------------------------------------------------------------


def test_an_unaccepted_finding_refuses_and_an_accepted_one_does_not(tmp_path):
    spec = load_spec(small_variant(tmp_path))
    found = da.attacks(spec, spec.modes[ModeName.SAMPLE])
    audit = da.findings(
        spec, found, [(10, 0) if a.panel == "quarter_job" else (8, 2) for a in found]
    )
    by_variable = {f["variable"]: f for f in audit}
    assert by_variable["incapacity_start"]["accepted"]["point"].startswith("point 8")
    assert by_variable["incapacity_start"]["share"] == 0.25
    da.refuse_unaccepted(audit)
    leaking = da.findings(spec, found, [(10, 3)] * len(found))
    with pytest.raises(da.DerivationRefused) as refusal:
        da.refuse_unaccepted(leaking)
    message = str(refusal.value)
    assert "daily_wage (classes) is given back by wage_class in 3 of 10 rows" in message
    assert "incapacity_start" not in message


# --- the audit does not depend on the slicing ---------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 5),  # person
            st.integers(1, 12),  # month
            st.one_of(st.none(), st.integers(0, 40)),  # days before the month's end it starts
            st.integers(0, 31),  # released day count
        ),
        min_size=1,
        max_size=40,
        unique_by=lambda r: (r[0], r[1]),
    ),
    cut=st.integers(1, 6),
)
def test_audit_counts_are_the_same_whatever_the_slicing(tmp_path_factory, rows, cut):
    spec = load_spec(small_variant(tmp_path_factory.mktemp("s")))
    found = da.attacks(spec, spec.modes[ModeName.SAMPLE])
    months = [dt.date(2010, m, 1) for _, m, _, _ in rows]
    ends = [pl.Series([d]).dt.month_end()[0] for d in months]
    exact = pl.DataFrame(
        {
            "person_id": [f"p{p}" for p, _, _, _ in rows],
            "month": [d.strftime("%Y-%m") for d in months],
            "incapacity_start": pl.Series(
                [
                    None if b is None else e - dt.timedelta(days=b)
                    for (_, _, b, _), e in zip(rows, ends, strict=True)
                ],
                dtype=pl.Date,
            ),
        }
    )
    # the episodes end a month after they start, so that the end rule has rows to find
    exact = exact.with_columns(incapacity_end=pl.col("incapacity_start").dt.offset_by("1mo"))
    released = exact.with_columns(
        pl.col("incapacity_start").dt.strftime("%Y-%m"),
        pl.col("incapacity_end").dt.strftime("%Y-%m"),
        incapacity_days=pl.Series([d for _, _, _, d in rows]),
    )
    whole = da.audit_slice(found, {"month": exact}, {"month": released})
    slice_of = pl.col("person_id").str.slice(1).cast(pl.Int32) // cut
    parts = [
        da.audit_slice(
            found,
            {"month": exact.filter(slice_of == s)},
            {"month": released.filter(slice_of == s)},
        )
        for s in range(6 // cut + 1)
    ]
    assert da.add_counts(parts, len(found)) == whole


def test_the_day_count_of_the_end_month_gives_back_the_end_day(tmp_path):
    months = ["2010-01", "2010-02", "2010-03"]
    exact = pl.DataFrame(
        {
            "person_id": ["p", "p", "p", "q", "q", "q"],
            "month": months * 2,
            # p's episode ends on 10 February (the panel shows it in January, running on the
            # 31st); q's ends on 28 February, which both January (by February's count) and
            # February show; February's own row is not given back by March's count
            "incapacity_end": pl.Series(
                [
                    dt.date(2010, 2, 10),
                    None,
                    None,
                    dt.date(2010, 2, 28),
                    dt.date(2010, 2, 28),
                    None,
                ],
                dtype=pl.Date,
            ),
        }
    )
    released = pl.DataFrame(
        {
            "person_id": ["p", "p", "p", "q", "q", "q"],
            "month": months * 2,
            "incapacity_end": ["2010-02", None, None, "2010-02", "2010-02", None],
            "incapacity_days": [31, 10, 0, 31, 28, 0],
        }
    )
    spec = load_spec(small_variant(tmp_path))
    found = [
        a
        for a in da.attacks(spec, spec.modes[ModeName.SAMPLE])
        if a.rule.variable == "incapacity_end"
    ]
    assert da.audit_panel("month", found, exact, released) == [(3, 2)]
