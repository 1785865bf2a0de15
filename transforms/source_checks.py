"""Source checks: find the defects real extracts contain, then clean them by rule or refuse.

Every kind of defect has one rule, declared once in RULES (README.md repeats it):

- duplicate_declaration (dmfa.occupations), clean: of identical lines one copy is kept.
- corrected_declaration (dmfa.occupations), clean: of the lines with one key (person, quarter,
  employer, local unit, occupation start) only the highest declaration_version is kept.
- invalid_check_digits (INSZ, RSZ, KBO and local-unit columns of every table), refuse: the
  record belongs to nobody we can name, and guessing an identity is not the extractor's job.
- unknown_code (every coded column), refuse: a code outside its code list has no meaning the
  codebook could state.
- after_death (dmfa, rva, nic, sigedis), clean: a record that starts after the register's death
  date is dropped; one that runs past it is cut to end on it.
- overlapping_episode (rva.unemployment, nic.incapacity), clean: an episode that ends on or
  after the start of the person's next one is cut to end the day before; one left with no day
  is dropped.
- superseded_version (nic.a052_messages), clean: of the versions of one A052 unique number
  only the highest message_version is kept (a correction is a new version of the number).
- version_out_of_order (nic.a052_messages), clean: a version made after a higher version of its
  number (by created_date) is still superseded by it: the version number decides, not the day
  a version was made (a resent version gets a new date).
- message_after_episode (nic.a052_messages), clean: a message about a quarter that begins after
  the end of the incapacity it reports holds no day of it, and is dropped.

Counts are taken on the records as read, one kind at a time, so one record can count under two
kinds. Cleaning runs only on tables with something to clean: duplicates and corrections first,
then records after death, then overlaps. No check mixes persons: each looks at one record, or
at the records of one person. Column names reach SQL only from the source schemas of
specs.sources (an allow-list); code lists go in as constants of the relational API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

import duckdb
from duckdb import DuckDBPyRelation as Relation

from specs import identifiers
from specs import sources as declared_sources
from specs.refusal import Refusal
from specs.sources import SOURCE_TABLES


class DefectKind(StrEnum):
    """What is wrong with a source record."""

    DUPLICATE_DECLARATION = "duplicate_declaration"
    CORRECTED_DECLARATION = "corrected_declaration"
    INVALID_CHECK_DIGITS = "invalid_check_digits"
    OVERLAPPING_EPISODE = "overlapping_episode"
    UNKNOWN_CODE = "unknown_code"
    AFTER_DEATH = "after_death"
    SUPERSEDED_VERSION = "superseded_version"
    VERSION_OUT_OF_ORDER = "version_out_of_order"
    MESSAGE_AFTER_EPISODE = "message_after_episode"


class Action(StrEnum):
    """What the pipeline does with a kind of defect."""

    CLEAN = "clean"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Rule:
    """A kind's action, and the rule in words (for the refusal message and the docs)."""

    action: Action
    text: str


RULES: Mapping[DefectKind, Rule] = MappingProxyType(
    {
        DefectKind.DUPLICATE_DECLARATION: Rule(
            Action.CLEAN, "identical DMFA lines: one copy is kept"
        ),
        DefectKind.CORRECTED_DECLARATION: Rule(
            Action.CLEAN,
            "DMFA lines with one key (person, quarter, employer, local unit, occupation start): "
            "only the highest declaration_version is kept",
        ),
        DefectKind.INVALID_CHECK_DIGITS: Rule(
            Action.REFUSE,
            "an INSZ, RSZ, KBO or local-unit number whose check digits do not match: refused, "
            "because guessing an identity is not the extractor's job",
        ),
        DefectKind.OVERLAPPING_EPISODE: Rule(
            Action.CLEAN,
            "an RVA episode or NIC phase that ends on or after the start of the person's next one "
            "is cut to end the day before; one left with no day is dropped",
        ),
        DefectKind.UNKNOWN_CODE: Rule(
            Action.REFUSE,
            "a value outside the column's code list: refused, because a code without a meaning "
            "cannot be released with one",
        ),
        DefectKind.AFTER_DEATH: Rule(
            Action.CLEAN,
            "a record that starts after the register's death date is dropped; one that runs past "
            "it is cut to end on it",
        ),
        DefectKind.SUPERSEDED_VERSION: Rule(
            Action.CLEAN,
            "A052 messages with one unique number: only the highest message_version is kept",
        ),
        DefectKind.VERSION_OUT_OF_ORDER: Rule(
            Action.CLEAN,
            "an A052 version made after a higher version of its number: the version number "
            "decides, so the highest version is kept whatever the days they were made",
        ),
        DefectKind.MESSAGE_AFTER_EPISODE: Rule(
            Action.CLEAN,
            "an A052 message about a quarter that begins after the end of the incapacity it "
            "reports holds no day of it: dropped",
        ),
    }
)

