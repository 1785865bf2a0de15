"""What real extracts contain, injected into the synthetic sources (`rex synth --defects`).

- duplicate_declaration: a second, identical copy of a DMFA line.
- corrected_declaration: a DMFA line as first declared (wage too high) followed by its
  correction, with the next declaration_version and the true values.
- invalid_check_digits: a DMFA line whose INSZ or employer RSZ number has wrong check digits;
  an RVA activation allowance whose employer KBO number has wrong check digits.
- unknown_code: a real code that the column's code list does not hold (UNKNOWN_CODES), in DMFA,
  RVA and NIC records.
- after_death: a copy of a dead person's last DMFA line, RVA episode, NIC episode or career
  year, moved to after the death.
- overlapping_episode: an RVA episode or NIC phase closed OVERLAP_DAYS after the person's next
  one began.
- version_out_of_order: the version an A052 correction supersedes, sent again
  OUT_OF_ORDER_DAYS after the correction (so made after a higher version of its number).
- message_after_episode: an A052 message for the quarter after the end of the incapacity it
  reports (a copy of the episode's last message, under a unique number of its own).

Each kind hits a small share of records (RATES). Which records is decided by a keyed hash of
(seed, kind, the record's own identity: person and key columns), never by a random stream
over the table: whether a record is hit does not depend on the other records, so injecting per
chunk of persons gives the same rows as injecting into the whole population. The checks of
transforms/source_checks.py find each kind; the rules there say what happens to it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from types import MappingProxyType

import numpy as np
import polars as pl

from specs import sources
from specs.sources import SOURCE_TABLES
from transforms.source_checks import DefectKind

# Shares of records hit, per kind: of DMFA lines (duplicates, corrections, and each of the INSZ
# and the employer number for check digits), of episodes followed by another of the same
# person (overlaps), of records per column of UNKNOWN_CODES, of dead persons per table (after
# death). Small, as in real extracts, yet a few thousand persons show every kind.
RATES: Mapping[DefectKind, float] = MappingProxyType(
    {
        DefectKind.DUPLICATE_DECLARATION: 0.002,
        DefectKind.CORRECTED_DECLARATION: 0.005,
        DefectKind.INVALID_CHECK_DIGITS: 0.0005,
        DefectKind.OVERLAPPING_EPISODE: 0.05,
        DefectKind.UNKNOWN_CODE: 0.001,
        DefectKind.AFTER_DEATH: 0.05,
        # of A052 corrections (out of order) and of messages that end an episode (after it)
        DefectKind.VERSION_OUT_OF_ORDER: 0.05,
        DefectKind.MESSAGE_AFTER_EPISODE: 0.02,
    }
)
# Kinds the generator makes itself: an A052 correction is a new version of its number.
ALL_KINDS = frozenset(DefectKind) - {DefectKind.SUPERSEDED_VERSION}

# The first version of a corrected line declared a wage this much too high.
CORRECTED_WAGE_FACTOR = 1.10
# An overlapping episode is closed this many days after the person's next one began.
OVERLAP_DAYS = 14
# A benefit episode after death starts this many days after the death (a DMFA line: the
# quarter after; a career year: the year after).
DAYS_AFTER_DEATH = 10
# A superseded A052 version sent again is made this many days after the version superseding it.
OUT_OF_ORDER_DAYS = 7
# A message for a closed episode: the quarter after its last one, made this many days after it.
AFTER_EPISODE_CREATED_DAYS = 92
# Its unique number: the person's part, then this digit before the message's own sequence.
AFTER_EPISODE_SEQUENCE_DIGIT = "9"
# Real codes the code lists do not hold: a blue-collar student (DMFA), temporary unemployment
# as head of household (RVA), a benefit at EUR 0 (A052).
UNKNOWN_CODES: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        (sources.OCCUPATIONS.key, "worker_code"): "840",
        (sources.UNEMPLOYMENT.key, "category"): "TA",
        (sources.INCAPACITY.key, "nature"): "ZERO",
        (sources.A052_MESSAGES.key, "nature"): "ZERO",
    }
)

OCCUPATIONS = sources.OCCUPATIONS.key
PERSONS = sources.PERSONS.key
ALLOWANCES = sources.ACTIVATION_ALLOWANCES.key
MESSAGES = sources.A052_MESSAGES.key
UNEMPLOYMENT = sources.UNEMPLOYMENT.key
INCAPACITY = sources.INCAPACITY.key
CAREER = sources.CAREER.key
# What identifies a record within its table, for the keyed hash: its declared record key.
IDENTITY: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {key: t.record_key for key, t in SOURCE_TABLES.items() if t.record_key is not None}
)
EPISODE_ORDER: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        UNEMPLOYMENT: ("start_date",),
        INCAPACITY: ("start_date", "episode"),
    }
)
_ROW, _SUB = "_row", "_sub"  # a record's place in its table, and of copies after it


def _key(seed: int, salt: str) -> np.uint64:
    """The 64-bit key of (seed, kind, table): SHA-256, stable across library versions."""
    digest = hashlib.sha256(f"rex-defects\x00{seed}\x00{salt}".encode()).digest()
    return np.uint64(int.from_bytes(digest[:8], "big"))


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: every input bit moves every output bit. Vectorised and stable,
    where polars' own hash may change between versions."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _as_uint64(series: pl.Series) -> np.ndarray:
    if series.dtype == pl.String:
        series = series.str.to_integer(strict=False)
    elif series.dtype == pl.Date:
        series = series.cast(pl.Int32)
    return series.cast(pl.Int64).fill_null(-1).to_numpy().astype(np.uint64)


def _identity(frame: pl.DataFrame, table: str) -> np.ndarray:
    """A 64-bit hash of each row's identity columns (IDENTITY), computed once per table."""
    h = np.zeros(frame.height, dtype=np.uint64)
    for name in IDENTITY[table]:
        h = _mix(h ^ _as_uint64(frame[name]))
    return h


