"""Prefect's own logs never carry the message of a failed task or flow: a message can quote
source data, and Prefect writes its logs to the terminal and to its database."""

from __future__ import annotations

import logging

import pytest
from prefect import flow, task

from flows.runtime.outcome import StepFailed, withheld

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


@task
@withheld
def _failing_step() -> None:
    raise ValueError(f"could not convert {QUOTED!r} to a date")


@flow
def _flow_with_a_failing_step() -> None:
    _failing_step()


def test_a_failed_steps_message_is_not_kept_in_prefects_database(prefect_harness):
    from prefect.client.orchestration import get_client

    with pytest.raises(StepFailed, match="ValueError in _failing_step; its details are withheld"):
        _flow_with_a_failing_step()
    with get_client(sync_client=True) as client:
        runs = [run for run in client.read_task_runs() if run.name.startswith("_failing_step")]
    messages = [run.state.message or "" for run in runs if run.state is not None]
    assert any("details are withheld" in message for message in messages)
    assert not [message for message in messages if QUOTED in message]


def _all(read) -> list:
    """Every record a paged Prefect read gives (the server caps one page)."""
    records, offset = [], 0
    while page := read(limit=200, offset=offset):
        records += page
        offset += len(page)
    return records


def test_the_key_reaches_no_flow_or_task_run_record(world):
    """The slices get the key as an argument, in memory: Prefect records neither it nor any
    form of it (parameters, inputs, states) in its database."""
    import base64

    from prefect.client.orchestration import get_client

    from flows.stores.keys import load_key

    key = load_key(world["paths"].key_store, "e2e")
    with get_client(sync_client=True) as client:
        tasks = _all(client.read_task_runs)
        flows = _all(client.read_flow_runs)
    assert any(run.name.startswith("extract_slice") for run in tasks)  # the slices ran as tasks
    recorded = "\n".join(run.model_dump_json() for run in tasks + flows)
    for form in (key.hex(), base64.b64encode(key).decode(), repr(key)[2:-1]):
        assert form not in recorded
