"""The barometer's tables and plots, declared so that they can leave the on-premise workspace.

The same indicators as the barometer notebook (`barometer.py`), declared with rex's researcher
API (`researcher.outputs`) over lazy queries of the release's panels: on premise rex runs each
query again on its side of the sandbox, makes the tables and draws the plots itself, and checks
what it made. Develop it at home on the sample release:

    REX_RELEASE=data/releases/dulbea-barometer/18-088_sample_2020-06-30 \\
        .venv/bin/python notebooks/barometer_onprem.py      # writes outputs/

and run it on the whole population through `rex analyse run --code notebooks/barometer_onprem.py`,
which points REX_RELEASE at the on-premise workspace and REX_OUTPUT at the run's output folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import barometer as b
import polars as pl

from researcher import outputs


def main() -> None:
    release = b.scan_release(Path(os.environ["REX_RELEASE"]))
    month = release.month
    people = b.persons(release.quarter)
    episodes = b.episodes(month, people)
    span = month.select(pl.col("month").min().alias("first"), pl.col("month").max().alias("last"))
    first, last = span.collect().row(0)
    first_year, last_year = int(str(first)[:4]), int(str(last)[:4])
    in_period = episodes.filter(pl.col("start_year").is_between(first_year, last_year))
    years = list(range(first_year, last_year + 1))

    # inflow: persons entering incapacity per year, sex and age group (every cell)
    inflow = outputs.count_table(
        in_period,
        ["start_year", "sex", "age_group"],
        levels={"start_year": years, "sex": b.SEXES, "age_group": b.AGE_GROUPS},
        name="persons_entering",
    )
    outputs.save_table(inflow, "inflow_by_year_sex_age")
    by_year = outputs.count_table(
        in_period, ["start_year", "sex"], levels={"start_year": years, "sex": b.SEXES}
    )
    outputs.save_table(by_year, "inflow_by_year_sex")

    # invalidity on 31 December: persons alive on that day, in invalidity or not, per year and sex
    december = b.on_31_december(month, people).rename({"invalid": "in_invalidity"})
    invalidity = outputs.count_table(december, ["year", "sex", "in_invalidity"])
    outputs.save_table(invalidity, "invalidity_on_31_december")

    # durations of the episodes that ended, in months, per year of start
    ended = in_period.filter(pl.col("ended"))
    outputs.save_table(
        outputs.magnitude_table(ended, ["start_year"], "time_months", "mean"),
        "mean_duration_by_start_year",
    )
    outputs.save_table(
        outputs.magnitude_table(ended, ["start_year", "sex"], "time_months", "median"),
        "median_duration_by_start_year_sex",
    )

    # the daily benefit in the first month of an episode, per sex and age group
    # in euro: exact on premise, the class middle in the sample (barometer.amount_values)
    benefits = in_period.with_columns(
        b.amount_values(in_period, "entry_benefit").alias("entry_benefit_euro")
    )
    outputs.save_table(
        outputs.magnitude_table(benefits, ["sex", "age_group"], "entry_benefit_euro", "mean"),
        "mean_entry_benefit_by_sex_age",
    )

    # trajectories: persons in each state, months before and after entering incapacity
    around = b.situations_around_entry(month, episodes)
    trajectory = outputs.count_table(around, ["offset", "state"])
    outputs.save_table(trajectory, "trajectories")

    # the plots, which rex draws from the tables as they leave
    outputs.save_plot(
        outputs.line_plot(
            by_year,
            "start_year",
            "persons",
            by="sex",
            xlabel="year",
            ylabel="persons entering incapacity",
        ),
        "inflow_by_year_sex",
    )
    outputs.save_plot(
        outputs.line_plot(
            trajectory,
            "offset",
            "persons",
            by="state",
            share=True,
            xlabel="months from entering incapacity",
            ylabel="share of entries",
        ),
        "trajectories",
    )
    counted = episodes.select(pl.len(), pl.col("person_id").n_unique()).collect().row(0)
    print(f"{counted[0]} episodes of {counted[1]} persons")


if __name__ == "__main__":
    main()