OCCUPATIONS = declared_sources.OCCUPATIONS.key
PERSONS = declared_sources.PERSONS.key
MESSAGES = declared_sources.A052_MESSAGES.key
# The corrections, the episode orders and the lifetimes the source tables declare.
_DECLARATION = declared_sources.DECLARATION_CORRECTION
_MESSAGE = declared_sources.MESSAGE_CORRECTION
DECLARATION_KEY = _DECLARATION.key
MESSAGE_KEY = _MESSAGE.key
EPISODES: Mapping[str, str] = MappingProxyType(
    {key: t.episode_order for key, t in SOURCE_TABLES.items() if t.episode_order is not None}
)
LIFETIMES: Mapping[str, declared_sources.Lifetime] = MappingProxyType(
    {key: t.lifetime for key, t in SOURCE_TABLES.items() if t.lifetime is not None}
)
# Valid-identifier predicates by column name (the schemes of specs.identifiers).
IDENTIFIER_CHECKS: Mapping[str, str] = MappingProxyType(
    {column: identifiers.VALID[scheme] for column, scheme in identifiers.OF_SOURCE_COLUMN.items()}
)


@dataclass(frozen=True)
class Finding:
    """How many records of one table hold one kind of defect (in one column, where it says)."""

    table: str
    kind: DefectKind
    column: str | None
    records: int

    @property
    def action(self) -> Action:
        return RULES[self.kind].action

    def as_dict(self) -> dict[str, object]:
        return {
            "table": self.table,
            "kind": self.kind.value,
            "column": self.column,
            "records": self.records,
            "rule": self.action.value,
        }

    def describe(self) -> str:
        where = f" in {self.column}" if self.column else ""
        noun = "record" if self.records == 1 else "records"
        return f"{self.table}: {self.records:,} {noun} with {self.kind.value}{where}"


class SourceDefects(Refusal, ValueError):
    """Sources hold defects no rule may clean; the message counts them, never quotes them."""


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _selected(result: Relation | None) -> Relation:
    """The relation of a select (queries stay in the calling function, where DuckDB finds the
    other input relations by name)."""
    if result is None:  # only statements without a result give None; these are all selects
        raise TypeError("expected a select statement")
    return result


def _one_row(result: Relation | None) -> tuple:
    return tuple(_selected(result).fetchall()[0])


def _column_findings(key: str, relation: Relation) -> list[Finding]:
    """Invalid check digits and unknown codes, a count per column. Each distinct value is
    checked once (identifiers and codes repeat over many records: ten times faster)."""
    findings = []
    for column in SOURCE_TABLES[key].columns:
        value = duckdb.ColumnExpression("value")
        if column.name in IDENTIFIER_CHECKS:
            kind = DefectKind.INVALID_CHECK_DIGITS
            valid = IDENTIFIER_CHECKS[column.name].format(c="value")
            wrong = duckdb.SQLExpression(f"not coalesce({valid}, false)")
        elif column.codes is not None:
            kind = DefectKind.UNKNOWN_CODE
            wrong = ~value.isin(*(duckdb.ConstantExpression(code) for code in column.codes))
        else:
            continue
        name = _quoted(column.name)
        values = relation.aggregate(f"{name} as value, count(*) as records", name)
        (records,) = _one_row(
            values.filter(value.isnotnull() & wrong).aggregate("coalesce(sum(records), 0)")
        )
        findings.append(Finding(key, kind, column.name, int(records)))
    return findings


# The DMFA lines whose key (DECLARATION_KEY) another line shares: only they can be copies or
# corrections. Keys are grouped by their hash, in a third of the time of grouping the five
# columns on 25 million lines; two keys with one hash only add lines with a key of their own,
# which are neither copies nor superseded, so the counts and the cleaning stay exact.
_KEY_HASH = f"hash({', '.join(DECLARATION_KEY)})"


def _shared_lines() -> str:
    """The SQL of `shared_keys` (the hashes of keys held by two lines or more) and `shared`
    (the lines with one of them), to follow a `with`."""
    return f"""
    shared_keys as (
        select {_KEY_HASH} as key_hash
        from occupations group by key_hash having count(*) > 1
    ),
    shared as (
        select * from occupations where {_KEY_HASH} in (select key_hash from shared_keys)
    )
"""