def _hit(
    identity: np.ndarray,
    seed: int,
    kind: DefectKind,
    kinds: Collection[DefectKind],
    table: str,
    detail: str = "",
) -> pl.Series:
    """Whether each row is hit: a uniform number from the keyed hash, below the kind's rate."""
    if kind not in kinds:
        return pl.Series(np.zeros(identity.size, dtype=bool))
    h = _mix(identity ^ _key(seed, f"{kind.value}\x00{table}\x00{detail}"))
    return pl.Series((h >> np.uint64(11)).astype(np.float64) / 2.0**53 < RATES[kind])


def _wrong_insz(insz: pl.Expr) -> pl.Expr:
    """The INSZ with check digits that fit neither the 19xx nor the 20xx reading."""
    first_nine = insz.str.slice(0, 9).cast(pl.Int64)
    check = insz.str.slice(9, 2).cast(pl.Int64)
    after = check % 97 + 1
    fits = (after == 97 - first_nine % 97) | (after == 97 - (first_nine + 2_000_000_000) % 97)
    wrong = pl.when(fits).then(after % 97 + 1).otherwise(after)
    return insz.str.slice(0, 9) + wrong.cast(pl.String).str.zfill(2)


def _wrong_rsz(rsz: pl.Expr) -> pl.Expr:
    """The RSZ number with other check digits (only one pair is valid)."""
    check = rsz.str.tail(2).cast(pl.Int64)
    return rsz.str.head(-2) + (check % 97 + 1).cast(pl.String).str.zfill(2)


def _wrong_kbo(kbo: pl.Expr) -> pl.Expr:
    """The KBO number with other check digits (only one pair is valid)."""
    return _wrong_rsz(kbo)


def _dead_hit(
    persons: pl.DataFrame, seed: int, kinds: Collection[DefectKind], table: str
) -> pl.DataFrame:
    """(insz, death_date) of the dead persons who get a record after death in `table`."""
    dead = persons.select("insz", "death_date").filter(pl.col("death_date").is_not_null())
    identity = _identity(dead, PERSONS)
    return dead.filter(_hit(identity, seed, DefectKind.AFTER_DEATH, kinds, PERSONS, table))


def _last_record(records: pl.DataFrame, dead: pl.DataFrame, order: list[str]) -> pl.DataFrame:
    """Each listed dead person's last record (by `order`), with the death date."""
    return (
        records.join(dead, on="insz")
        .sort("insz", *order)
        .unique("insz", keep="last", maintain_order=True)
    )


def _in_place(parts: list[pl.DataFrame], columns: list[str]) -> pl.DataFrame:
    """Copies and corrections right after the record they come from, then the helpers dropped."""
    return pl.concat(parts, how="vertical").sort(_ROW, _SUB).select(columns)


