"""Population and panels with exact values, from source relations (DuckDB).

Every function takes relations (or polars frames) and returns a relation; nothing here opens a
connection, reads a file or looks at the clock. The SQL refers to its inputs by their argument
names (DuckDB resolves them from the function's scope), so each query reads as the function it is.
Identifiers (insz, employer_rsz, local_unit_rsz) are still present in the output: the protect step
replaces them.

Situation "on the last day" of a month or quarter is taken on the person's reference day: the
last day of the period, or the day of death when the person died during it.
"""

from __future__ import annotations

import polars as pl
from duckdb import DuckDBPyRelation as Relation

from specs.model import PopulationRule


def _selected(result: Relation | None) -> Relation:
    """The relation of a select. (Queries stay in the calling function: DuckDB finds the other
    input relations by name in that function's scope.)"""
    if result is None:  # only statements without a result give None; these are all selects
        raise TypeError("expected a select statement")
    return result


def select_population(
    persons: Relation,
    incapacity: Relation,
    period_bounds: pl.DataFrame,
    rule: PopulationRule,
    rule_bounds: pl.DataFrame | None = None,
) -> Relation:
    """Persons alive during the period and, by rule, with an incapacity phase overlapping the
    rule's window (`rule_bounds`, by default the period itself)."""
    if rule_bounds is None:
        rule_bounds = period_bounds
    alive = _selected(
        persons.query(
            "persons",
            """
        select persons.insz, persons.birth_date, persons.death_date
        from persons, period_bounds b
        where persons.birth_date <= b.last_day
          and (persons.death_date is null or persons.death_date >= b.first_day)
        """,
        )
    )
    if rule is PopulationRule.ALL_PERSONS:
        return alive
    return _selected(
        alive.query(
            "alive",
            """
        select alive.*
        from alive
        where exists (
            select 1
            from incapacity i, rule_bounds b
            where i.insz = alive.insz
              and i.start_date <= b.last_day
              and (i.end_date is null or i.end_date >= b.first_day)
        )
        """,
        )
    )


def month_panel(
    population: Relation,
    months: pl.DataFrame,
    occupations: Relation,
    unemployment: Relation,
    incapacity: Relation,
) -> Relation:
    """Person x month: socio-economic position, unemployment and incapacity on the last day."""
    return _selected(
        population.query(
            "population",
            """
        with person_months as (
            select p.insz, m.month, least(m.month_end, coalesce(p.death_date, m.month_end)) as day
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
        ),
        situation as (
            select
                pm.insz,
                pm.month,
                w.insz is not null as is_employed,
                u.category as unemployment_category,
                u.daily_allowance_cents / 100.0 as unemployment_daily_allowance,
                u.start_date as unemployment_start,
                i.phase as incapacity_phase,
                i.nature as incapacity_nature,
                i.primary_start_date as incapacity_start,
                episode_end.end_date as incapacity_end,
                i.daily_benefit_cents / 100.0 as incapacity_daily_benefit
            from person_months pm
            left join working w on w.insz = pm.insz and w.month = pm.month
            left join unemployment u
              on u.insz = pm.insz
             and u.start_date <= pm.day
             and (u.end_date is null or u.end_date >= pm.day)
            left join incapacity i
              on i.insz = pm.insz
             and i.start_date <= pm.day
             and (i.end_date is null or i.end_date >= pm.day)
            left join (
                -- an episode ends where its last phase ends; null while any phase is open
                select insz, episode,
                       case when bool_or(end_date is null) then null else max(end_date) end
                           as end_date
                from incapacity
                group by insz, episode
            ) episode_end
              on episode_end.insz = i.insz and episode_end.episode = i.episode
        ),
        final as (
            select
                insz,
                month,
                -- closest to the labour market wins: work (also alongside a limited incapacity),
                -- then job-seeking, then the kinds of inactivity
                case
                    when is_employed and coalesce(incapacity_nature, 'LIMITED') = 'LIMITED'
                        then '111'
                    when unemployment_category is not null then '211'
                    when incapacity_phase = 'primary' then '331'
                    when incapacity_phase = 'invalidity' then '332'
                    else '399'
                end as socio_economic_position,
                unemployment_category,
                unemployment_daily_allowance,
                unemployment_start,
                incapacity_phase,
                incapacity_nature,
                incapacity_start,
                incapacity_end,
                incapacity_daily_benefit
            from situation
        )
        select * from final
        """,
        )
    )


