"""Prefect's own logs never carry the message of a failed task or flow: a message can quote
source data, and Prefect writes its logs to the terminal and to its database."""

from __future__ import annotations

import logging

import pytest
from prefect import flow, task

QUOTED = "85073003328"


@task
def _failing_task() -> None:
    raise ValueError(f"could not convert {QUOTED!r} to a date")


@flow
def _flow_that_withholds() -> None:
    try:
        _failing_task()
    except ValueError:
        raise RuntimeError("failed; details withheld") from None


def test_a_failed_task_leaves_no_quoted_data_in_prefects_logs(prefect_harness, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(RuntimeError, match="details withheld"):
        _flow_that_withholds()
    out, err = capfd.readouterr()
    assert QUOTED not in out + err
    assert not [r for r in caplog.records if QUOTED in r.getMessage()]
