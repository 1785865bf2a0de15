"""How a deliberation lets its extract be delivered: the modes (a sample, the whole population
on premise, identified data for control), each with its protections, retention, disclosure-risk
threshold, analysis runs and output checks, parsed once into strict, frozen models.

The spec (specs.model) holds one Mode per ModeName it authorises.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from specs.catalog import VARIABLES, Kind
from specs.protections import OF_KIND
from specs.values import Strict, Window, add_months


class ModeName(StrEnum):
    SAMPLE = "sample"
    ONPREM = "onprem"
    CONTROL = "control"

    @property
    def leaves_premises(self) -> bool:
        """Whether its data is delivered out of the building (all but the on-premise build)."""
        return self is not ModeName.ONPREM


class Protections(Strict):
    """How a mode treats each kind of value; pseudonymisation of persons and employers is
    not optional and is therefore not listed."""

    amounts: Literal["classes", "exact"] = Field(
        default="exact", description="euro amounts: class labels from the spec's classes, or exact"
    )
    dates: Literal["month", "exact"] = Field(
        default="exact", description="event dates: cut to the month (YYYY-MM), or exact"
    )
    nationality: Literal["scramble", "exact"] = Field(
        default="exact", description="nationalities: redistributed across persons, or exact"
    )

    def protects(self, kind: Kind) -> bool:
        """Whether values of `kind` are protected (specs.protections: its setting protects)."""
        protection = OF_KIND.get(kind)
        return protection is not None and getattr(self, protection.setting) == protection.protecting


class ExactGrant(Strict):
    """The deliberation's leave for a mode whose data leaves the premises to keep one kind of
    value exact (amounts, dates or nationality), as `identified_data` is for identities."""

    reference: str = Field(description="where the deliberation grants the exact values (points)")
    reason: str = Field(description="why the recipient needs them exact, in its words")


class DisclosureRisk(Strict):
    """How a sample release's disclosure risk is measured against the whole population, and
    the share of unique persons above which the release is refused (issue 11, section 2)."""

    quasi_identifiers: tuple[str, ...] | None = Field(
        default=None,
        description="person-level variables (of the quarter panel) an outsider may link on; "
        "absent: those the catalog marks (specs.catalog.QUASI_IDENTIFIERS) that the spec releases",
    )
    sensitive: tuple[str, ...] | None = Field(
        default=None,
        description="quarter-panel variables whose l-diversity is measured; absent: the "
        "catalog's (specs.catalog.SENSITIVE) that the spec releases",
    )
    max_unique_share: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="refuse the release if a larger share of its persons is unique in the "
        "population on the quasi-identifiers; absent: measured, never refused",
    )

    @field_validator("quasi_identifiers", "sensitive")
    @classmethod
    def _person_level(cls, names: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for name in names or ():
            variable = VARIABLES.get(name)
            if variable is None or variable.panel != "quarter":
                raise ValueError(f"{name!r} is not a variable of the quarter panel")
        return names


# The anchors of the output checks' defaults: ACRO (SACRO project) checks every cell for at
# least 10 persons and, for magnitudes, its (n, k) dominance rule with n = 2, k = 0.9 and its
# p-ratio rule with p = 0.1, and treats zeros as disclosive; OpenSAFELY rounds the counts it
# releases to the nearest 5 (and redacts those of 7 or fewer, which a threshold of 10 covers).
ACRO_MIN_PERSONS = 10
ACRO_DOMINANCE_N = 2
ACRO_DOMINANCE_K = 0.9
ACRO_P_RATIO = 0.1
OPENSAFELY_ROUNDING = 5


class OutputChecks(Strict):
    """The rules every output of an analysis run must pass before it leaves the premises
    (18/088 point 12: only anonymous results leave). Defaults: ACRO's and OpenSAFELY's."""

    min_persons: int = Field(
        default=ACRO_MIN_PERSONS,
        ge=1,
        description="a cell (a count, or a magnitude over persons) of fewer persons is suppressed",
    )
    dominance_n: int = Field(
        default=ACRO_DOMINANCE_N,
        ge=1,
        description="(n, k) rule: a magnitude cell whose n largest contributions make up more "
        "than k of its total is suppressed",
    )
    dominance_k: float = Field(
        default=ACRO_DOMINANCE_K, gt=0, le=1, description="(n, k) rule: the share k"
    )
    p_ratio: float = Field(
        default=ACRO_P_RATIO,
        ge=0,
        le=1,
        description="p-ratio rule: a magnitude cell whose total less its two largest "
        "contributions is below p times its largest is suppressed (the second largest "
        "contributor could estimate the largest within p)",
    )
    round_counts_to: int = Field(
        default=OPENSAFELY_ROUNDING,
        ge=1,
        description="released counts are rounded to the nearest multiple of this (1: as they are)",
    )
    zeros: Literal["suppress", "release"] = Field(
        default="suppress",
        description="a count of zero tells that nobody has the combination (ACRO treats zeros "
        "as disclosive): suppressed, or released",
    )


class AnalysisRuns(Strict):
    """Researchers' code run on the on-premise workspace (18/088 point 12: the codes developed on
    the sample applied to the whole population), its outputs checked before they leave."""

    output_checks: OutputChecks = Field(
        default_factory=OutputChecks, description="the rules every output must pass"
    )
    reviewer_roles: tuple[str, ...] = Field(
        min_length=1,
        description="roles of the staff roster whose holders review a run's outputs (its output "
        "checkers): each output is approved or rejected by them before it leaves, and one the "
        "checks withheld is approved only with a written reason",
    )
    approvals: int = Field(
        default=1,
        ge=1,
        le=5,
        description="how many different reviewers must approve an output before it leaves (two, "
        "as OpenSAFELY's output checkers); the person who ran the code is never one of them",
    )
    time_limit_minutes: float = Field(
        default=120, gt=0, description="a run is stopped after this much time (wall and CPU)"
    )
    memory_limit_gib: float = Field(
        default=16, gt=0, description="the most memory (address space) a run's process may take"
    )
    process_limit: int = Field(
        default=256,
        ge=8,
        description="the most processes and threads a run may have at once (a library's thread "
        "pool counts: polars starts one thread per core)",
    )
    output_limit_mib: float = Field(
        default=512,
        gt=0,
        description="the most disk a run's outputs may take, all files together (and so the "
        "largest file it may write)",
    )
    output_file_limit: int = Field(
        default=1000, ge=1, description="the most files and folders a run's outputs may hold"
    )


class PseudonymLink(Strict):
    """A mode that carries the pseudonyms of another mode of the spec, linking the two: by
    default every mode has pseudonyms of its own (transforms.modes), so only a spec that says
    so, and why, links them."""

    mode: ModeName = Field(
        description="the mode of the same spec whose pseudonyms this one carries"
    )
    reason: str = Field(
        min_length=1, description="why the two deliveries must be linkable (shown in the manifest)"
    )


class ConsultationLog(Strict):
    """How the consultations of an identified mode are logged (16/046 points 9 and 15-17): each
    is tied to the case that justifies it (a contact dossier, a benefit file), and its details
    (the case reference, the persons as keyed digests) are kept only as long as needed."""

    case: str = Field(
        min_length=1,
        description="what the case reference of a request names here (e.g. the control file)",
    )
    keep_months: int = Field(
        gt=0,
        description="the details of each consultation (case reference, persons) are deleted "
        "this many months after the day it was made; the chained entry stays",
    )
    reference: str = Field(description="where the deliberations say how long, or why (points)")


class ModeKind(StrEnum):
    """What a mode delivers, said once (by `Mode.kind`) for every step that treats the kinds
    differently: a drawn sample, the whole population, or named persons."""

    SAMPLE = "sample"
    POPULATION = "population"
    IDENTIFIED = "identified"

    @property
    def draws_sample(self) -> bool:
        return self is ModeKind.SAMPLE


class Mode(Strict):
    """One way an extract may be delivered. Its retention is given one way exactly: a fixed
    deadline (`delete_by`), a term from each run (`keep_months`), or the whole career of the
    persons concerned (`keep_whole_career`)."""

    persons: int | None = Field(
        default=None, gt=0, description="sample size; absent: the whole population"
    )
    protect: Protections = Field(description="protections applied in this mode")
    identified: bool = Field(
        default=False,
        description="persons and employers are delivered identified (INSZ, RSZ and KBO numbers) "
        "instead of pseudonymised; only a spec with an `identified_data` grant may say so",
    )
    delete_by: dt.date | None = Field(
        default=None, description="the data of this mode must be deleted by this day"
    )
    keep_months: int | None = Field(
        default=None,
        gt=0,
        description="the data of each run must be deleted this many months after the run's day",
    )
    keep_whole_career: bool = Field(
        default=False,
        description="the data may be kept for the whole career of the persons concerned: no "
        "deadline by date",
    )
    our_copy_keep_months: int | None = Field(
        default=None,
        gt=0,
        description="we keep our own copy of a delivery this many months after the run, "
        "however long its recipient may keep it; absent: as long as the recipient. Required "
        "for data kept for a whole career, which we have no reason to keep as long",
    )
    exact_grants: dict[Literal["amounts", "dates", "nationality"], ExactGrant] = Field(
        default_factory=dict,
        description="per protection a mode whose data leaves the premises drops (kept exact), "
        "the deliberation's grant; without one such a mode must protect that kind of value",
    )
    description: str = Field(default="", description="what this mode is for")
    disclosure_risk: DisclosureRisk | None = Field(
        default=None,
        description="how a sample mode's disclosure risk is measured and its threshold; "
        "absent: measured with the catalog's defaults and no threshold",
    )
    analysis: AnalysisRuns | None = Field(
        default=None,
        description="on premise only: researchers' code may run on this mode's workspace "
        "(`rex analyse run`), and its checked outputs leave; absent: no analysis runs",
    )
    shares_pseudonyms_with: PseudonymLink | None = Field(
        default=None,
        description="carry the person and employer pseudonyms of another mode (which the spec "
        "must justify); absent: this mode's pseudonyms are its own, unlinkable to the others'",
    )

    consultation_log: ConsultationLog | None = Field(
        default=None,
        description="how each run's consultation of named persons is tied to its case and how "
        "long its details are kept; required for an identified mode, and for it only",
    )

    @model_validator(mode="after")
    def _one_retention(self) -> Mode:
        given = [
            name
            for name, value in (
                ("delete_by", self.delete_by),
                ("keep_months", self.keep_months),
                ("keep_whole_career", self.keep_whole_career or None),
            )
            if value is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give the retention of a mode one way: delete_by, keep_months or "
                f"keep_whole_career (given: {', '.join(given) or 'none'})"
            )
        if self.keep_whole_career and self.our_copy_keep_months is None:
            raise ValueError(
                "data kept for the whole career needs 'our_copy_keep_months': how long we keep "
                "our own copy of what we delivered"
            )
        if self.identified and self.persons is not None:
            raise ValueError("an identified mode delivers named persons, not a sample of them")
        return self

    @model_validator(mode="after")
    def _consultations_of_identified_modes(self) -> Mode:
        if self.identified and self.consultation_log is None:
            raise ValueError(
                "an identified mode consults named persons: give its 'consultation_log' (what "
                "the case reference of a request names, how long the details are kept; 16/046 "
                "points 9 and 17)"
            )
        if not self.identified and self.consultation_log is not None:
            raise ValueError("only an identified mode consults named persons: no consultation_log")
        return self

    @property
    def kind(self) -> ModeKind:
        """What the mode delivers: identified persons, a sample of `persons` (pseudonymised),
        or the whole population (pseudonymised); the validators keep the two fields apart."""
        if self.identified:
            return ModeKind.IDENTIFIED
        return ModeKind.POPULATION if self.persons is None else ModeKind.SAMPLE

    def deadline(self, run_day: dt.date) -> dt.date | None:
        """The day the data of a run on `run_day` must be deleted by; None: whole career."""
        if self.delete_by is not None:
            return self.delete_by
        if self.keep_months is not None:
            return add_months(run_day, self.keep_months)
        return None

    def our_copy_deadline(self, run_day: dt.date, deadline: dt.date | None) -> dt.date | None:
        """The day our copy of a delivery made on `run_day` goes: the earlier of the
        recipient's deadline and our own term."""
        if self.our_copy_keep_months is None:
            return deadline
        ours = add_months(run_day, self.our_copy_keep_months)
        return ours if deadline is None else min(ours, deadline)

    def last_deadline(self, valid: Window) -> dt.date | None:
        """The latest deadline any run in the validity window can get; None: no such day (kept
        for the whole career, or a term from each run of an open-ended authorisation)."""
        if self.delete_by is None and valid.until is None:
            return None
        return self.deadline(valid.until or valid.from_)
