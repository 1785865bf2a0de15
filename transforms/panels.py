"""Panels with exact values, from source relations (DuckDB).

Every function takes relations (or polars frames) and returns a relation; nothing here opens a
connection, reads a file or looks at the clock. The SQL refers to its inputs by their argument
names (DuckDB resolves them from the function's scope), so each query reads as the function it is.
Identifiers (insz, employer_rsz, local_unit_rsz) are still present in the output: the protect step
replaces them.

Situation "on the last day" of a month or quarter is taken on the person's reference day: the
last day of the period, or the day of death when the person died during it.

Two kinds of variable: those the catalog reads from one source table (`FromSource`) are added by
one generic join per source table (`attach_sources`): the row valid on the reference day for
spell tables, the row of the panel's period for period tables. Those derived from several
sources (socio-economic position, counts of jobs, daily wage, ...) keep their own SQL below.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl
from duckdb import DuckDBPyRelation as Relation

from specs import sources as declared_sources
from specs.catalog import VARIABLES, FromSource, Variable
from specs.values import Period
from transforms import calendar
from transforms.relations import attach_table, identifier, selected, variable_columns

# The source tables the panels' own SQL reads, by their keys (specs.sources declares them).
OCCUPATIONS = declared_sources.OCCUPATIONS.key
CAREER = declared_sources.CAREER.key
PERSONS = declared_sources.PERSONS.key
MESSAGES = declared_sources.A052_MESSAGES.key
# The sources of the month and quarter panels' own SQL, in the order of their parameters.
MONTH_SOURCES = (
    OCCUPATIONS,
    declared_sources.UNEMPLOYMENT.key,
    declared_sources.INCAPACITY.key,
    declared_sources.JOBSEEKERS.key,
    declared_sources.DISABILITY.key,
    declared_sources.SELF_EMPLOYED.key,
)
QUARTER_SOURCES = (
    declared_sources.PERSONS.key,
    declared_sources.RESIDENCES.key,
    declared_sources.NATIONALITIES.key,
    declared_sources.HOUSEHOLDS.key,
    OCCUPATIONS,
    declared_sources.UNEMPLOYMENT.key,
    declared_sources.INCAPACITY.key,
    declared_sources.SELF_EMPLOYED.key,
)


# The socio-economic position on a day, from the situation columns (is_employed,
# is_self_employed, unemployment_category, incapacity_phase, incapacity_nature): the position
# closest to the labour market wins: salaried work (also alongside a limited incapacity), a
# self-employed main occupation, then job-seeking, then the kinds of inactivity. Shared by the
# month and the quarter panel.
_POSITION = """
    case
        when is_employed and coalesce(incapacity_nature, 'LIMITED') = 'LIMITED' then '111'
        when is_self_employed then '121'
        when unemployment_category is not null then '211'
        when incapacity_phase = 'primary' then '331'
        when incapacity_phase = 'invalidity' then '332'
        else '399'
    end
"""


# The month panel's SQL in parts, so that the positions alone (`month_positions`, read by the
# disclosure risk's trajectories) are computed by the same text as the panel's.
# Each person's months, with their reference day.
_PERSON_MONTHS = """
    person_months as (
        select p.insz, m.month, m.month_start,
               least(m.month_end, coalesce(p.death_date, m.month_end)) as day,
               (year(m.month_start) * 100 + month(m.month_start))::INTEGER as period_code
        from population p
        join months m
          on p.birth_date <= m.month_end
         and (p.death_date is null or p.death_date >= m.month_start)
    ),
    spells as (
        select distinct insz, occupation_start, occupation_end from occupations
    ),
    working as (
        select distinct pm.insz, pm.month
        from person_months pm
        join spells s
          on s.insz = pm.insz
         and s.occupation_start <= pm.day
         and (s.occupation_end is null or s.occupation_end >= pm.day)
    )
"""
# The situation columns `_POSITION` reads, and the joins they come from (on person_months pm).
_POSITION_INPUTS = """
    w.insz is not null as is_employed,
    u.category as unemployment_category,
    i.phase as incapacity_phase,
    i.nature as incapacity_nature,
    exists (
        -- a self-employed main occupation (category 1)
        select 1 from self_employed x
        where x.insz = pm.insz and x.category = '1' and x.start_date <= pm.day
          and (x.end_date is null or x.end_date >= pm.day)
    ) as is_self_employed
"""
_POSITION_JOINS = """
    left join working w on w.insz = pm.insz and w.month = pm.month
    left join unemployment u
      on u.insz = pm.insz
     and u.start_date <= pm.day
     and (u.end_date is null or u.end_date >= pm.day)
    left join incapacity i
      on i.insz = pm.insz
     and i.start_date <= pm.day
     and (i.end_date is null or i.end_date >= pm.day)
