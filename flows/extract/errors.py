"""What stops an extract run that is its own: the spec does not allow it, or it failed (how
every run's refusals and failures are logged is flows.runtime.outcome's)."""

from __future__ import annotations

from specs.refusal import Refusal, RunFailed


class AuthorisationError(Refusal, RuntimeError):
    """The spec does not allow this run on this date."""


class ExtractFailed(RunFailed, RuntimeError):
    """A run stopped on an unexpected error; nothing was published."""
