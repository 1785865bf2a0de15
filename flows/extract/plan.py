"""A run compiled once: from (spec, mode, as-of day), before any source is read, everything the
run delivers and every step reads instead of deriving it again from the spec.

The plan is made after the run is authorised (flows.extract.authorise): its spec is the spec as
delivered on the run's day (its period) and, for a consultation, narrowed to the variables
consulted; its mode is the mode as authorised (`delete_by`: this run's deadline). The as-of day
is a `date` from the command line to the manifest, where it is written once, as ISO text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.extract import sample_mark
from flows.extract.authorise import (
    is_test_run,
    manifest_header,
    population_statement,
    release_folder,
)
from flows.extract.tasks import period_values
from flows.runtime.settings import Paths
from specs.derivation import DerivedProtection
from specs.model import Spec
from specs.modes import Mode, ModeName
from specs.release import ReleasedColumn, released_panels, released_summaries
from transforms.modes import pseudonyms_statement


@dataclass(frozen=True)
class RunPlan:
    """What one run delivers, resolved: the mode, the spec as delivered, the released layout
    (each column with its protection and derivation), the deadlines and the target folder."""

    spec_path: Path
    spec: Spec
    mode_name: ModeName
    mode: Mode
    as_of: dt.date
    # how each variable derived from a protected value is protected (specs.derivation)
    derived: Mapping[str, DerivedProtection]
    layout: Mapping[str, list[ReleasedColumn]]
    our_copy_delete_by: dt.date | None
    target: Path
    consultation: str | None = None

    def manifest_header(self) -> dict[str, Any]:
        """What the manifest says of the run, its figures apart (the key's fingerprint and what
        the build found are the run's, added by it): who, under which spec, which protections,
        period and population, until when. Manifests are written with sorted keys."""
        mode = self.mode
        return {
            **manifest_header(self.spec, self.spec_path, self.mode_name),
            "mode_description": mode.description,
            "protections": mode.protect.model_dump(),
            "summaries": {name: s.description for name, s in self.spec.summaries.items()},
            "consultation": self.consultation,
            "as_of": self.as_of.isoformat(),
            "identified": mode.identified,
            "delete_by": mode.delete_by and mode.delete_by.isoformat(),
            "our_copy_delete_by": self.our_copy_delete_by and self.our_copy_delete_by.isoformat(),
            "kept": "until delete_by" if mode.delete_by else "for the whole career",
            "test_run": is_test_run(self.spec, self.as_of),
            "period": {"from": self.spec.period.from_, "until": self.spec.period.until},
            "population": population_statement(self.spec),
            "pseudonyms": pseudonyms_statement(self.spec, self.mode_name),
        }


def plan_run(
    spec_path: Path,
    spec: Spec,
    mode_name: ModeName,
    mode: Mode,
    as_of: dt.date,
    paths: Paths,
    request: str | None = None,
    consultation: str | None = None,
) -> RunPlan:
    """The plan of an authorised run of `spec` (as delivered) in `mode_name` (`mode` as
    authorised) on `as_of`; `request`: the tag of the list of persons asked about, if any."""
    derived = spec.derived_protections(mode)
    layout = released_panels(spec, mode, period_values(spec), derived)
    layout |= released_summaries(spec, layout)
    layout |= sample_mark.mark_layout(spec, mode_name)
    return RunPlan(
        spec_path=spec_path,
        spec=spec,
        mode_name=mode_name,
        mode=mode,
        as_of=as_of,
        derived=derived,
        layout=layout,
        our_copy_delete_by=spec.modes[mode_name].our_copy_deadline(as_of, mode.delete_by),
        target=release_folder(paths, spec, mode_name, as_of, request),
        consultation=consultation,
    )