"""
# The sources of `month_positions`, in the order of its parameters.
POSITION_SOURCES = (
    OCCUPATIONS,
    declared_sources.UNEMPLOYMENT.key,
    declared_sources.INCAPACITY.key,
    declared_sources.SELF_EMPLOYED.key,
)


def month_panel(
    population: Relation,
    months: pl.DataFrame,
    occupations: Relation,
    unemployment: Relation,
    incapacity: Relation,
    jobseekers: Relation,
    disability: Relation,
    self_employed: Relation,
) -> Relation:
    """Person x month: socio-economic position with its supplementary positions, unemployment
    and incapacity on the last day, days of incapacity in the month."""
    return selected(
        population.query(
            "population",
            f"""
        with {_PERSON_MONTHS},
        episode_end as (
            -- an episode ends where its last phase ends; null while any phase is open
            select insz, episode,
                   case when bool_or(end_date is null) then null else max(end_date) end
                       as end_date
            from incapacity
            group by insz, episode
        ),
        days_ill as (
            select pm.insz, pm.month,
                   sum(date_diff('day', greatest(i.start_date, pm.month_start),
                                 least(coalesce(i.end_date, pm.day), pm.day)) + 1)::INTEGER
                       as days
            from person_months pm
            join incapacity i
              on i.insz = pm.insz and i.start_date <= pm.day
             and (i.end_date is null or i.end_date >= pm.month_start)
            group by pm.insz, pm.month
        ),
        situation as (
            select
                pm.insz,
                pm.month,
                pm.day,
                pm.period_code,
                {_POSITION_INPUTS},
                u.daily_allowance_cents / 100.0 as unemployment_daily_allowance,
                u.start_date as unemployment_start,
                i.primary_start_date as incapacity_start,
                e.end_date as incapacity_end,
                i.daily_benefit_cents / 100.0 as incapacity_daily_benefit,
                coalesce(d.days, 0)::INTEGER as incapacity_days,
                exists (
                    select 1 from jobseekers j
                    where j.insz = pm.insz and j.start_date <= pm.day
                      and (j.end_date is null or j.end_date >= pm.day)
                ) as is_registered,
                exists (
                    select 1 from disability x
                    where x.insz = pm.insz and x.start_date <= pm.day
                      and (x.end_date is null or x.end_date >= pm.day)
                ) as has_disability
            from person_months pm
            {_POSITION_JOINS}
            left join episode_end e on e.insz = i.insz and e.episode = i.episode
            left join days_ill d on d.insz = pm.insz and d.month = pm.month
        ),
        positioned as (
            select *, {_POSITION} as socio_economic_position
            from situation
        ),
        supplementary as (
            -- the other statuses of the day, in the same order, without the main position
            select *,
                list_filter(
                    [
                        case when unemployment_category is not null then '211' end,
                        case incapacity_phase when 'primary' then '331'
                                              when 'invalidity' then '332' end,
                        case when has_disability then '340' end,
                        case when is_registered and unemployment_category is null
                             then '350' end
                    ],
                    lambda x: x is not null and x <> socio_economic_position
                ) as others
            from positioned
        ),
        final as (
            select
                insz,
                month,
                day,
                period_code,
                socio_economic_position,
                others[1] as supplementary_position_1,
                others[2] as supplementary_position_2,
                unemployment_category,
                unemployment_daily_allowance,
                unemployment_start,
                incapacity_phase,
                incapacity_nature,
                incapacity_start,
                incapacity_end,
                incapacity_daily_benefit,
                incapacity_days
            from supplementary
        )
        select * from final
        """,
        )
    )


def month_positions(
    population: Relation,
    months: pl.DataFrame,
    occupations: Relation,
    unemployment: Relation,
    incapacity: Relation,
    self_employed: Relation,
) -> Relation:
    """Person x month: the month panel's rows with their socio-economic position only, by the
    panel's own SQL without the columns the position does not read (about half its time)."""
    return selected(
        population.query(
            "population",
            f"""
        with {_PERSON_MONTHS},
        situation as (
            select pm.insz, pm.month, {_POSITION_INPUTS}
            from person_months pm
            {_POSITION_JOINS}
        )
        select insz, month, {_POSITION} as socio_economic_position from situation
        """,
        )
    )


