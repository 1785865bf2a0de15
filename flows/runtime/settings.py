"""Where a run reads and writes, and the environment the libraries run under.

Read at the edges (the CLI, the tests), never at import time of a library module.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flows.stores.audit_files import Log
from specs.refusal import Refusal

REPO_ROOT = Path(__file__).resolve().parents[2]  # flows/runtime/settings.py
SPECS_DIR = REPO_ROOT / "specs"


@dataclass(frozen=True)
class Paths:
    """Everything a run writes lives under `data` (ignored by git); keys live apart."""

    data: Path
    key_store: Path

    @property
    def sources(self) -> Path:
        return self.data / "synthetic"

    @property
    def releases(self) -> Path:
        return self.data / "releases"

    @property
    def onprem(self) -> Path:
        return self.data / "onprem"

    @property
    def analysis_runs(self) -> Path:
        """Analysis runs on premise (flows.analysis.run): each run's code, its printed output and
        its outputs before they are checked; nothing here leaves."""
        return self.data / "analysis"

    @property
    def roster(self) -> Path:
        """The staff roster (flows.stores.roster): roles and declarations of the operators."""
        return self.data / "access" / "roster.yaml"

    @property
    def audit_log(self) -> Log:
        """The audit log (flows.stores.audit), keyed by its audit key in the key store."""
        return Log(self.data / "audit" / "audit.jsonl", self.key_store)

    @classmethod
    def from_environment(cls) -> Paths:
        data = Path(os.environ.get("REX_DATA_DIR", REPO_ROOT / "data"))
        key_store = Path(os.environ.get("REX_KEY_STORE", Path.home() / ".rex" / "keys"))
        return cls(data=data, key_store=key_store)


def quiet_libraries(data: Path) -> None:
    """No analytics, no update checks, Prefect's state kept under `data`."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_HOME", str(data / ".prefect"))
    # a folder that cannot be made is said by `check_writable`, for the commands that write
    with contextlib.suppress(OSError):
        prefect_home().mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # Prefect logs a failed task or flow with its exception's message and traceback, to the
    # terminal and to its database; a message can quote source data (an identifier in a
    # conversion error). The flows log every outcome themselves, in the audit log, without it.
    for runs in ("FLOW_RUNS", "TASK_RUNS"):
        os.environ.setdefault(f"PREFECT_LOGGING_LOGGERS_PREFECT_{runs}_LEVEL", "CRITICAL")


# DuckDB's memory for one run (beyond it, it spills to the run's folder), and the persons built
# at a time: memory follows the slice, not the population. On the 100,000-person store's
# on-premise build, 2,500 persons a slice peaked at 3.5 GiB against 4.3 GiB for 5,000, in the
# same time; 1,250 at 2.7 GiB, 10% slower (benchmarks/README.md).
DEFAULT_MEMORY_LIMIT = "1GiB"
DEFAULT_SLICE_PERSONS = 2_500
# A sample's release is a few slices whatever the population, so its slices can be small at
# little cost: on the 100,000-person store its 10,000 persons in slices of 1,250, each validated
# as it came, peaked at about 1.5 GiB against 2.3-2.4 GiB in slices of 2,500 (benchmarks/README.md).
DEFAULT_SAMPLE_SLICE_PERSONS = 1_250