def _occupations(
    lines: pl.DataFrame, persons: pl.DataFrame, seed: int, kinds: Collection[DefectKind]
) -> pl.DataFrame:
    columns = lines.columns
    table = OCCUPATIONS
    identity = _identity(lines, table)
    hit = lines.with_row_index(_ROW).with_columns(
        _duplicate=_hit(identity, seed, DefectKind.DUPLICATE_DECLARATION, kinds, table),
        _corrected=_hit(identity, seed, DefectKind.CORRECTED_DECLARATION, kinds, table),
        _bad_insz=_hit(identity, seed, DefectKind.INVALID_CHECK_DIGITS, kinds, table, "insz"),
        _bad_rsz=_hit(identity, seed, DefectKind.INVALID_CHECK_DIGITS, kinds, table, "rsz"),
        _unknown=_hit(identity, seed, DefectKind.UNKNOWN_CODE, kinds, table, "worker_code"),
    )
    version = pl.col("declaration_version")
    final = hit.with_columns(
        insz=pl.when("_bad_insz").then(_wrong_insz(pl.col("insz"))).otherwise("insz"),
        employer_rsz=pl.when("_bad_rsz")
        .then(_wrong_rsz(pl.col("employer_rsz")))
        .otherwise("employer_rsz"),
        worker_code=pl.when("_unknown")
        .then(pl.lit(UNKNOWN_CODES[(table, "worker_code")]))
        .otherwise("worker_code"),
        declaration_version=pl.when("_corrected").then(version + 1).otherwise(version),
        _sub=pl.lit(1, pl.Int32),
    )
    first_declared = final.filter("_corrected").with_columns(
        declaration_version=version - 1,
        gross_wage_cents=(pl.col("gross_wage_cents") * CORRECTED_WAGE_FACTOR)
        .round()
        .cast(pl.Int64),
        _sub=pl.lit(0, pl.Int32),
    )
    copies = final.filter("_duplicate").with_columns(_sub=pl.lit(2, pl.Int32))
    dead = _dead_hit(persons, seed, kinds, table)
    death_quarter = pl.col("death_date").dt.year() * 10 + pl.col("death_date").dt.quarter()
    after = (
        _last_record(final, dead, ["quarter", "occupation_start", "employer_rsz", "local_unit_id"])
        .with_columns(
            quarter=pl.when(death_quarter % 10 == 4)
            .then(death_quarter + 10 - 3)
            .otherwise(death_quarter + 1)
            .cast(pl.Int32),
            occupation_end=pl.lit(None, pl.Date),
            _sub=pl.lit(3, pl.Int32),
        )
        .select(first_declared.columns)
    )
    return _in_place([first_declared, final, copies, after], columns)


def _episodes(
    table: str,
    episodes: pl.DataFrame,
    persons: pl.DataFrame,
    seed: int,
    kinds: Collection[DefectKind],
) -> pl.DataFrame:
    columns = episodes.columns
    (coded,) = (column for t, column in UNKNOWN_CODES if t == table)
    order = list(EPISODE_ORDER[table])
    next_start = pl.col("start_date").shift(-1).over("insz", order_by=order)
    identity = _identity(episodes, table)
    hit = episodes.with_row_index(_ROW).with_columns(
        _overlap=_hit(identity, seed, DefectKind.OVERLAPPING_EPISODE, kinds, table),
        _unknown=_hit(identity, seed, DefectKind.UNKNOWN_CODE, kinds, table, coded),
        _next_start=next_start,
    )
    final = hit.with_columns(
        end_date=pl.when(pl.col("_overlap") & pl.col("_next_start").is_not_null())
        .then(pl.col("_next_start") + pl.duration(days=OVERLAP_DAYS))
        .otherwise("end_date"),
        **{coded: pl.when("_unknown").then(pl.lit(UNKNOWN_CODES[(table, coded)])).otherwise(coded)},
        _sub=pl.lit(1, pl.Int32),
    )
    start_after = pl.col("death_date") + pl.duration(days=DAYS_AFTER_DEATH)
    after = _last_record(final, _dead_hit(persons, seed, kinds, table), order).with_columns(
        start_date=start_after, end_date=pl.lit(None, pl.Date), _sub=pl.lit(2, pl.Int32)
    )
    if table == INCAPACITY:  # a new episode, opened after the death
        after = after.with_columns(
            episode=pl.col("episode") + 1,
            phase=pl.lit("primary"),
            illness_start_date=start_after,
            primary_start_date=start_after,
        )
    return _in_place([final, after.select(final.columns)], columns)


