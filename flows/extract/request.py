"""A run's request: logged before anything else, then admitted or refused on what needs no
source (the deliberation on its day, the operator, the mode, the case, the consultation asked
for, the keys).

The extract flows admit each run here (`logged_request`, then `admit`). `refuse_early` checks the
same things before Prefect is involved: a command that is refused says so at once, instead of
after Prefect's temporary server has started (a refusal took 17-31 s on two cores, 2.5 s now). It
logs a refusal as the run would have (its request, then the refusal), and a run that passes
checks them again, logged, in its flow.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.extract.authorise import authorise, delivered_spec, operator_context, spec_context
from flows.extract.errors import AuthorisationError, ExtractFailed
from flows.extract.requested import chosen_consultation
from flows.runtime.outcome import outcome_logged
from flows.runtime.settings import Paths
from flows.stores import audit, audit_files, consultations
from flows.stores.keys import load_key
from flows.stores.roster import login
from flows.stores.sources import store_is_synthetic
from specs.load import load_spec
from specs.model import Consultation, Spec
from specs.modes import Mode, ModeName
from specs.refusal import Refusal


@dataclass(frozen=True)
class Request:
    """What a run was asked to do, as the command gave it."""

    spec_path: Path
    mode_name: ModeName
    as_of: dt.date
    paths: Paths
    sources_dir: Path
    case_reference: str | None = None
    consultation: str | None = None
    # a rule of the calling flow's own (it raises AuthorisationError), checked after the spec's
    precondition: Callable[[Spec], None] | None = None

    @property
    def consulting(self) -> bool:
        """A consultation of named persons (the control mode), which needs a case."""
        return self.mode_name is ModeName.CONTROL


@dataclass(frozen=True)
class Admitted:
    """A run its spec, operator and keys allow: what the checks gave."""

    spec: Spec
    mode: Mode
    operator: str
    consultation: Consultation | None
    key: bytes
    consulted_key: bytes | None


def _case_refusal(request: Request) -> Refusal | None:
    if request.consulting:
        problem = consultations.case_problem(request.case_reference)
        return None if problem is None else consultations.CaseError(problem)
    if request.case_reference is not None:
        return AuthorisationError(
            "a case reference goes with a consultation of named persons (the control mode), "
            f"not with a {request.mode_name.value} run"
        )
    return None


def admit(request: Request, context: dict[str, Any]) -> Admitted:
    """The run's spec as delivered, its mode as authorised and its keys, or the refusal; what
    the log entries say of the authorisation is added to `context`."""
    refusal = _case_refusal(request)
    if refusal is not None:
        raise refusal
    spec = delivered_spec(load_spec(request.spec_path), request.as_of)
    context |= spec_context(spec, request.spec_path)
    operator, staff, checked = operator_context(request.paths)
    synthetic_store = store_is_synthetic(request.sources_dir)
    context |= checked | {"synthetic_store": synthetic_store}
    mode = authorise(
        spec,
        request.mode_name,
        request.as_of,
        operator,
        synthetic_store,
        staff,
        today=dt.date.today(),
    )
    if request.precondition is not None:
        request.precondition(spec)
    chosen = chosen_consultation(spec, request.consultation)
    key = load_key(request.paths.key_store, spec.project)
    consulted_key = (
        consultations.consultation_key(request.paths.key_store) if request.consulting else None
    )
    return Admitted(spec, mode, operator, chosen, key, consulted_key)


@contextlib.contextmanager
def logged_request(
    request: Request, unfinished: Callable[[], str | None] = lambda: None
) -> Iterator[dict[str, Any]]:
    """Log the request, then run the body with the run's log context; whatever stops it is
    logged (flows.runtime.outcome.outcome_logged). `unfinished` says what the run had logged
    but not done."""
    context: dict[str, Any] = {
        "run": uuid.uuid4().hex[:16],
        "spec": request.spec_path.name,
        "mode": request.mode_name.value,
        "as_of": request.as_of.isoformat(),
    }
    log = request.paths.audit_log
    # A consultation's case is logged with its request, before anything is consulted (16/046
    # point 9: tied to a case that existed, and was logged, before it).
    if request.consulting and _case_refusal(request) is None:
        case = consultations.Detail(
            kind="case",
            run=context["run"],
            at=dt.datetime.now(dt.UTC),
            actor=login(),
            spec=request.spec_path.name,
            mode=request.mode_name.value,
            as_of=request.as_of,
            case_reference=str(request.case_reference),
        )
        try:
            context["case"] = consultations.write_detail(log, case)
        except OSError as error:
            raise audit_files.AuditWriteFailed(consultations.details_folder(log), error) from None
    # The request comes first, so that every disclosure can be traced back to one (16/046).
    try:
        audit.append(log, "request", **context)
    except audit_files.AuditLogError:
        if "case" in context:
            consultations.discard_detail(log, context["case"])
        raise

    def failed(kind: str, said: str | None) -> ExtractFailed:
        run = f"the {request.mode_name.value} run of {request.spec_path.name}"
        if said:
            return ExtractFailed(f"{run} stopped on {kind}: {said}; nothing was published")
        return ExtractFailed(
            f"{run} failed with {kind}; its details are withheld because they may quote source data"
        )

    with outcome_logged(log, context, failed, unfinished):
        yield context


def refuse_early(request: Request) -> None:
    """Refuse now, and log, a run that `admit` would refuse; return for one it admits (its flow
    admits it again, logged)."""
    try:
        admit(request, {})
    except Exception:
        # logged as the run logs it: the request, then this refusal (should the second look
        # admit it, the roster or a key having changed in between, its flow runs as usual)
        with logged_request(request) as context:
            admit(request, context)