# Household type from the LIPRO position (domain.md 3.3): the type of the household the
# position implies; a child's household is its parents' type with children.
_HOUSEHOLD_TYPE = """
    case h.lipro
        when 'SING' then '1'
        when 'MAR0' then '2'
        when 'MAR+' then '3' when 'CMAR' then '3'
        when 'UNM0' then '4'
        when 'UNM+' then '5' when 'CUNM' then '5'
        when 'H1PA' then '6' when 'C1PA' then '6'
        when 'COLL' then '8'
        when 'NFRP' then '7' when 'OTHR' then '7'
    end
"""
# Benefit days on the 6-day regime: six of every seven calendar days.
_SIX_DAY_SHARE = "6.0 / 7.0"


def quarter_panel(
    population: Relation,
    quarters: pl.DataFrame,
    persons: Relation,
    residences: Relation,
    nationalities: Relation,
    households: Relation,
    occupations: Relation,
    unemployment: Relation,
    incapacity: Relation,
    self_employed: Relation,
) -> Relation:
    """Person x quarter: person characteristics and situation on the last day, employment and
    incapacity over the quarter."""
    return selected(
        population.query(
            "population",
            f"""
        with person_quarters as (
            select p.insz, q.quarter, q.dmfa_quarter as period_code, q.quarter_start,
                   least(q.quarter_end, coalesce(p.death_date, q.quarter_end)) as day
            from population p
            join quarters q
              on p.birth_date <= q.quarter_end
             and (p.death_date is null or p.death_date >= q.quarter_start)
        ),
        jobs as (
            select insz, quarter, count(*) as job_count,
                   sum(gross_wage_cents) / 100.0 as gross_wage,
                   -- ties on days and wage go to the highest code, whatever the row order
                   arg_max(importance_code, (days_worked, gross_wage_cents, importance_code))
                       as main_importance_code
            from occupations
            group by insz, quarter
        ),
        working as (
            select distinct pq.insz, pq.quarter
            from person_quarters pq
            join occupations o
              on o.insz = pq.insz and o.occupation_start <= pq.day
             and (o.occupation_end is null or o.occupation_end >= pq.day)
        ),
        incapacity_days as (
            -- calendar days of each phase within the quarter (up to the reference day)
            select pq.insz, pq.quarter,
                   sum(date_diff('day', greatest(i.start_date, pq.quarter_start),
                                 least(coalesce(i.end_date, pq.day), pq.day)) + 1)::INTEGER
                       as days
            from person_quarters pq
            join incapacity i
              on i.insz = pq.insz and i.start_date <= pq.day
             and (i.end_date is null or i.end_date >= pq.quarter_start)
            group by pq.insz, pq.quarter
        ),
        cumulated as (
            -- benefits of the episode running on the day: every phase from its start up to
            -- the day, at its daily benefit on the 6-day regime
            select pq.insz, pq.quarter,
                   round(sum(
                       (date_diff('day', e.start_date, least(coalesce(e.end_date, pq.day), pq.day))
                        + 1) * {_SIX_DAY_SHARE} * e.daily_benefit_cents / 100.0), 2)
                       as cumulative_benefits
            from person_quarters pq
            join incapacity i
              on i.insz = pq.insz and i.start_date <= pq.day
             and (i.end_date is null or i.end_date >= pq.day)
            join incapacity e
              on e.insz = i.insz and e.episode = i.episode and e.start_date <= pq.day
            group by pq.insz, pq.quarter
        ),
        situation as (
            select
                pq.insz,
                pq.quarter,
                pq.day,
                pq.period_code,
                pe.birth_date,
                pe.death_date,
                pe.sex,
                r.nis_code as municipality,
                n.nationality,
                pe.first_nationality,
                h.lipro as lipro_position,
                h.household_size,
                {_HOUSEHOLD_TYPE} as household_type,
                coalesce(j.job_count, 0)::INTEGER as job_count,
                (coalesce(j.job_count, 0)
                 + (se.insz is not null)::INTEGER)::INTEGER as total_job_count,
                j.gross_wage,
                j.main_importance_code,
                i.primary_start_date as primary_incapacity_start,
                w.insz is not null as is_employed,
                coalesce(se.is_main, false) as is_self_employed,
                u.category as unemployment_category,
                i.phase as incapacity_phase,
                i.nature as incapacity_nature,
                coalesce(d.days, 0)::INTEGER as incapacity_days_quarter,
                round(coalesce(d.days, 0) * {_SIX_DAY_SHARE})::INTEGER as incapacity_paid_days,
                c.cumulative_benefits
            from person_quarters pq
            join persons pe on pe.insz = pq.insz
            left join residences r
              on r.insz = pq.insz and r.valid_from <= pq.day
             and (r.valid_until is null or r.valid_until >= pq.day)
            left join nationalities n
              on n.insz = pq.insz and n.valid_from <= pq.day
             and (n.valid_until is null or n.valid_until >= pq.day)
            left join households h
              on h.insz = pq.insz and h.valid_from <= pq.day
             and (h.valid_until is null or h.valid_until >= pq.day)
            left join jobs j on j.insz = pq.insz and j.quarter = pq.period_code
            left join working w on w.insz = pq.insz and w.quarter = pq.quarter
            left join unemployment u
              on u.insz = pq.insz and u.start_date <= pq.day
             and (u.end_date is null or u.end_date >= pq.day)
            left join incapacity i
              on i.insz = pq.insz and i.start_date <= pq.day
             and (i.end_date is null or i.end_date >= pq.day)
            left join incapacity_days d on d.insz = pq.insz and d.quarter = pq.quarter
            left join cumulated c on c.insz = pq.insz and c.quarter = pq.quarter
            left join (
                select x.insz, pq2.quarter, bool_or(x.category = '1') as is_main
                from self_employed x
                join person_quarters pq2
                  on pq2.insz = x.insz and x.start_date <= pq2.day
                 and (x.end_date is null or x.end_date >= pq2.day)
                group by x.insz, pq2.quarter
            ) se on se.insz = pq.insz and se.quarter = pq.quarter
        ),
        final as (
            select * exclude (is_employed, is_self_employed, unemployment_category,
                              incapacity_phase, incapacity_nature),
                   {_POSITION} as socio_economic_position_quarter
            from situation
        )
        select * from final
        """,
        )
    )


