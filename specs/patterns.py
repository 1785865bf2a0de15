"""How released values are written, as a release's checks and codebook state them: pseudonyms,
months and amount classes.

Declared here, below the spec's released layout (specs.release) and the transforms that write
the values (transforms.pseudonymise, transforms.months, transforms.classes), so that the
writer and the checks read one declaration.
"""

from __future__ import annotations

from collections.abc import Sequence

# A pseudonym: the letters a-p only (one per hex digit of the keyed hash), so that it can never
# be taken for, or checked as, a number such as an INSZ. 20 letters carry 80 bits.
PSEUDONYM_LETTERS = 20
PSEUDONYM_PATTERN = rf"^[a-p]{{{PSEUDONYM_LETTERS}}}$"

# An event date cut to the month.
MONTH_PATTERN = r"^[0-9]{4}-(?:0[1-9]|1[0-2])$"


def _number(edge: float) -> str:
    return str(int(edge)) if float(edge).is_integer() else repr(float(edge))


def class_labels(edges: Sequence[float]) -> list[str]:
    """The labels of the classes that the edges define, in increasing order: "<e0", then
    "[e_i,e_i+1)", then ">=e_k"."""
    inner = [f"[{_number(a)},{_number(b)})" for a, b in zip(edges, edges[1:], strict=False)]
    return [f"<{_number(edges[0])}", *inner, f">={_number(edges[-1])}"]