def quarter_panel(
    population: Relation,
    quarters: pl.DataFrame,
    persons: Relation,
    residences: Relation,
    nationalities: Relation,
    households: Relation,
    occupations: Relation,
    incapacity: Relation,
) -> Relation:
    """Person x quarter: person characteristics on the last day, employment over the quarter."""
    return _selected(
        population.query(
            "population",
            """
        with person_quarters as (
            select p.insz, q.quarter, q.dmfa_quarter,
                   least(q.quarter_end, coalesce(p.death_date, q.quarter_end)) as day
            from population p
            join quarters q
              on p.birth_date <= q.quarter_end
             and (p.death_date is null or p.death_date >= q.quarter_start)
        ),
        jobs as (
            select insz, quarter, count(*) as job_count,
                   sum(gross_wage_cents) / 100.0 as gross_wage
            from occupations
            group by insz, quarter
        ),
        final as (
            select
                pq.insz,
                pq.quarter,
                pe.birth_date,
                pe.death_date,
                pe.sex,
                r.nis_code as municipality,
                n.nationality,
                pe.first_nationality,
                h.lipro as lipro_position,
                h.household_size,
                coalesce(j.job_count, 0)::INTEGER as job_count,
                j.gross_wage,
                i.primary_start_date as primary_incapacity_start
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
            left join jobs j on j.insz = pq.insz and j.quarter = pq.dmfa_quarter
            left join incapacity i
              on i.insz = pq.insz and i.start_date <= pq.day
             and (i.end_date is null or i.end_date >= pq.day)
        )
        select * from final
        """,
        )
    )


def job_panel(population: Relation, quarters: pl.DataFrame, occupations: Relation) -> Relation:
    """Person x quarter x job: every DMFA occupation line of the quarter, numbered per person."""
    return _selected(
        population.query(
            "population",
            """
        with lines as (
            select o.*, q.quarter as quarter_label
            from occupations o
            join population p on p.insz = o.insz
            join quarters q on q.dmfa_quarter = o.quarter
        ),
        final as (
            select
                insz,
                quarter_label as quarter,
                row_number() over (
                    partition by insz, quarter
                    order by occupation_start, employer_rsz, local_unit_id, gross_wage_cents
                )::INTEGER as job,
                employer_rsz as employer_id,
                local_unit_id,
                joint_committee,
                worker_code,
                contract_type,
                round(100.0 * q_hours / s_hours, 2) as part_time_percentage,
                days_worked / 100.0 as paid_days,
                gross_wage_cents / 100.0 as job_gross_wage,
                -- paid days are counted on the 5-day full-time regime, so the wage per paid day
                -- is already the full-time daily wage (a 38-hour week)
                case when days_worked > 0
                     then round(gross_wage_cents / days_worked, 2) end as daily_wage,
                occupation_start
            from lines
        )
        select * from final
        """,
        )
    )


def year_panel(population: Relation, years: pl.DataFrame, career: Relation) -> Relation:
    """Person x year: SIGEDIS career days and main employer, over the career years asked for."""
    return _selected(
        population.query(
            "population",
            """
        select
            c.insz,
            c.year::INTEGER as year,
            c.worked_days::INTEGER as career_worked_days,
            c.assimilated_days::INTEGER as career_assimilated_days,
            c.employer_rsz as career_employer_id
        from career c
        join population p on p.insz = c.insz
        join years y on y.year = c.year
        """,
        )
    )
