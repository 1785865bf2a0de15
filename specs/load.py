"""Reading a spec file: YAML in, a validated Spec out, or a SpecError that says what is wrong."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from specs.model import Spec


class SpecError(ValueError):
    """A spec file that cannot be used; the message names the file, the field and the rule."""


def spec_digest(path: Path) -> str:
    """sha256 of the spec file's bytes, recorded in every manifest."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_spec(path: Path) -> Spec:
    """Parse and validate one deliberation spec."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: no such spec file") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(
            f"{path}: not valid YAML{where}: {getattr(error, 'problem', error)}"
        ) from None
    if not isinstance(document, dict):
        raise SpecError(f"{path}: expected a mapping of spec fields at the top level")
    try:
        return Spec.model_validate(document)
    except ValidationError as error:
        raise SpecError(f"{path}: " + "; ".join(_describe(e) for e in error.errors())) from None


def _describe(error: ErrorDetails) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "(top level)"
    kind = error["type"]
    if kind == "missing":
        return f"field '{field}' is missing"
    if kind == "extra_forbidden":
        return f"field '{field}' is not allowed here"
    if kind == "literal_error":
        allowed = error.get("ctx", {}).get("expected", "")
        return f"field '{field}': {error['input']!r} is not allowed; allowed: {allowed}"
    message = error["msg"].removeprefix("Value error, ")
    return f"field '{field}': {message}"
