"""`rex spec explain`: a spec's population funnel on the source store, before any run.

For each condition of the population, how many persons of the store it keeps: counts only, run
where the sources are, and logged like a run (a request, then the counts or the refusal).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.extract.authorise import delivered_spec
from flows.extract.errors import AuthorisationError
from flows.extract.tasks import check_sources_task
from flows.runtime.outcome import StepFailed, outcome_logged, withheld
from flows.runtime.settings import Paths
from flows.stores import audit
from flows.stores.sources import open_sources
from specs.load import load_spec, spec_digest
from specs.model import Spec
from transforms import population
from transforms.population import FunnelStep


@task(cache_policy=NO_CACHE, retries=0)
@withheld
def funnel_task(sources: dict, spec: Spec) -> list[FunnelStep]:
    scope = population.spec_scope(sources, spec)
    return population.funnel(spec.population.condition, scope)


@flow(name="explain-population", log_prints=False)
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
            sources, _ = check_sources_task(open_sources(con, sources_dir))
            steps = funnel_task(sources, spec)
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
