"""A deliberation as a strict, frozen model: what may be extracted, for whom, how, until when.

YAML is parsed into these models once (specs.load); nothing downstream sees a dict.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from specs import derivation
from specs.catalog import PANELS, VARIABLES, Granularity, Kind
from specs.modes import Mode, ModeName
from specs.population import (
    WINDOW,
    Condition,
    EmployedCondition,
    expression_of_rule,
    mentions_listed,
    walk,
)
from specs.protections import PROTECTION_KINDS
from specs.values import Employers, Period, Strict, Window, parse_month

PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class Delivery(Strict):
    """Scheduled deliveries: when they run and which years each one holds."""

    cron: str = Field(
        description="when the scheduled run fires, as a cron expression in Europe/Brussels time"
    )
    regime: Literal["fixed", "rolling"] = Field(
        description="fixed: every delivery covers the spec's whole period (a refresh); rolling: "
        "each delivery holds the most recent `keep_years` years, so the oldest year of the "
        "previous delivery is destroyed (14/45)"
    )
    keep_years: int | None = Field(
        default=None, gt=0, description="rolling: the number of years a delivery holds"
    )
    data_lag_years: int = Field(
        default=1,
        ge=0,
        description="rolling: a run as of day D delivers up to year D.year - data_lag_years, "
        "the newest year whose data are complete by then",
    )

    @model_validator(mode="after")
    def _keep_years_for_rolling_only(self) -> Delivery:
        if (self.regime == "rolling") != (self.keep_years is not None):
            raise ValueError("'keep_years' is required for a rolling regime and only there")
        return self

    def period_as_of(self, period: Period, as_of: dt.date) -> Period:
        """The months a delivery as of `as_of` covers, inside the spec's period."""
        if self.regime == "fixed" or self.keep_years is None:
            return period
        newest = min(as_of.year - self.data_lag_years, period.last_day.year)
        oldest = max(newest - self.keep_years + 1, period.first_day.year)
        if newest < oldest:
            raise ValueError(
                f"a delivery as of {as_of} would hold no year of the period "
                f"{period.from_} .. {period.until}"
            )
        return period.model_copy(
            update={
                "from_": max(f"{oldest}-01", period.from_),
                "until": min(f"{newest}-12", period.until),
            }
        )


class PopulationRule(StrEnum):
    ALL_PERSONS = "all_persons_in_period"
    INCAPACITY_IN_PERIOD = "incapacity_episode_in_period"
    EMPLOYED_IN_PERIOD = "employed_in_period"
    # the persons the recipient lists in its request (a file given with each run)
    LISTED_PERSONS = "listed_persons"


class Population(Strict):
    """Who is in the extract: an expression over the catalog (`where`), or one of the named
    rules, each a shorthand for an expression (specs.population.expression_of_rule)."""

    rule: PopulationRule | None = Field(
        default=None, description="a named population rule; absent: the `where` expression"
    )
    where: Condition | None = Field(
        default=None,
        description="the population as an expression over catalog variables and facts "
        "(specs.population); absent: the named `rule`",
    )
    description: str = Field(description="the deliberation's own wording of the population")
    since: str | None = Field(
        default=None,
        description="first month the rule looks at, YYYY-MM; default: the period's first month. "
        "A rolling delivery sets it to the first month of the spec's period, so that persons "
        "sampled in earlier deliveries stay in the population (refreshed, not redrawn)",
    )

    employers: Employers | None = Field(
        default=None,
        description="employed_in_period: whose workers; absent: the workers of every employer",
    )

    _check_month = field_validator("since", mode="before")(
        lambda value: None if value is None else parse_month(value)
    )

    @model_validator(mode="after")
    def _employers_for_employed_only(self) -> Population:
        if (self.rule is None) == (self.where is None):
            raise ValueError("give the population one way: a named 'rule', or a 'where' expression")
        if self.employers is not None and self.rule is not PopulationRule.EMPLOYED_IN_PERIOD:
            raise ValueError(
                f"'employers' applies to the rule {PopulationRule.EMPLOYED_IN_PERIOD.value!r} only"
            )
        restricting = [
            c
            for c in walk(self.condition)
            if isinstance(c, EmployedCondition)
            and c.employed.employers is not None
            and c.employed.employers.their_lines_only
        ]
        if len(restricting) > 1:
            raise ValueError(
                "only one 'employed' condition may keep its employers' lines only "
                "('their_lines_only'): the extract holds the lines of one set of employers"
            )
        return self

    @property
    def condition(self) -> Condition:
        """The population as an expression, the named rules written out."""
        if self.where is not None:
            return self.where
        assert self.rule is not None  # one of the two, checked above
        return expression_of_rule(self.rule.value, self.employers)

    @property
    def lists_persons(self) -> bool:
        """Whether the recipient's list of persons is part of the population."""
        return mentions_listed(self.condition)

    @property
    def employer_lines_only(self) -> Employers | None:
        """The employers whose lines alone the extract holds (`their_lines_only`), if any."""
        found = [
            c.employed.employers
            for c in walk(self.condition)
            if isinstance(c, EmployedCondition) and c.employed.employers is not None
        ]
        restricting = [e for e in found if e.their_lines_only]
        return restricting[0] if restricting else None  # at most one, checked above

    def in_words(self) -> str:
        """The population said in words, generated from the expression."""
        return self.condition.describe()


