"""What a recipient asks for: its list of persons, and the consultation it asks (04/037, 13/021)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flows.extract.errors import AuthorisationError
from flows.stores.requests import read_consultation_request, read_person_list
from specs.catalog import VARIABLES
from specs.model import Consultation, RequestKind, Spec
from transforms.pseudonymise import (
    PERSON,
    pseudonym_map,
    pseudonym_set_digest,
)

# the pseudonym domain of an A052 message number, as the catalog declares it
A052_MESSAGE_DOMAIN = str(VARIABLES["a052_message_number"].pseudonym_domain)


def requested_persons(spec: Spec, persons_file: Path | None) -> pl.DataFrame | None:
    """The listed persons, where the spec's population is the recipient's list."""
    listing = spec.population.lists_persons
    if listing and persons_file is None:
        raise AuthorisationError(
            f"the population of deliberation {spec.deliberation} is the persons its recipient "
            "lists: give the list of the request (one INSZ per line)"
        )
    if not listing and persons_file is not None:
        raise AuthorisationError(
            f"the population of deliberation {spec.deliberation} is "
            f"{spec.population_in_words()}, not a list of persons: a list given with the run is "
            "refused"
        )
    return None if persons_file is None else read_person_list(persons_file)


@dataclass(frozen=True)
class ConsultationRequest:
    """What a consultation request asks with each person (04/037): `lines` of insz and a
    message_number or resumption_date, by `kind`."""

    kind: RequestKind
    lines: pl.DataFrame


def chosen_consultation(spec: Spec, name: str | None) -> Consultation | None:
    """The consultation a run names: required where the spec has consultations, refused where
    it has none or not that one."""
    if not spec.consultations:
        if name is not None:
            raise AuthorisationError(
                f"deliberation {spec.deliberation} names no consultations: a run of it cannot "
                f"ask for {name!r}"
            )
        return None
    known = ", ".join(spec.consultations)
    if name is None:
        raise AuthorisationError(
            f"deliberation {spec.deliberation} allows its consultations only ({known}): name "
            "the one the request asks for"
        )
    if name not in spec.consultations:
        raise AuthorisationError(
            f"deliberation {spec.deliberation} allows no consultation {name!r}; it allows {known}"
        )
    return spec.consultations[name]


def consultation_request(
    spec: Spec, consultation: Consultation, persons_file: Path | None
) -> ConsultationRequest | None:
    """The request's lines, where the consultation asks for more than the persons (None for
    the persons alone, which requested_persons reads)."""
    if consultation.request is RequestKind.PERSONS:
        return None
    if persons_file is None:
        raise AuthorisationError(
            f"the consultation {consultation.description!r} of deliberation "
            f"{spec.deliberation} needs the request's list: one INSZ and its "
            f"{consultation.request.value.replace('_', ' ')} per line"
        )
    return ConsultationRequest(
        consultation.request, read_consultation_request(persons_file, consultation.request)
    )


def consultation_tag(
    persons_tag: str, consultation: str, asked: ConsultationRequest | None, key: bytes
) -> str:
    """The request tag of a consultation: a digest of its name, its persons' tag and what it
    asks with each person, the persons and message numbers as keyed pseudonyms, so that two
    requests of a day about the same persons get folders of their own and no tag names anyone."""
    lines = pl.Series("line", [consultation, persons_tag])
    if asked is not None:
        person = pseudonym_map(asked.lines["insz"], key, PERSON).rename({"id": "insz"})
        asked_for = asked.lines.columns[1]
        value = pl.col(asked_for).cast(pl.String)
        keyed = asked.lines.join(person, on="insz", how="left")
        if asked.kind is RequestKind.MESSAGE_NUMBERS:
            numbers = pseudonym_map(asked.lines[asked_for], key, A052_MESSAGE_DOMAIN)
            keyed = keyed.join(
                numbers.rename({"id": asked_for, "pseudonym": "number"}), on=asked_for
            )
            value = pl.col("number")
        lines = pl.concat([lines, keyed.select(line=pl.col("pseudonym") + ";" + value)["line"]])
    return pseudonym_set_digest(lines)[:12]