def job_panel(
    population: Relation,
    quarters: pl.DataFrame,
    occupations: Relation,
    variables: Sequence[Variable] = (),
) -> Relation:
    """Person x quarter x job: every DMFA occupation line of the quarter, numbered per person,
    with the main job of the quarter and the main line at each employer marked, and the
    variables read from the line itself."""
    extra = variable_columns(variables, OCCUPATIONS)
    return selected(
        population.query(
            "population",
            f"""
        with lines as (
            select o.*, q.quarter as quarter_label
            from occupations o
            join population p on p.insz = o.insz
            join quarters q on q.dmfa_quarter = o.quarter
        ),
        final as (
            select
                s.insz,
                s.quarter_label as quarter,
                row_number() over (
                    partition by s.insz, s.quarter
                    order by s.occupation_start, s.employer_rsz, s.local_unit_id,
                             s.gross_wage_cents
                )::INTEGER as job,
                s.employer_rsz as employer_id,
                s.local_unit_id,
                s.joint_committee,
                s.worker_code,
                s.contract_type,
                round(100.0 * s.q_hours / s.s_hours, 2) as part_time_percentage,
                s.days_worked / 100.0 as paid_days,
                s.gross_wage_cents / 100.0 as job_gross_wage,
                -- paid days are counted on the 5-day full-time regime, so the wage per paid day
                -- is already the full-time daily wage (a 38-hour week)
                case when s.days_worked > 0
                     then round(s.gross_wage_cents / s.days_worked, 2) end as daily_wage,
                s.occupation_start,
                -- the main job: most paid days, then the highest wage
                case when row_number() over (
                    partition by s.insz, s.quarter
                    order by s.days_worked desc, s.gross_wage_cents desc, s.occupation_start,
                             s.employer_rsz, s.local_unit_id
                ) = 1 then 'Y' else 'N' end as main_job,
                case when row_number() over (
                    partition by s.insz, s.quarter, s.employer_rsz
                    order by s.gross_wage_cents desc, s.days_worked desc, s.occupation_start,
                             s.local_unit_id
                ) = 1 then 'Y' else 'N' end as main_line_at_employer
                {extra}
            from lines s
        )
        select * from final
        """,
        )
    )


def message_panel(
    population: Relation,
    quarters: pl.DataFrame,
    messages: Relation,
    variables: Sequence[Variable] = (),
) -> Relation:
    """Person x quarter x message: every A052 message about a quarter of the period (the
    source checks leave each unique number's latest version), numbered per person and quarter
    in the order of their unique numbers, with the variables read from the message."""
    extra = variable_columns(variables, MESSAGES)
    return selected(
        population.query(
            "population",
            f"""
        with about_the_period as (
            select m.*, q.quarter as quarter_label
            from messages m
            join population p on p.insz = m.insz
            join quarters q on q.dmfa_quarter = m.quarter
        ),
        final as (
            select
                s.insz,
                s.quarter_label as quarter,
                row_number() over (
                    partition by s.insz, s.quarter order by s.message_number, s.message_version
                )::INTEGER as message
                {extra}
            from about_the_period s
        )
        select * from final
        """,
        )
    )