class IdentifiedData(Strict):
    """A grant of identified data for control purposes: the recipient checks what named persons
    and employers declared, so it receives INSZ, RSZ and KBO numbers (19/104, 13/021). Every
    other rule still holds: only the granted variables, validated, logged, deleted on time."""

    reference: str = Field(description="where the deliberation grants it (points)")
    reason: str = Field(description="why the recipient needs the identities, in its words")


class InForce(Strict):
    """When an authorisation that waits on a regulation takes effect (13/021 point 29). Until
    then only synthetic test data may be processed, and what that produces is deleted soon."""

    since: dt.date | None = Field(
        description="the day the regulation took effect; null while it has not"
    )
    test_data_delete_by: dt.date = Field(
        description="what test runs produced before the regulation took effect is deleted by "
        "this day"
    )

    def in_force(self, day: dt.date) -> bool:
        return self.since is not None and day >= self.since


class RevokedRecipient(Strict):
    """A former recipient whose authorisation was withdrawn: what it holds is due at once."""

    name: str = Field(description="the recipient, as named in the manifests of its deliveries")
    since: dt.date = Field(description="the day the authorisation was withdrawn")
    reference: str = Field(default="", description="where the deliberation says so")


class Variables(Strict):
    month: tuple[str, ...] = Field(default=(), description="person x month variables")
    quarter: tuple[str, ...] = Field(default=(), description="person x quarter variables")
    year: tuple[str, ...] = Field(default=(), description="person x year variables")

    @model_validator(mode="after")
    def _known_and_at_their_granularity(self) -> Variables:
        for granularity in Granularity:
            names = getattr(self, granularity.value)
            for name in names:
                variable = VARIABLES.get(name)
                if variable is None:
                    raise ValueError(
                        f"unknown variable {name!r} under {granularity.value!r}; known "
                        f"{granularity.value} variables: {', '.join(_names_at(granularity))}"
                    )
                if not variable.built:
                    raise ValueError(
                        f"variable {name!r} is declared in the catalog but not built yet; "
                        "no extract can hold it"
                    )
                if variable.granularity is not granularity:
                    raise ValueError(
                        f"variable {name!r} is a {variable.granularity.value} variable, "
                        f"not a {granularity.value} one"
                    )
            if len(set(names)) != len(names):
                raise ValueError(f"a variable is listed twice under {granularity.value!r}")
        return self

    def all(self) -> tuple[str, ...]:
        return self.month + self.quarter + self.year


def _names_at(granularity: Granularity) -> list[str]:
    return sorted(n for n, v in VARIABLES.items() if v.granularity is granularity)


class Summary(Strict):
    """A table of totals over the persons of one released panel: per group and period, the sums
    of some quantities and the number of persons (19/104: the full-time equivalents per facility
    in the two quarters compared). A global step, made from the panel as released, so it holds
    nothing the panel does not."""

    description: str = Field(description="what the table is for, in the deliberation's terms")
    panel: str = Field(description="the panel summed over")
    by: tuple[str, ...] = Field(description="the panel's codes or identifiers to group by")
    sum: tuple[str, ...] = Field(description="the panel's quantities to add up")
    periods: tuple[str, ...] = Field(
        default=(), description="only these periods of the panel (its labels, e.g. 2019-Q4)"
    )