def _declaration_findings(occupations: Relation) -> list[Finding]:
    key, version = ", ".join(DECLARATION_KEY), _DECLARATION.version
    duplicates, superseded = _one_row(
        occupations.query(
            "occupations",
            "with"
            + _shared_lines()
            + f"""
        , superseded as (
            select 1 from shared
            qualify {version} < max({version}) over (partition by {key})
        ),
        counts as (
            select
                (select count(*) from shared)
                    - (select count(*) from (select distinct * from shared)) as duplicates,
                (select count(*) from superseded) as superseded
        )
        select * from counts
        """,
        )
    )
    return [
        Finding(OCCUPATIONS, DefectKind.DUPLICATE_DECLARATION, None, int(duplicates)),
        Finding(OCCUPATIONS, DefectKind.CORRECTED_DECLARATION, None, int(superseded)),
    ]


# The versions of each message, flagged by the three rules on A052 versions; the first day of
# the message's quarter is compared with the end of the incapacity it reports.
_FLAGGED_MESSAGES = f"""
    with flagged as (
        select *,
               {_MESSAGE.version} < max({_MESSAGE.version}) over message as is_superseded,
               created_date > min(created_date) over (
                   message order by {_MESSAGE.version} desc
                   rows between unbounded preceding and 1 preceding
               ) as is_out_of_order,
               make_date(quarter // 10, quarter % 10 * 3 - 2, 1) > incapacity_end
                   as is_after_episode
        from messages
        window message as (partition by {", ".join(MESSAGE_KEY)})
    )
"""


def _message_findings(messages: Relation) -> list[Finding]:
    superseded, out_of_order, after_episode = _one_row(
        messages.query(
            "messages",
            _FLAGGED_MESSAGES
            + """
        select count(*) filter (where is_superseded),
               count(*) filter (where is_out_of_order),
               count(*) filter (where is_after_episode)
        from flagged
        """,
        )
    )
    return [
        Finding(MESSAGES, DefectKind.SUPERSEDED_VERSION, None, int(superseded)),
        Finding(MESSAGES, DefectKind.VERSION_OUT_OF_ORDER, None, int(out_of_order)),
        Finding(MESSAGES, DefectKind.MESSAGE_AFTER_EPISODE, None, int(after_episode)),
    ]


def _latest_messages(messages: Relation) -> Relation:
    return _selected(
        messages.query(
            "messages",
            _FLAGGED_MESSAGES
            + """
        select * exclude (is_superseded, is_out_of_order, is_after_episode)
        from flagged
        where not is_superseded and not coalesce(is_after_episode, false)
        """,
        )
    )


def _overlap_findings(key: str, episodes: Relation) -> Finding:
    (overlapping,) = _one_row(
        episodes.query(
            "episodes",
            f"""
        with ordered as (
            select end_date,
                   lead(start_date) over (partition by insz order by {EPISODES[key]})
                       as next_start
            from episodes
        )
        select count(*) from ordered
        where next_start is not null and (end_date is null or end_date >= next_start)
        """,
        )
    )
    return Finding(key, DefectKind.OVERLAPPING_EPISODE, None, int(overlapping))


def _dated(key: str, relation: Relation) -> Relation:
    """The table with each record's first and last day (`first_day`, `last_day`; null: open),
    as its lifetime declares them."""
    lifetime = LIFETIMES[key]
    last_day = lifetime.end or "first_day"
    sql = f"select *, {lifetime.first_day} as first_day, {last_day} as last_day from records"
    return _selected(relation.query("records", sql))


def _after_death_finding(key: str, records: Relation, persons: Relation) -> Finding:
    dated = _dated(key, records)
    (after,) = _one_row(
        dated.query(
            "dated",
            """
        select count(*)
        from dated d
        join (select insz, min(death_date) as death_date from persons group by insz) p
          on p.insz = d.insz
        where p.death_date is not null
          and (d.first_day > p.death_date or coalesce(d.last_day > p.death_date, true))
        """,
        )
    )
    return Finding(key, DefectKind.AFTER_DEATH, None, int(after))


def find_defects(sources: Mapping[str, Relation]) -> list[Finding]:
    """Every kind of defect counted per table (and column), zeros included, in a fixed order."""
    findings: list[Finding] = []
    for key in SOURCE_TABLES:
        findings += _column_findings(key, sources[key])
    findings += _declaration_findings(sources[OCCUPATIONS])
    findings += _message_findings(sources[MESSAGES])
    findings += [_overlap_findings(key, sources[key]) for key in EPISODES]
    findings += [_after_death_finding(key, sources[key], sources[PERSONS]) for key in LIFETIMES]
    return findings


