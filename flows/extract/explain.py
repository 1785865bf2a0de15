"""`rex spec explain`: a spec's population funnel on the source store, before any run.

For each condition of the population, how many persons of the store it keeps: counts only, run
where the sources are, and logged like a run (a request, then the counts or the refusal).

It is no Prefect flow: it changes nothing and has no step to retry or to run elsewhere, and
Prefect's temporary server alone (4-8 s to start on two cores) costs more than the counts do.
Its log entries are the audit trail a flow run's would be.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from pathlib import Path
from typing import Any

from flows.extract.authorise import delivered_spec
from flows.extract.errors import AuthorisationError
from flows.runtime.outcome import StepFailed, outcome_logged
from flows.runtime.settings import Paths
from flows.stores import audit
from flows.stores.sources import open_sources
from specs.load import load_spec, spec_digest
from specs.model import Spec
from transforms import population, source_checks
from transforms.population import FunnelStep


def spec_funnel(sources: dict, spec: Spec) -> list[FunnelStep]:
    """The funnel on the sources as the checks clean them, as a run would select from."""
    cleaned, _ = source_checks.checked_sources(sources)
    return population.funnel(spec.population.condition, population.spec_scope(cleaned, spec))


def explain_population(
    spec_path: Path, as_of: dt.date, paths: Paths, sources_dir: Path
) -> list[FunnelStep]:
    """The funnel of the spec's population as of `as_of` on the store; every outcome logged."""
    import duckdb

    context: dict[str, Any] = {
        "run": uuid.uuid4().hex[:16],
        "action": "explain_population",
        "spec": spec_path.name,
        "as_of": as_of.isoformat(),
    }
    audit.append(paths.audit_log, "request", **context)
    failed = functools.partial(StepFailed, "explain_population")
    with outcome_logged(paths.audit_log, context, failed):
        spec = delivered_spec(load_spec(spec_path), as_of)
        context |= {"spec_sha256": spec_digest(spec_path), "deliberation": spec.deliberation}
        if spec.population.lists_persons:
            raise AuthorisationError(
                f"the population of deliberation {spec.deliberation} holds the persons its "
                "recipient lists with each run: there is no population to count before a list"
            )
        con = duckdb.connect()
        try:
            steps = spec_funnel(open_sources(con, sources_dir), spec)
        finally:
            con.close()
    audit.append(
        paths.audit_log,
        "population_explained",
        **context,
        population=spec.population_in_words(),
        funnel=[{"depth": s.depth, "persons": s.persons, "left": s.left} for s in steps],
    )
    return steps