def year_panel(
    population: Relation,
    years: pl.DataFrame,
    career: Relation,
    variables: Sequence[Variable] = (),
) -> Relation:
    """Person x year: SIGEDIS career days, main employer and career length so far, over the
    career years asked for."""
    extra = variable_columns(variables, CAREER)
    return selected(
        population.query(
            "population",
            f"""
        with counted as (
            -- the career length counts every year with days, also those before the panel
            select c.*,
                   count(*) filter (where c.worked_days + c.assimilated_days > 0) over (
                       partition by c.insz order by c.year
                       rows between unbounded preceding and current row
                   )::INTEGER as career_length_years
            from career c
            semi join population p on p.insz = c.insz
        )
        select
            s.insz,
            s.year::INTEGER as year,
            s.worked_days::INTEGER as career_worked_days,
            s.assimilated_days::INTEGER as career_assimilated_days,
            s.employer_rsz as career_employer_id,
            s.career_length_years
            {extra}
        from counted s
        join years y on y.year = s.year
        """,
        )
    )


def attach_sources(
    panel: pl.DataFrame,
    period_key: str,
    variables: Sequence[Variable],
    sources: Mapping[str, Relation],
) -> pl.DataFrame:
    """Add every variable read from one source table: per table, the row valid on each panel
    row's reference day (`day`) for spell tables, or the row of the panel's period
    (`period_code`) for period tables; where spells overlap, the latest started one wins.
    Each table is looked up on its own over the panel's keys (a chain of lookups in one query
    would compute the chain below each link twice), its rows put back in the panel's order by
    the panel's row number, and its columns set beside the panel's (no join back: half the
    time of a lookup and its join)."""
    tables = sorted(attached_tables(variables))
    if not tables:
        return panel
    key = identifier(period_key)
    b = panel.select("insz", key, "day", "period_code").with_row_index(_ROW)  # noqa: F841
    keys = selected(
        sources[tables[0]].query("unused__", f"select {_ROW}, insz, {key}, day, period_code from b")
    )
    for table_key in tables:
        found = attach_table(keys, sources[table_key], table_key, key, variables)  # noqa: F841
        in_order = f"""
            select * exclude ({_ROW}, insz, {key}, day, period_code) from found order by {_ROW}
        """
        panel = panel.hstack(selected(found.query("found", in_order)).pl())
    return panel


_ROW = "panel_row__"  # a panel row's number, while its variables are looked up


def attached_tables(variables: Sequence[Variable]) -> set[str]:
    """The source tables `attach_sources` reads for these variables."""
    return {v.origin.table for v in variables if isinstance(v.origin, FromSource)} - {
        OCCUPATIONS,
        CAREER,
    }


def quarter_rows(
    population: Relation,
    quarters: pl.DataFrame,
    sources: Mapping[str, Relation],
    variables: Sequence[Variable],
) -> pl.DataFrame:
    """The quarter panel's rows of `quarters` (a part of the period's calendar, or all of it),
    with `variables`: a row depends on its person and its quarter alone."""
    base = quarter_panel(population, quarters, *(sources[k] for k in QUARTER_SOURCES))
    return attach_sources(base.pl(), "quarter", variables, sources)


def build_panel(
    population: Relation,
    period: Period,
    sources: Mapping[str, Relation],
    panel: str,
    requested: Sequence[str],
) -> pl.DataFrame:
    """One exact panel, with the variables `requested` in it."""
    variables = [VARIABLES[n] for n in requested]
    if panel == "month":
        base = month_panel(
            population, calendar.months(period), *(sources[k] for k in MONTH_SOURCES)
        )
        return attach_sources(base.pl(), "month", variables, sources)
    if panel == "quarter":
        return quarter_rows(population, calendar.quarters(period), sources, variables)
    if panel == "quarter_job":
        return job_panel(
            population, calendar.quarters(period), sources[OCCUPATIONS], variables
        ).pl()
    if panel == "a052":
        return message_panel(
            population, calendar.quarters(period), sources[MESSAGES], variables
        ).pl()
    if panel == "year":
        return year_panel(population, calendar.years(period), sources[CAREER], variables).pl()
    raise ValueError(f"no builder for panel {panel!r}")


def build_panels(
    population: Relation,
    period: Period,
    sources: Mapping[str, Relation],
    names: Mapping[str, Sequence[str]],
) -> dict[str, pl.DataFrame]:
    """The exact panels, each with the variables `names` asks for in it (by panel)."""
    return {
        panel: build_panel(population, period, sources, panel, requested)
        for panel, requested in names.items()
        if requested
    }
