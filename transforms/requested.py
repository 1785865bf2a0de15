"""Each listed person's rows, cut to the period the recipient asks about for that person
(13/021 point 20: with each INSZ, the period to check), and the A052 messages a consultation
asks about (04/037). Per person, so it never mixes persons."""

from __future__ import annotations

import polars as pl
from duckdb import DuckDBPyRelation as Relation

from specs.catalog import PANELS, Granularity
from specs.model import RequestKind


def _first_and_last_month(period: pl.Expr, granularity: Granularity) -> tuple[pl.Expr, pl.Expr]:
    """The first and last month (YYYY-MM) a panel row's period covers."""
    if granularity is Granularity.MONTH:
        return period, period
    if granularity is Granularity.QUARTER:
        year = period.str.slice(0, 4)
        last_month = period.str.slice(6, 1).cast(pl.Int32) * 3
        return (
            year + "-" + (last_month - 2).cast(pl.String).str.zfill(2),
            year + "-" + last_month.cast(pl.String).str.zfill(2),
        )
    year = period.cast(pl.String)
    return year + "-01", year + "-12"


def within_requested_periods(
    frame: pl.DataFrame, panel: str, requested: pl.DataFrame
) -> pl.DataFrame:
    """The rows whose period overlaps the months asked about for their person (`requested`:
    insz, from_month, until_month, both YYYY-MM or both null for the spec's whole period)."""
    first, last = _first_and_last_month(pl.col(PANELS[panel].keys[1]), PANELS[panel].granularity)
    return (
        frame.join(requested, on="insz", how="left")
        .filter(
            pl.col("from_month").is_null()
            | ((first <= pl.col("until_month")) & (last >= pl.col("from_month")))
        )
        .drop("from_month", "until_month")
    )


def messages_asked_for(messages: Relation, asked: pl.DataFrame, kind: RequestKind) -> Relation:
    """The A052 messages a consultation request asks for (04/037), per person: by unique number
    (`asked`: insz, message_number), the messages named; by resumption day (insz,
    resumption_date), the fitness declaration (C6) of the incapacity that ended last before
    work resumed: the message with the latest fitness date on or before that day. Run on the
    cleaned messages (one version per unique number)."""
    if kind is RequestKind.MESSAGE_NUMBERS:
        query = """
            select m.* from messages m
            semi join asked a on a.insz = m.insz and a.message_number = m.message_number
        """
    elif kind is RequestKind.RESUMPTION_DATE:
        query = """
            select m.* from messages m
            join asked a on a.insz = m.insz
            where m.fitness_date <= a.resumption_date
            qualify row_number() over (
                partition by m.insz order by m.fitness_date desc, m.message_number desc
            ) = 1
        """
    else:  # the persons alone: all their messages
        return messages
    result = messages.query("messages", query)
    if result is None:
        raise TypeError("expected a select statement")
    return result
