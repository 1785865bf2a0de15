"""`rex serve`: the deployments, served."""

from __future__ import annotations

from flows.cli.common import data_paths, fail


def serve() -> None:
    """Serve the yearly and retention deployments (needs a running Prefect server)."""
    paths = data_paths()
    import os

    from prefect import serve as prefect_serve

    from flows.schedule.deployments import deployments

    if not os.environ.get("PREFECT_API_URL"):
        fail(
            "schedules fire only against a running Prefect server: start one with "
            f"`PREFECT_HOME={paths.data / '.prefect'} .venv/bin/prefect server start` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    prefect_serve(*deployments())
