"""What stops a run, and how it is logged, once for every run: a refusal (specs.refusal: ours,
naming no value) with its message; an unexpected error with its kind only (its message may quote
source data); a file-system error with the system's own words."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from flows.stores import audit, audit_files
from specs.refusal import Refusal, RunFailed

P = ParamSpec("P")
R = TypeVar("R")


# Errors of the file system itself (full disk, quota, read-only or forbidden folder): their
# reason is the operating system's and the file a path rex chose, so they quote no data and are
# said; a library's own wording of them (which may add detail) is replaced by the system's.
FILE_SYSTEM_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES})


def file_system_reason(error: BaseException) -> str | None:
    """What a file-system error says, e.g. 'No space left on device (writing /x/y)'; None for
    any other error, whose message stays withheld."""
    if not isinstance(error, OSError) or error.errno not in FILE_SYSTEM_ERRNOS:
        return None
    where = f" (writing {error.filename})" if isinstance(error.filename, str | Path) else ""
    return f"{os.strerror(error.errno)}{where}"


class StepFailed(RunFailed, RuntimeError):
    """A step stopped on an unexpected error, whose message is withheld (see `withheld`), or on
    a file-system error, which is said (`file_system_reason`)."""

    def __init__(self, step: str, kind: str, said: str | None = None):
        self.kind = kind
        self.said = said
        super().__init__(
            f"{kind} in {step}: {said}"
            if said
            else f"{kind} in {step}; its details are withheld because they may quote source data"
        )


def withheld(step: Callable[P, R]) -> Callable[P, R]:
    """The step, raising its refusals as they are and any other error as StepFailed.

    Prefect keeps a failed task's exception message in its database (the task's state) and an
    unexpected error's message can quote source data (an identifier in a conversion error), so
    no such message may leave a task. The refusals' messages are ours and name no value.
    """

    @functools.wraps(step)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return step(*args, **kwargs)
        except (Refusal, RunFailed):
            raise
        except Exception as error:
            said = file_system_reason(error)
            raise StepFailed(step.__name__, type(error).__name__, said) from None

    return run


@contextlib.contextmanager
def outcome_logged(
    log: audit_files.Log,
    context: dict[str, Any],
    failed: Callable[[str, str | None], Exception],
    unfinished: Callable[[], str | None] = lambda: None,
) -> Iterator[None]:
    """Log what stops a run, the one place that does: a refusal with its message (ours, naming
    no value); any other error with its kind only (its message could quote source data, an
    identifier in a conversion error, say) and, for a file-system error, the system's words,
    raised again as `failed(kind, said)`. `unfinished` adds what the run had logged but not
    done (a release logged, then not moved into place). The entry takes `context` as it
    stands when the run stops. An audit log that cannot be written stops the run with its own
    message, and nothing more is logged into it."""
    try:
        yield
    except audit_files.AuditLogError:
        raise
    except Refusal as error:
        audit.append(log, "refusal", **context, reason=str(error))
        raise
    except Exception as error:
        if isinstance(error, StepFailed):
            kind, said = error.kind, error.said
        else:
            kind, said = type(error).__name__, file_system_reason(error)
        reason = f"{kind}: {said}" if said else kind
        note = unfinished()
        if note:
            reason += f"; {note}"
        audit.append(log, "failure", **context, reason=reason)
        raise failed(kind, said) from None