# Slices built at once on this machine: one per two cores (DuckDB and polars already use two
# threads each; on two cores a second slice at once gained nothing, measured).
DEFAULT_PARALLEL_SLICES = max(1, (os.cpu_count() or 1) // 2)


@dataclass(frozen=True)
class Engine:
    """How an extract run uses the machine; what it releases does not depend on any of it.

    `cluster`: the address of a Dask scheduler (tcp://host:8786) to run the slices on, instead
    of this machine's threads; `parallel`: slices built at once (by default one per two cores
    here, two per worker thread on a cluster); `slice_persons`: persons per slice (by default
    the mode's, see `persons_per_slice`).
    """

    memory_limit: str = DEFAULT_MEMORY_LIMIT
    slice_persons: int | None = None
    parallel: int | None = None
    cluster: str | None = None

    def __post_init__(self) -> None:
        if self.slice_persons is not None and self.slice_persons < 1:
            raise ValueError(f"persons per slice: {self.slice_persons}; expected at least 1")
        if self.parallel is not None and self.parallel < 1:
            raise ValueError(f"slices at once: {self.parallel}; expected at least 1")

    def persons_per_slice(self, sample: bool) -> int:
        """Persons per slice of a run: the number set, or the default of a sample's slices or
        of the others' (the whole population's)."""
        if self.slice_persons is not None:
            return self.slice_persons
        return DEFAULT_SAMPLE_SLICE_PERSONS if sample else DEFAULT_SLICE_PERSONS

    @classmethod
    def from_environment(cls, cluster: str | None = None) -> Engine:
        """REX_MEMORY_LIMIT (a DuckDB size, e.g. 2GiB), REX_SLICE_PERSONS, REX_PARALLEL_SLICES
        and REX_DASK_ADDRESS (unless `cluster` is given), or the defaults."""
        persons = os.environ.get("REX_SLICE_PERSONS")
        parallel = os.environ.get("REX_PARALLEL_SLICES")
        return cls(
            memory_limit=os.environ.get("REX_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
            slice_persons=int(persons) if persons else None,
            parallel=int(parallel) if parallel else None,
            cluster=cluster or os.environ.get("REX_DASK_ADDRESS") or None,
        )


def prefect_home() -> Path:
    """Where Prefect keeps its state (its database, its temporary server's log)."""
    return Path(os.environ["PREFECT_HOME"])


class DataFolderError(Refusal, RuntimeError):
    """A folder a run must write cannot be written; the message names it and says why."""


def check_writable(paths: Paths) -> None:
    """Refuse, before anything starts, a data folder (or PREFECT_HOME) that cannot be written.

    A file is made and removed in each, which tells what permissions alone do not (a read-only
    file system, a full disk, a path through a file). Without this check Prefect's server would
    be the first to fail, after minutes of retries and pages of traceback."""
    for label, folder in (("data folder", paths.data), ("PREFECT_HOME", prefect_home())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            descriptor, probe = tempfile.mkstemp(prefix=".rex-write-check-", dir=folder)
            os.close(descriptor)
            os.unlink(probe)
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise DataFolderError(
                f"the {label} {folder} cannot be written ({reason}): rex keeps its audit log, "
                "releases and Prefect's state there; make it writable or set REX_DATA_DIR "
                "(and PREFECT_HOME) to a folder that is"
            ) from None


# 16/046 point 16: frequent random checks of the lawfulness of consultations. By default daily,
# before office hours, over a sample of each pool (flows.schedule.review).
DEFAULT_REVIEW_CRON = "0 6 * * *"
DEFAULT_REVIEW_DISCLOSURES = 20
DEFAULT_REVIEW_CONSULTATIONS = 20


@dataclass(frozen=True)
class ReviewSchedule:
    """How often the scheduled review runs (a cron line, Europe/Brussels time) and how many
    disclosures and consultations it draws each time."""

    cron: str = DEFAULT_REVIEW_CRON
    disclosures: int = DEFAULT_REVIEW_DISCLOSURES
    consultations: int = DEFAULT_REVIEW_CONSULTATIONS

    def __post_init__(self) -> None:
        if len(self.cron.split()) != 5:
            raise ValueError(f"review schedule {self.cron!r}: expected a cron line of 5 fields")
        for name, value in (
            ("disclosures", self.disclosures),
            ("consultations", self.consultations),
        ):
            if value < 0:
                raise ValueError(f"{name} drawn per review: {value}; expected 0 or more")

    @classmethod
    def from_environment(cls) -> ReviewSchedule:
        """REX_REVIEW_CRON, REX_REVIEW_DISCLOSURES and REX_REVIEW_CONSULTATIONS, or the
        defaults; ValueError naming the setting for a bad one."""
        numbers = {}
        for name, variable in (
            ("disclosures", "REX_REVIEW_DISCLOSURES"),
            ("consultations", "REX_REVIEW_CONSULTATIONS"),
        ):
            text = os.environ.get(variable)
            if text:
                try:
                    numbers[name] = int(text)
                except ValueError:
                    raise ValueError(f"{variable}: expected a whole number") from None
        return cls(cron=os.environ.get("REX_REVIEW_CRON") or DEFAULT_REVIEW_CRON, **numbers)
