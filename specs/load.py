"""Reading a spec file: YAML in, a validated Spec out, or a SpecError that says what is wrong."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from specs.model import Spec
from specs.refusal import Refusal


class SpecError(Refusal, ValueError):
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
        tree = yaml.compose(text)
        raise SpecError(
            f"{path}: " + "; ".join(_describe(e) + _at_line(tree, e) for e in error.errors())
        ) from None


def _at_line(tree: yaml.Node | None, error: ErrorDetails) -> str:
    """' (line N)' of the YAML node the error is about: the deepest node its location reaches
    (a location also holds the names of models and unions, which are no keys of the file)."""
    node, line = tree, None
    for part in error["loc"]:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is not None:
            node, line = child, child.start_mark.line + 1
    return "" if line is None else f" (line {line})"


def _describe(error: ErrorDetails) -> str:
    # a population condition's location names its kind twice (the union's tag, then the field)
    parts = [str(p) for i, p in enumerate(error["loc"]) if i == 0 or p != error["loc"][i - 1]]
    field = ".".join(parts) or "(top level)"
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
