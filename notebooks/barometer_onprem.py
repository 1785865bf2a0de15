"""The barometer's tables and plots, made so that they can leave the on-premise workspace.

The same indicators as the barometer notebook (`barometer.py`), made with rex's researcher API
(`researcher.outputs`), which records per cell the persons and the largest contributions that
the output checks need. Develop it at home on the sample release:

    REX_RELEASE=data/releases/dulbea-barometer/18-088_sample_2020-06-30 \\
        .venv/bin/python notebooks/barometer_onprem.py      # writes outputs/

and run it on the whole population through `rex analyse run --code notebooks/barometer_onprem.py`,
which points REX_RELEASE at the on-premise workspace and REX_OUTPUT at the run's output folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import barometer as b
import matplotlib.pyplot as plt
import polars as pl

from researcher import outputs


def main() -> None:
    release = b.load_release(Path(os.environ["REX_RELEASE"]))
    month = release.month
    people = b.persons(release.quarter)
    episodes = b.episodes(month, people)
    first_year = int(str(month["month"].min())[:4])
    last_year = int(str(month["month"].max())[:4])
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
    by_year_file = outputs.save_table(by_year, "inflow_by_year_sex")

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
    trajectory_file = outputs.save_table(trajectory, "trajectories")

    figure, axis = plt.subplots(figsize=(7, 4))
    for sex, rows in by_year.table.partition_by("sex", as_dict=True).items():
        axis.plot(rows["start_year"], rows["persons"], marker="o", label=str(sex[0]))
    axis.set(xlabel="year", ylabel="persons entering incapacity")
    axis.legend()
    outputs.save_plot(figure, "inflow_by_year_sex", [by_year_file])

    shares = trajectory.table.with_columns(
        (pl.col("persons") / pl.col("persons").sum().over("offset")).alias("share")
    )
    figure, axis = plt.subplots(figsize=(7, 4))
    for state_name, rows in shares.partition_by("state", as_dict=True).items():
        axis.plot(rows["offset"], rows["share"], label=str(state_name[0]))
    axis.set(xlabel="months from entering incapacity", ylabel="share of entries")
    axis.legend()
    outputs.save_plot(figure, "trajectories", [trajectory_file])
    print(f"{episodes.height} episodes of {people.height} persons")


if __name__ == "__main__":
    main()