class AcceptedDerivation(Strict):
    """A known way released columns give back a protected value that the deliberation
    authorises: the derivation audit reports it and does not refuse the release for it."""

    variable: str = Field(description="the protected variable that is given back")
    by: tuple[str, ...] = Field(min_length=1, description="the released columns that give it back")
    point: str = Field(min_length=1, description="the deliberation's point that authorises it")


class RequestKind(StrEnum):
    """What a consultation request gives with each person (04/037 points 1.3, 1.4 and 3.1)."""

    PERSONS = "persons"  # the person alone: every message about them (L051)
    MESSAGE_NUMBERS = "message_numbers"  # a unique number per line: that message (A052L)
    RESUMPTION_DATE = "resumption_date"  # the day work resumed: the fitness declaration (C6)


class Consultation(Strict):
    """One kind of look-up a deliberation allows on the persons its recipient lists: what the
    request gives and which of the spec's variables it gets back, nothing more."""

    description: str = Field(min_length=1, description="what the consultation is, as named")
    reference: str = Field(min_length=1, description="the points that describe it")
    request: RequestKind = Field(description="what the request gives with each person")
    variables: tuple[str, ...] = Field(
        min_length=1, description="the spec's variables it delivers (the panels' keys besides)"
    )


class Spec(Strict):
    """One deliberation: the single source of truth for what an extract may hold."""

    deliberation: str = Field(description="number of the deliberation, e.g. 18/088")
    title: str = Field(description="short title")
    project: str = Field(
        description="key-store project whose key pseudonymises this extract "
        "(lowercase letters, digits, dashes)"
    )
    recipient: str = Field(description="who receives the data")
    purpose: str = Field(description="the authorised purpose")
    legal_basis: tuple[str, ...] = Field(description="legal references of the authorisation")
    valid: Window = Field(description="days on which runs under this deliberation are allowed")
    period: Period = Field(description="months the panels cover")
    population: Population = Field(description="who is in the extract")
    variables: Variables = Field(description="authorised variables per granularity")
    classes: dict[str, tuple[float, ...]] = Field(
        default_factory=dict,
        description="class edges per amount variable (euro); a value v lies in [edge_i, edge_i+1)",
    )
    modes: dict[ModeName, Mode] = Field(description="the ways the extract may be delivered")
    in_force: InForce | None = Field(
        default=None,
        description="for an authorisation that takes effect only with a regulation; absent: in "
        "force throughout its validity window",
    )
    delivery: Delivery | None = Field(
        default=None, description="scheduled deliveries; absent: runs are made by hand only"
    )
    revoked_recipients: tuple[RevokedRecipient, ...] = Field(
        default=(),
        description="former recipients whose authorisation was withdrawn; every delivery they "
        "hold is due for destruction from that day",
    )
    summaries: dict[str, Summary] = Field(
        default_factory=dict,
        description="tables of totals released beside the panels, by name",
    )
    operators: tuple[str, ...] = Field(
        default=(),
        description="logins of the staff allowed to run this deliberation's extracts (13/021 "
        "point 24); a run by anyone else is refused. Empty, with no `operator_roles`: the "
        "deliberation names nobody, and access to the key store is the only restriction",
    )
    operator_roles: tuple[str, ...] = Field(
        default=(),
        description="roles whose holders may run this deliberation's extracts (19/104 point 9), "
        "as the staff roster (data/access/roster.yaml) assigns them",
    )
    operators_sign_declaration: bool = Field(
        default=False,
        description="an operator must have signed a declaration on honour to respect the "
        "confidentiality of the data, recorded in the staff roster (13/021 point 24)",
    )
    identified_data: IdentifiedData | None = Field(
        default=None,
        description="the deliberation grants identified data for control purposes; without it "
        "no mode may be identified and no direct identifier may be requested",
    )
    accepted_derivations: tuple[AcceptedDerivation, ...] = Field(
        default=(),
        description="derivations of protected values from other released columns that the "
        "deliberation authorises (see specs.derivation and the derivation audit)",
    )
    consultations: dict[str, Consultation] = Field(
        default_factory=dict,
        description="the kinds of look-up the deliberation allows, by name (04/037: L051, "
        "A052L and its extended variant); a run names one and gets its variables only. Absent: "
        "a run delivers every variable of the spec",
    )

    @field_validator("deliberation")
    @classmethod
    def _deliberation_number(cls, value: str) -> str:
        if not re.fullmatch(r"\d{2}/\d{3}", value):
            raise ValueError(f"expected a deliberation number like 18/088, got {value!r}")
        return value

    @field_validator("project")
    @classmethod
    def _project_name(cls, value: str) -> str:
        if not PROJECT_NAME.fullmatch(value):
            raise ValueError(
                f"expected lowercase letters, digits and dashes (2-63 characters), got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _consultations_of_listed_persons_and_spec_variables(self) -> Spec:
        for name, consultation in self.consultations.items():
            if not self.population.lists_persons:
                raise ValueError(
                    f"consultation {name!r}: a consultation looks up the persons a request "
                    "lists, so the population must hold the listed persons (listed_persons)"
                )
            unknown = [v for v in consultation.variables if v not in self.variables.all()]
            if unknown:
                raise ValueError(
                    f"consultation {name!r}: {', '.join(unknown)} not among the spec's "
                    "variables; a consultation delivers some of them, never others"
                )
            if len(set(consultation.variables)) != len(consultation.variables):
                raise ValueError(f"consultation {name!r}: a variable is listed twice")
        return self

    def for_consultation(self, name: str) -> Spec:
        """The spec as one consultation delivers it: its variables only, in the spec's order."""
        consultation = self.consultations[name]
        kept = set(consultation.variables)
        narrowed = {
            granularity.value: tuple(
                v for v in getattr(self.variables, granularity.value) if v in kept
            )
            for granularity in Granularity
        }
        return self.model_copy(update={"variables": Variables(**narrowed)})

    @field_validator("classes")
    @classmethod
    def _classes_are_increasing_edges_of_amounts(
        cls, value: dict[str, tuple[float, ...]]
    ) -> dict[str, tuple[float, ...]]:
        for name, edges in value.items():
            variable = VARIABLES.get(name)
            if variable is None or variable.kind is not Kind.AMOUNT:
                raise ValueError(f"classes given for {name!r}, which is not an amount variable")
            if len(edges) < 1 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
                raise ValueError(f"class edges of {name!r} must be strictly increasing")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Spec:
        requested = set(self.variables.all())
        for name in self.classes:
            if name not in requested:
                raise ValueError(f"classes given for {name!r}, which the spec does not request")
        for mode_name, mode in self.modes.items():
            if mode.protect.protects(Kind.AMOUNT):
                missing = sorted(
                    n
                    for n in requested
                    if VARIABLES[n].kind is Kind.AMOUNT and n not in self.classes
                )
                if missing:
                    raise ValueError(
                        f"mode {mode_name.value!r} puts amounts in classes but no classes are "
                        f"given for: {', '.join(missing)}"
                    )
            if mode.delete_by is not None and mode.delete_by < self.valid.from_:
                raise ValueError(f"mode {mode_name.value!r}: delete_by lies before 'valid.from'")
            if mode.identified and self.identified_data is None:
                raise ValueError(
                    f"mode {mode_name.value!r} is identified, but the spec holds no "
                    "'identified_data' grant: only a deliberation that grants identified data "
                    "may deliver it"
                )
            if (mode_name is ModeName.CONTROL) != mode.identified:
                raise ValueError(
                    f"mode {mode_name.value!r}: identified data goes by the control mode only, "
                    "and the control mode is identified"
                )
        direct = sorted(n for n in requested if VARIABLES[n].kind is Kind.DIRECT_IDENTIFIER)
        pseudonymised = [m.value for m, mode in self.modes.items() if not mode.identified]
        if direct and pseudonymised:
            raise ValueError(
                f"the spec requests direct identifiers ({', '.join(direct)}), which only an "
                f"identified mode may deliver; pseudonymised modes: {', '.join(pseudonymised)}"
            )
        for name, summary in self.summaries.items():
            self._check_summary(name, summary)
        if self.population.lists_persons and pseudonymised:
            raise ValueError(
                "a population listed by its recipient goes to identified modes only: a "
                "pseudonymised delivery of a listed person would tie the pseudonym to the INSZ "
                f"the recipient sent (pseudonymised modes: {', '.join(pseudonymised)})"
            )
        if self.identified_data is not None and not any(m.identified for m in self.modes.values()):
            raise ValueError("the spec grants identified data but no mode is identified")
        for mode_name, mode in self.modes.items():
            self._check_pseudonym_link(mode_name, mode)
            self._check_analysis(mode_name, mode)
        # last: a mode refused by the rules above has no protections worth a grant
        for mode_name, mode in self.modes.items():
            self._check_exact_grants(mode_name, mode, requested)
        self._check_derivations(requested)
        return self

    def _check_derivations(self, requested: set[str]) -> None:
        for i, accepted in enumerate(self.accepted_derivations):
            unknown = [n for n in (accepted.variable, *accepted.by) if n not in requested]
            if unknown:
                raise ValueError(
                    f"accepted_derivations[{i}]: {', '.join(unknown)} is not a variable the "
                    "spec requests"
                )
        for mode_name, mode in self.modes.items():
            try:
                self.derived_protections(mode)
            except derivation.DerivationError as error:
                raise ValueError(f"mode {mode_name.value!r}: {error}") from None

    def derived_protections(self, mode: Mode) -> dict[str, derivation.DerivedProtection]:
        """How `mode` protects each requested variable derived from a value of a kind it protects
        (specs.derivation); DerivationError where it cannot."""
        accepted: dict[tuple[str, str], str] = {}
        for grant in self.accepted_derivations:
            for name in grant.by:
                accepted.setdefault((grant.variable, name), grant.point)
        protected = [p.kind for p in PROTECTION_KINDS if mode.protect.protects(p.kind)]
        return derivation.derived_protections(
            self.variables.all(), protected, self.classes, accepted
        )

    @staticmethod
    def _check_analysis(mode_name: ModeName, mode: Mode) -> None:
        if mode.analysis is not None and mode_name is not ModeName.ONPREM:
            raise ValueError(
                f"mode {mode_name.value!r}: analysis runs are for the on-premise workspace only; "
                "a delivered mode's data is no longer ours to run code on"
            )

    def _check_pseudonym_link(self, mode_name: ModeName, mode: Mode) -> None:
        link = mode.shares_pseudonyms_with
        if link is None:
            return
        if link.mode is mode_name or link.mode not in self.modes:
            raise ValueError(
                f"mode {mode_name.value!r} shares the pseudonyms of {link.mode.value!r}, which "
                "is not another mode of this spec"
            )
        if self.modes[link.mode].shares_pseudonyms_with is not None:
            raise ValueError(
                f"mode {mode_name.value!r} shares the pseudonyms of {link.mode.value!r}, which "
                "shares another mode's: name that mode itself"
            )

    @staticmethod
    def _check_exact_grants(mode_name: ModeName, mode: Mode, requested: set[str]) -> None:
        """Data that leaves the premises keeps a kind of value exact only where the deliberation
        grants it, cited in the mode; a grant for a value the mode protects is a mistake."""
        for protection in PROTECTION_KINDS:
            field, kind = protection.setting, protection.kind
            exact = sorted(n for n in requested if VARIABLES[n].kind is kind)
            if mode.protect.protects(kind):
                if field in mode.exact_grants:
                    raise ValueError(
                        f"mode {mode_name.value!r}: 'exact_grants.{field}' is given but "
                        f"'protect.{field}' is not exact"
                    )
                continue
            if mode_name.leaves_premises and exact and field not in mode.exact_grants:
                raise ValueError(
                    f"mode {mode_name.value!r} leaves the premises with 'protect.{field}' exact "
                    f"({', '.join(exact[:5])}{' and more' if len(exact) > 5 else ''}) but cites "
                    f"no grant for it: protect them, or give 'modes.{mode_name.value}."
                    f"exact_grants.{field}' with the deliberation's 'reference' and a 'reason'"
                )

    def _check_summary(self, name: str, summary: Summary) -> None:
        if name in PANELS:
            raise ValueError(f"summary {name!r} has the name of a panel")
        if summary.panel not in PANELS:
            raise ValueError(f"summary {name!r}: unknown panel {summary.panel!r}")
        in_panel = set(self.variables_of_panel(summary.panel))
        kinds = {"by": (Kind.CODE, Kind.CODED_ID), "sum": (Kind.QUANTITY,)}
        for role, names in (("by", summary.by), ("sum", summary.sum)):
            for variable in names:
                if variable not in in_panel:
                    raise ValueError(
                        f"summary {name!r}: {variable!r} is not a variable the spec requests in "
                        f"the {summary.panel} panel"
                    )
                if VARIABLES[variable].kind not in kinds[role]:
                    allowed = " or ".join(k.value for k in kinds[role])
                    raise ValueError(
                        f"summary {name!r}: {role} takes a {allowed} variable; {variable!r} is a "
                        f"{VARIABLES[variable].kind.value}"
                    )
        if not summary.sum:
            raise ValueError(f"summary {name!r} sums nothing")
        labels = self.period.labels(PANELS[summary.panel].granularity)
        unknown = [p for p in summary.periods if p not in labels]
        if unknown:
            raise ValueError(
                f"summary {name!r}: {', '.join(unknown)} is no {PANELS[summary.panel].granularity}"
                f" of the period {self.period.from_} .. {self.period.until}"
            )

    def run_deadline(self, mode: Mode, day: dt.date) -> dt.date | None:
        """The day the data of a run of `mode` on `day` must be deleted by (None: kept for the
        whole career); a test run, before the spec is in force, gets the test deadline."""
        deadline = mode.deadline(day)
        if self.in_force is not None and not self.in_force.in_force(day):
            test_deadline = self.in_force.test_data_delete_by
            deadline = test_deadline if deadline is None else min(deadline, test_deadline)
        return deadline

    def operator_refusal(
        self, login: str, roles: tuple[str, ...], declaration_signed: bool
    ) -> str | None:
        """Why `login` (holding `roles` in the staff roster) may not run this deliberation's
        extracts; None when it may."""
        listed = login in self.operators or bool(set(roles) & set(self.operator_roles))
        if (self.operators or self.operator_roles) and not listed:
            allowed = [*self.operators, *(f"role {r!r}" for r in self.operator_roles)]
            return (
                f"{login!r} is not an operator of deliberation {self.deliberation}; its "
                f"operators are: {', '.join(allowed)}"
            )
        if self.operators_sign_declaration and not declaration_signed:
            return (
                f"{login!r} has not signed the declaration on honour that deliberation "
                f"{self.deliberation} requires of its operators (recorded in the staff roster)"
            )
        return None

    def last_deadline(self) -> dt.date | None:
        """The latest day any data of this spec may be kept to; None: whole career (no date)."""
        deadlines = [m.last_deadline(self.valid) for m in self.modes.values()]
        if any(d is None for d in deadlines):
            return None
        return max(d for d in deadlines if d is not None)

    def as_delivered(self, as_of: dt.date) -> Spec:
        """The spec with the period a delivery as of `as_of` covers (its own, unless rolling)."""
        if self.delivery is None:
            return self
        population = self.population.model_copy(
            update={"since": self.population.since or self.period.from_}
        )
        return self.model_copy(
            update={
                "period": self.delivery.period_as_of(self.period, as_of),
                "population": population,
            }
        )

    @property
    def population_window(self) -> Period:
        """The months the population rule looks at: from `population.since`, to the period's end."""
        if self.population.since is None:
            return self.period
        return self.period.model_copy(
            update={"from_": min(self.population.since, self.period.from_)}
        )

    def population_in_words(self) -> str:
        """The population in words generated from its expression, its window's months in."""
        window = self.population_window
        return self.population.in_words().replace(WINDOW, f"{window.from_} .. {window.until}")

    def variables_of_panel(self, panel: str) -> tuple[str, ...]:
        return tuple(n for n in self.variables.all() if VARIABLES[n].panel == panel)
