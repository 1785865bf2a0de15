"""The yearly extract run: a project's scheduled delivery, and the deliveries it supersedes.

A delivery is the sample export of the spec as of the run's date, over the years its delivery
regime gives (specs.model.Delivery). Persons and employers carry the project key's pseudonyms, so
the recipient can stack deliveries; the sample is drawn by the same keyed hash each year, so the
persons already sampled stay sampled (refreshed, not redrawn) unless the population changes.

A new delivery supersedes the older ones of the same deliberation: the recipient must destroy the
years that the new one no longer holds (an `attestation_due` entry says which), and our copies of
the older deliveries are deleted. A delivery older than one already made is refused: it would
hand out years that were destroyed. Re-running the latest delivery reuses it, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

from prefect import flow

from flows.extract.authorise import release_folder
from flows.extract.build import ExtractResult
from flows.extract.errors import AuthorisationError
from flows.extract.export import run_extract
from flows.release.files import MANIFEST
from flows.release.manifest import Manifest
from flows.runtime.settings import SPECS_DIR, Engine, Paths, quiet_libraries
from flows.schedule.retention import delete_folder
from flows.stores import audit
from specs.load import load_spec
from specs.model import Spec
from specs.modes import ModeName

DELIVERED_MODE = ModeName.SAMPLE


@dataclass(frozen=True)
class YearlyResult:
    delivery: ExtractResult
    superseded: tuple[Path, ...]


def earlier_deliveries(paths: Paths, spec: Spec, as_of: dt.date) -> list[Path]:
    """The other published deliveries of the spec, oldest first; refuses if one is newer."""
    this = release_folder(paths, spec, DELIVERED_MODE, as_of)
    prefix = this.name.removesuffix(as_of.isoformat())
    others = sorted(
        p
        for p in this.parent.glob(f"{prefix}*")
        if p != this and not p.name.startswith(".") and (p / "manifest.json").exists()
    )
    for other in others:
        made = dt.date.fromisoformat(other.name.removeprefix(prefix))
        if made > as_of:
            raise AuthorisationError(
                f"a delivery of deliberation {spec.deliberation} as of {made} exists already; "
                f"a delivery as of the earlier {as_of} could hand out years since destroyed"
            )
    return others


def supersede(paths: Paths, spec: Spec, delivery: ExtractResult, as_of: dt.date) -> list[Path]:
    """Ask the recipient to destroy what the new delivery no longer holds; delete our copies."""
    kept = delivery.manifest.years
    superseded = []
    for older in earlier_deliveries(paths, spec, as_of):
        dropped = sorted(Manifest.read(older / MANIFEST).years - kept)
        years = ", ".join(map(str, dropped)) if dropped else "none"
        audit.append(
            paths.audit_log,
            "attestation_due",
            target=str(older),
            reason=f"superseded by the delivery as of {as_of}: the recipient replaces it and "
            f"destroys the years it no longer holds ({years})",
            as_of=as_of.isoformat(),
            deliberation=spec.deliberation,
            recipient=spec.recipient,
        )
        delete_folder(
            older,
            # logged before its empty tombstone goes (see flows.schedule.retention.delete_folder)
            functools.partial(
                audit.append,
                paths.audit_log,
                "deletion",
                target=str(older),
                reason=f"superseded by the delivery as of {as_of}",
                as_of=as_of.isoformat(),
            ),
        )
        superseded.append(older)
    return superseded


@flow(name="yearly_extract", log_prints=False)
def yearly_extract(
    spec_path: Path,
    as_of: dt.date,
    paths: Paths,
    sources_dir: Path,
    engine: Engine | None = None,
) -> YearlyResult:
    """One scheduled delivery of a spec: export, then supersede the older deliveries.
    `engine`: how the run uses the machine (flows.runtime.settings.Engine; the release does not
    depend on it)."""

    def scheduled_and_newest(spec: Spec) -> None:
        if spec.delivery is None:
            raise AuthorisationError(f"deliberation {spec.deliberation} schedules no deliveries")
        earlier_deliveries(paths, spec, as_of)

    delivery = run_extract(
        spec_path,
        DELIVERED_MODE,
        as_of,
        paths,
        sources_dir,
        precondition=scheduled_and_newest,
        engine=engine,
    )
    spec = load_spec(spec_path).as_delivered(as_of)
    return YearlyResult(delivery, tuple(supersede(paths, spec, delivery, as_of)))


@flow(name="scheduled_yearly_extract", log_prints=False)
def scheduled_yearly_extract(spec_file: str, as_of: str | None = None) -> str:
    """The deployment's entry point: paths from the environment, as of today unless given."""
    paths = Paths.from_environment()
    quiet_libraries(paths.data)
    day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    result = yearly_extract(SPECS_DIR / spec_file, day, paths, paths.sources)
    return str(result.delivery.folder)