def _career(
    career: pl.DataFrame, persons: pl.DataFrame, seed: int, kinds: Collection[DefectKind]
) -> pl.DataFrame:
    table = CAREER
    numbered = career.with_row_index(_ROW).with_columns(_sub=pl.lit(1, pl.Int32))
    after = _last_record(numbered, _dead_hit(persons, seed, kinds, table), ["year"]).with_columns(
        year=(pl.col("death_date").dt.year() + 1).cast(career.schema["year"]),
        _sub=pl.lit(2, pl.Int32),
    )
    return _in_place([numbered, after.select(numbered.columns)], career.columns)


def _allowances(allowances: pl.DataFrame, seed: int, kinds: Collection[DefectKind]) -> pl.DataFrame:
    identity = _identity(allowances, ALLOWANCES)
    bad = _hit(identity, seed, DefectKind.INVALID_CHECK_DIGITS, kinds, ALLOWANCES, "kbo")
    return allowances.with_columns(
        enterprise_kbo=pl.when(bad)
        .then(_wrong_kbo(pl.col("enterprise_kbo")))
        .otherwise("enterprise_kbo")
    )


def _messages(messages: pl.DataFrame, seed: int, kinds: Collection[DefectKind]) -> pl.DataFrame:
    columns = messages.columns
    table = MESSAGES
    identity = _identity(messages, table)
    message = list(sources.MESSAGE_CORRECTION.key)
    superseded = pl.col("message_version") < pl.col("message_version").max().over(message)
    last_of_episode = pl.col("incapacity_end").is_not_null() & (
        pl.col("message_version") == pl.col("message_version").max().over(message)
    )
    hit = messages.with_row_index(_ROW).with_columns(
        _out_of_order=_hit(identity, seed, DefectKind.VERSION_OUT_OF_ORDER, kinds, table)
        & superseded,
        _after=_hit(identity, seed, DefectKind.MESSAGE_AFTER_EPISODE, kinds, table)
        & last_of_episode,
        _unknown=_hit(identity, seed, DefectKind.UNKNOWN_CODE, kinds, table, "nature"),
    )
    last_made = pl.col("created_date").max().over(message)
    final = hit.with_columns(
        created_date=pl.when("_out_of_order")
        .then(last_made + pl.duration(days=OUT_OF_ORDER_DAYS))
        .otherwise("created_date"),
        nature=pl.when("_unknown")
        .then(pl.lit(UNKNOWN_CODES[(table, "nature")]))
        .otherwise("nature"),
        _sub=pl.lit(1, pl.Int32),
    )
    quarter = pl.col("quarter")
    after = final.filter("_after").with_columns(
        quarter=pl.when(quarter % 10 == 4).then(quarter + 10 - 3).otherwise(quarter + 1),
        message_number=pl.col("message_number").str.head(-3)
        + AFTER_EPISODE_SEQUENCE_DIGIT
        + pl.col("message_number").str.tail(2),
        message_version=pl.lit(1, messages.schema["message_version"]),
        status=pl.lit("NEW"),
        created_date=pl.col("created_date") + pl.duration(days=AFTER_EPISODE_CREATED_DAYS),
        fitness_decision_source=pl.lit(None, pl.String),
        fitness_date=pl.lit(None, pl.Date),
        childbirth_date=pl.lit(None, pl.Date),
        _sub=pl.lit(2, pl.Int32),
    )
    return _in_place([final, after], columns)


def inject_defects(
    tables: Mapping[str, pl.DataFrame], seed: int, kinds: Collection[DefectKind] = ALL_KINDS
) -> dict[str, pl.DataFrame]:
    """The tables with the defects of `kinds` injected at RATES; the same for any set of persons."""
    persons = tables[PERSONS]
    out = dict(tables)
    out[OCCUPATIONS] = _occupations(tables[OCCUPATIONS], persons, seed, kinds)
    for table in EPISODE_ORDER:
        out[table] = _episodes(table, tables[table], persons, seed, kinds)
    out[CAREER] = _career(tables[CAREER], persons, seed, kinds)
    out[ALLOWANCES] = _allowances(tables[ALLOWANCES], seed, kinds)
    out[MESSAGES] = _messages(tables[MESSAGES], seed, kinds)
    return out
