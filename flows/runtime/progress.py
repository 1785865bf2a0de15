"""Where a long run stands, for whoever follows it (the command line's progress bars).

A run reports its steps here; nothing is reported anywhere unless someone follows (`followed`).
A report says how far the run is, never what it read: no value, no identifier.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """A step of a run, with the slices and persons done so far (when it has slices)."""

    step: str
    slices_done: int = 0
    slices: int | None = None
    persons_done: int = 0
    persons: int | None = None


_followers: list[Callable[[Progress], None]] = []


@contextmanager
def followed(follower: Callable[[Progress], None]) -> Iterator[None]:
    """Give every report of the runs made inside the block to `follower`."""
    _followers.append(follower)
    try:
        yield
    finally:
        _followers.remove(follower)


def report(progress: Progress) -> None:
    for follower in list(_followers):
        follower(progress)