def report(findings: list[Finding]) -> str:
    """The nonzero findings, one per line: table, count, kind and column; never a value."""
    return "\n".join(f"  {f.describe()} ({f.action.value})" for f in findings if f.records)


def refuse_uncleanable(findings: list[Finding]) -> None:
    """SourceDefects when any finding's rule is to refuse; the message counts every finding."""
    refused = [f for f in findings if f.records and f.action is Action.REFUSE]
    if refused:
        rules = "; ".join(
            f"{kind.value}: {RULES[kind].text}" for kind in dict.fromkeys(f.kind for f in refused)
        )
        raise SourceDefects(
            "the sources hold records that no rule may clean, so nothing is extracted:\n"
            f"{report(findings)}\nrules: {rules}"
        )


def _without_duplicates_and_superseded(occupations: Relation) -> Relation:
    key, version = ", ".join(DECLARATION_KEY), _DECLARATION.version
    return _selected(
        occupations.query(
            "occupations",
            "with"
            + _shared_lines()
            + f"""
        , kept as (
            select distinct * from shared
            qualify {version} = max({version}) over (partition by {key})
        )
        select * from occupations
        where {_KEY_HASH} not in (select key_hash from shared_keys)
        union all
        select * from kept
        """,
        )
    )


def _until_death(key: str, records: Relation, persons: Relation) -> Relation:
    end = LIFETIMES[key].end
    dated = _dated(key, records)
    if end is None:  # a record about one day has no end to cut: it is kept or dropped
        cut = ""
    else:
        cut = f"""replace (
            case when p.death_date is not null and coalesce(d.last_day > p.death_date, true)
                 then p.death_date else d.{end} end as {end}
        )"""
    return _selected(
        dated.query(
            "dated",
            f"""
        select d.* exclude (first_day, last_day) {cut}
        from dated d
        left join (select insz, min(death_date) as death_date from persons group by insz) p
          on p.insz = d.insz
        where p.death_date is null or d.first_day <= p.death_date
        """,
        )
    )


def _without_overlaps(key: str, episodes: Relation) -> Relation:
    return _selected(
        episodes.query(
            "episodes",
            f"""
        with ordered as (
            select *,
                   lead(start_date) over (partition by insz order by {EPISODES[key]})
                       as next_start
            from episodes
        ),
        flagged as (
            select *,
                   next_start is not null and (end_date is null or end_date >= next_start)
                       as is_overlapping
            from ordered
        ),
        cut as (
            select * exclude (next_start, is_overlapping) replace (
                case when is_overlapping then next_start - 1 else end_date end as end_date
            )
            from flagged
            -- only an episode this rule cut can be left with no day; others stay as they are
            where not is_overlapping or next_start > start_date
        )
        select * from cut
        """,
        )
    )


def clean_sources(sources: Mapping[str, Relation], findings: list[Finding]) -> dict[str, Relation]:
    """The sources with every cleanable defect cleaned by its rule; untouched tables as given."""
    found = {(f.table, f.kind) for f in findings if f.records}
    cleaned = dict(sources)
    if {
        (OCCUPATIONS, DefectKind.DUPLICATE_DECLARATION),
        (OCCUPATIONS, DefectKind.CORRECTED_DECLARATION),
    } & found:
        cleaned[OCCUPATIONS] = _without_duplicates_and_superseded(cleaned[OCCUPATIONS])
    for key in LIFETIMES:
        if (key, DefectKind.AFTER_DEATH) in found:
            cleaned[key] = _until_death(key, cleaned[key], sources[PERSONS])
    if {
        (MESSAGES, DefectKind.SUPERSEDED_VERSION),
        (MESSAGES, DefectKind.VERSION_OUT_OF_ORDER),
        (MESSAGES, DefectKind.MESSAGE_AFTER_EPISODE),
    } & found:
        cleaned[MESSAGES] = _latest_messages(cleaned[MESSAGES])
    # after the records after death are gone, so that none of them cuts an episode short
    for key in EPISODES:
        if (key, DefectKind.OVERLAPPING_EPISODE) in found:
            cleaned[key] = _without_overlaps(key, cleaned[key])
    return cleaned


def checked_sources(
    sources: Mapping[str, Relation],
) -> tuple[dict[str, Relation], list[Finding]]:
    """What the checks found, and the sources cleaned by their rules (lazily: a run refused for
    what was found never reads the cleaned tables)."""
    findings = find_defects(sources)
    return clean_sources(sources, findings), findings
