"""What stops rex, as its users meet it: a refusal, or a run that failed; each said in one line.

A `Refusal` is what rex will not do and why: the spec is invalid, the recipient is not
authorised, a source breaks its declared constraints, a release would be too disclosive, the
audit log is damaged. Its message is rex's own: it names the file, the field or the record and
what was expected, never a value of the data, so it is said and logged as it stands.

A `RunFailed` is a run that stopped on an error rex did not foresee (a full disk, a bug): its
message names the error's kind only, and for the file system the system's reason, because the
original message may quote source data.

Every refusal and failure derives from one of the two. The command line catches them once
(flows.cli.common.RexGroup: one line, exit 2), and flows.extract.errors.outcome_logged is the
one place that logs what stopped a run. Refusals keep a built-in base (ValueError,
RuntimeError) beside this one where callers catch them by it.
"""

from __future__ import annotations


class Refusal(Exception):
    """rex will not do what was asked; the message says why, naming no value of the data."""


class RunFailed(Exception):
    """A run stopped on an unforeseen error; the message names its kind, not its details."""
