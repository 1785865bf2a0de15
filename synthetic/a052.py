"""A052 messages (04/037 points 1.2 and 7.1): what the insurers report, per quarter, of the
incapacity of a salaried worker.

Every NIC episode of a salaried worker gives its messages: one per quarter the episode covers
(to the end of the sources), with the occupation the person held on the first day of illness
as the employer occurrence (the DMFA line of that day: RSZ number, categories, joint committee,
Q and S), one day occurrence (the paid days of the quarter, 6-day regime), and the episode's
benefit type, nature and dates. An episode is salaried when the guaranteed-wage month came
first (synthetic.nic) and a DMFA occupation runs on the first day of illness; the others
(unemployed persons, jobs the DMFA does not show) give no message.

The quarter in which an episode ends carries point 7.1's fields: the fitness date (the day
after the end), decided by the advisory physician, or by RIZIV once the episode reached
invalidity; and a childbirth reported during an episode of a woman of childbearing age.

A share of the messages is corrected: the first version declared the wrong number of days,
a later version (same unique number, next version number, status CORRECTION) the right one.
Drawn from a stream of its own, so every other table keeps its values.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synthetic.draws import overlap_per_period, uniform_days
from synthetic.register import END

# Days a message is made after the end of its quarter, and a correction after the message.
CREATED_AFTER_QUARTER_DAYS = (5, 40)
CORRECTED_AFTER_DAYS = (10, 90)
SHARE_CORRECTED = 0.08
# The first version of a corrected message declared this many days too many.
DAYS_FIRST_DECLARED_TOO_MANY = 3
# Childbirth reported during an episode: women aged 18-44 at its start.
SHARE_WITH_CHILDBIRTH = 0.06
CHILDBEARING_AGES = (18, 45)
# a birth falls within the first nine months of the episode
MAX_BIRTH_OFFSET_DAYS = 270
DAYS_PER_WEEK = 6  # A052 counts days in the 6-day regime
JOB_KEY = ("insz", "employer_rsz", "local_unit_id", "occupation_start")
# message number: the person's number (9 digits) and the message's within the person (3)
PERSON_DIGITS, MESSAGE_DIGITS = 9, 3


def _salaried_episodes(incapacity: pl.DataFrame, occupations: pl.DataFrame) -> pl.DataFrame:
    """Each episode of a salaried worker (one row), with the occupation of its first day of
    illness (the latest started one, where several run that day)."""
    episodes = (
        incapacity.filter(pl.col("primary_start_date") > pl.col("illness_start_date"))
        .group_by("insz", "episode")
        .agg(
            illness_start_date=pl.col("illness_start_date").first(),
            incapacity_start=pl.col("primary_start_date").first(),
            # an open phase leaves the episode open
            incapacity_end=pl.when(pl.col("end_date").is_null().any())
            .then(None)
            .otherwise(pl.col("end_date").max()),
            reached_invalidity=(pl.col("phase") == "invalidity").any(),
            benefit_type=pl.col("benefit_type").first(),
            nature=pl.col("nature").first(),
        )
        .sort("insz", "episode")
    )
    jobs = (
        occupations.sort("quarter", "declaration_version")
        .unique(JOB_KEY, keep="last")
        .select(
            *JOB_KEY,
            "occupation_end",
            "employer_category",
            "worker_code",
            "joint_committee",
            "q_hours",
            "s_hours",
        )
    )
    return (
        episodes.join(jobs, on="insz")
        .filter(
            (pl.col("occupation_start") <= pl.col("illness_start_date"))
            & (
                pl.col("occupation_end").is_null()
                | (pl.col("occupation_end") >= pl.col("illness_start_date"))
            )
        )
        .sort("insz", "episode", "occupation_start", "employer_rsz", "local_unit_id")
        .unique(["insz", "episode"], keep="last", maintain_order=True)
        .drop("local_unit_id", "occupation_end")
    )


def messages_table(
    rng: np.random.Generator,
    incapacity: pl.DataFrame,
    occupations: pl.DataFrame,
    people: pl.DataFrame,
) -> pl.DataFrame:
    """Every version of every A052 message of the persons of `people` (register.persons_frame)."""
    episodes = _salaried_episodes(incapacity, occupations)
    quarters = overlap_per_period(episodes, "incapacity_start", "incapacity_end", "3mo", "quarter")
    quarters = quarters.join(
        people.select("insz", "person", "is_man", "birth_date"), on="insz", maintain_order="left"
    ).sort("insz", "quarter", "episode")
    n = quarters.height
    quarter_first = pl.date(pl.col("quarter") // 10, pl.col("quarter") % 10 * 3 - 2, 1)
    quarter_last = quarter_first.dt.offset_by("3mo") - pl.duration(days=1)
    ended = pl.col("incapacity_end").is_not_null() & (pl.col("incapacity_end") < pl.lit(END))
    ends_here = ended & (pl.col("incapacity_end") <= quarter_last)
    age = (pl.col("incapacity_start") - pl.col("birth_date")).dt.total_days() / 365.25
    may_give_birth = ~pl.col("is_man") & age.is_between(*CHILDBEARING_AGES, closed="left")
    # the birth date is drawn per episode, and shown on the message of its quarter
    span = (pl.col("incapacity_end").fill_null(pl.lit(END)) - pl.col("incapacity_start")).dt
    per_episode = ["insz", "episode"]
    messages = quarters.with_columns(
        _sequence=pl.int_range(1, pl.len() + 1).over("insz"),
        _birth_draw=pl.Series(rng.random(n)),
        _birth_offset=pl.Series(rng.random(n)),
        created_date=quarter_last
        + pl.duration(days=pl.lit(uniform_days(rng, *CREATED_AFTER_QUARTER_DAYS, n))),
        _corrected=pl.Series(rng.random(n) < SHARE_CORRECTED),
        _corrected_after=uniform_days(rng, *CORRECTED_AFTER_DAYS, n),
    ).with_columns(
        _with_birth=may_give_birth
        & (pl.col("_birth_draw").first().over(per_episode) < SHARE_WITH_CHILDBIRTH),
        _birth_day=pl.col("incapacity_start")
        + pl.duration(
            days=(
                pl.col("_birth_offset").first().over(per_episode)
                * span.total_days().clip(0, MAX_BIRTH_OFFSET_DAYS)
            ).cast(pl.Int64)
        ),
    )
    full_days = (pl.col("days") * DAYS_PER_WEEK / 7).round().cast(pl.Int32)
    latest = messages.with_columns(
        message_number=(pl.col("person").cast(pl.Int64) + 1)
        .cast(pl.String)
        .str.zfill(PERSON_DIGITS)
        + pl.col("_sequence").cast(pl.String).str.zfill(MESSAGE_DIGITS),
        incapacity_end=pl.when(pl.col("incapacity_end") <= quarter_last).then("incapacity_end"),
        fitness_decision_source=pl.when(ends_here).then(
            pl.when("reached_invalidity").then(pl.lit("RIZIV")).otherwise(pl.lit("MA"))
        ),
        fitness_date=pl.when(ends_here).then(pl.col("incapacity_end") + pl.duration(days=1)),
        childbirth_date=pl.when(
            pl.col("_with_birth") & pl.col("_birth_day").is_between(quarter_first, quarter_last)
        ).then("_birth_day"),
        employer_count=pl.lit(1, pl.Int32),
        day_block_count=pl.lit(1, pl.Int32),
        day_type=pl.lit("PAID"),
        days=full_days,
        worker_class=pl.col("worker_code").replace_strict(
            {"015": "1", "495": "2"}, default="4", return_dtype=pl.String
        ),
    )
    first_of_corrected = latest.filter("_corrected").with_columns(
        message_version=pl.lit(1, pl.Int32),
        status=pl.lit("NEW"),
        days=pl.col("days") + DAYS_FIRST_DECLARED_TOO_MANY,
        _order=pl.lit(0),
    )
    final = latest.with_columns(
        message_version=pl.when("_corrected").then(2).otherwise(1).cast(pl.Int32),
        status=pl.when("_corrected").then(pl.lit("CORRECTION")).otherwise(pl.lit("NEW")),
        created_date=pl.when("_corrected")
        .then(pl.col("created_date") + pl.duration(days=pl.col("_corrected_after")))
        .otherwise("created_date"),
        _order=pl.lit(1),
    )
    return (
        pl.concat([first_of_corrected, final], how="vertical_relaxed")
        .sort("insz", "message_number", "_order")
        .select(
            "insz",
            "quarter",
            "message_number",
            "message_version",
            "created_date",
            "status",
            "employer_count",
            "employer_rsz",
            "employer_category",
            "worker_code",
            "joint_committee",
            "occupation_start",
            "worker_class",
            "q_hours",
            "s_hours",
            "day_block_count",
            "day_type",
            "days",
            "benefit_type",
            "nature",
            "incapacity_start",
            "incapacity_end",
            "fitness_decision_source",
            "fitness_date",
            "childbirth_date",
        )
    )
