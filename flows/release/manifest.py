"""A release's manifest as one typed record: written by a run through this class, and read
through it by retention, the yearly runs, the dossier and the analysis runs (fields, not keys).

Two kinds of folder carry one: an extract's release or workspace (flows.extract.build) and the
published outputs of an analysis run (flows.analysis.signoff). What every manifest states is
required; what one kind states alone is optional. A manifest written by an earlier version of
rex is read as it is: a field it lacks takes its default (`our_copy_delete_by`: the recipient's
deadline, which our copy followed before it had a term of its own), and a field this version
does not know is kept, and written back, as it was.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from flows.release.files import MANIFEST
from specs.refusal import Refusal


class ManifestUnreadable(Refusal, ValueError):
    """A manifest that is not the record rex wrote: named by its path and the fields wrong."""


class Manifest(BaseModel):
    """What a published folder says of itself. Dates are `date`s here and ISO text on disk."""

    model_config = ConfigDict(extra="allow", frozen=True)

    # every manifest: who it is for, under which deliberation, until when
    deliberation: str
    project: str
    recipient: str
    mode: str
    delete_by: dt.date | None  # None: kept for the whole career
    # every file with its sha256 (`rex verify` refuses a manifest that lists none); retention
    # deletes a folder on time whatever its list says
    files: dict[str, dict[str, Any]] = {}
    rex_version: str | None = None
    title: str | None = None
    purpose: str | None = None
    spec: dict[str, str] | None = None
    as_of: dt.date | None = None
    our_copy_delete_by: dt.date | None = None
    kind: str | None = None  # set on an analysis run's outputs
    audit_head: dict[str, Any] | None = None
    # an extract's release or workspace
    mode_description: str | None = None
    protections: dict[str, str] | None = None
    summaries: dict[str, str] | None = None
    consultation: str | None = None
    identified: bool = False
    kept: str | None = None
    test_run: bool = False
    key_fingerprint: str | None = None
    period: dict[str, str] | None = None
    population: dict[str, str] | None = None
    persons: int | None = None
    pseudonym_set_sha256: str | None = None
    pseudonyms: dict[str, Any] | None = None
    source_checks: list[dict[str, Any]] = []
    derivation_audit: list[dict[str, Any]] | None = None
    disclosure_risk: dict[str, Any] | None = None
    output_checks: dict[str, Any] | None = None
    validation: dict[str, list[dict[str, Any]]] = {}

    @property
    def our_copy_deadline(self) -> dt.date | None:
        """The day our own copy goes: its own term where the manifest states one, else (a
        manifest older than that term) the recipient's deadline."""
        if "our_copy_delete_by" in self.model_fields_set:
            return self.our_copy_delete_by
        return self.delete_by

    @property
    def years(self) -> set[int]:
        """The calendar years the release's period covers; ManifestUnreadable for a manifest
        that states no period (an extract's always does: an empty set would say it holds none,
        and a yearly run would then supersede it as holding nothing)."""
        if self.period is None or not {"from", "until"} <= set(self.period):
            raise ManifestUnreadable(f"the manifest of {self.deliberation} states no period")
        return set(range(int(self.period["from"][:4]), int(self.period["until"][:4]) + 1))

    def document(self) -> dict[str, Any]:
        """The manifest as it is written: the fields it was given (no default added), dates
        as `date`s, which rex's JSON writes as ISO text (flows.release.files.json_text)."""
        return self.model_dump(exclude_unset=True)

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """The manifest at `path`; ManifestUnreadable, naming the file and the fields, where it
        is not JSON or not a manifest (never quoting a value)."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ManifestUnreadable(f"{path}: not valid JSON") from None
        return cls.of(document, path)

    @classmethod
    def of(cls, document: Any, where: Path | str = MANIFEST) -> Manifest:
        try:
            return cls.model_validate(document)
        except ValidationError as error:
            fields = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'the document'}: {e['msg']}"
                for e in error.errors(include_input=False)
            )
            raise ManifestUnreadable(f"{where}: not a manifest rex wrote ({fields})") from None
