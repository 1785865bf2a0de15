"""The dossier of a release: what a committee member or a data steward reads before signing off.

Made from the release's manifest (all of it but its list of files) and its codebook, as
`dossier.md` and `dossier.html`, before the manifest is written: the manifest then lists both
with their sha256, so `rex verify` checks them as it checks the panels. The dossier names
tables, columns, counts and dates only, never a value of a panel: no pseudonym, identifier or
key can appear in it. The derivation audit and the disclosure risk are rendered where the
manifest has them, and said to be "not measured" where it has not.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.release.manifest import Manifest

NOT_MEASURED = "not measured"
MARKDOWN = "dossier.md"
HTML = "dossier.html"


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]


Block = Heading | Paragraph | Table


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _spec(manifest: Manifest) -> list[Block]:
    spec = manifest.spec or {}
    period = manifest.period or {}
    pseudonyms = manifest.pseudonyms or {}
    population = manifest.population or {}
    rows = [
        ("deliberation", manifest.deliberation),
        ("title", manifest.title),
        ("recipient", manifest.recipient),
        ("purpose", manifest.purpose),
        ("mode", manifest.mode),
        ("mode, as the spec describes it", manifest.mode_description),
        ("spec file", f"{spec.get('file')} (sha256 {spec.get('sha256')})"),
        ("period", f"{period.get('from')} to {period.get('until')}"),
        ("population, as the deliberation says it", population.get("description")),
        ("population, from the spec's expression", population.get("in_words")),
        ("as of", manifest.as_of),
        ("persons", manifest.persons),
        ("identified data", "yes" if manifest.identified else "no"),
        ("protections", ", ".join(f"{k}: {v}" for k, v in (manifest.protections or {}).items())),
        ("test run", "yes" if manifest.test_run else "no"),
        ("rex version", manifest.rex_version),
    ]
    if pseudonyms.get("shared_with"):
        said = (
            f"shared with the {pseudonyms['shared_with']} mode, as the spec says: "
            f"{pseudonyms.get('reason')}"
        )
    else:
        said = "this mode's own: no other mode's release can be linked to it by pseudonym"
    rows.append(("pseudonyms", said))
    if manifest.consultation:  # 04/037: the kind of look-up the request asked for
        rows.append(("consultation", manifest.consultation))
    return [Heading("The spec and the deliberation"), Table(("", ""), rows)]


def _variables(book: Mapping[str, Any]) -> list[Block]:
    blocks: list[Block] = [Heading("The variables and their protections")]
    for table, content in book.items():
        blocks += [Heading(table, 3), Paragraph(content.get("description", ""))]
        rows = [
            (
                entry["name"],
                entry.get("deliberation_name"),
                entry.get("protection"),
                entry.get("type"),
                entry.get("meaning"),
            )
            for entry in content.get("columns", [])
        ]
        blocks.append(
            Table(("column", "deliberation's name", "protection", "type", "meaning"), rows)
        )
    return blocks


def _derivations(manifest: Manifest) -> list[Block]:
    blocks: list[Block] = [Heading("Derivation audit")]
    audit = manifest.derivation_audit
    if audit is None:
        return [*blocks, Paragraph(f"The derivation audit: {NOT_MEASURED}.")]
    blocks.append(
        Paragraph(
            "How much of each protected value the other released columns give back: the rows "
            "whose protected value can be recomputed, and by which columns. An accepted case "
            "cites the deliberation's point that authorises it."
        )
    )
    rows = [
        (
            entry.get("panel"),
            entry.get("variable"),
            entry.get("protection"),
            entry.get("recomputed_by"),
            entry.get("how", ""),
            entry.get("rows"),
            entry.get("recomputable_rows"),
            entry.get("share"),
            _acceptance(entry),
        )
        for entry in audit
    ]
    header: tuple[str, ...] = ("panel", "variable", "protection", "recomputed by", "how", "rows")
    header += ("recomputable rows", "share", "accepted")
    return [*blocks, Table(header, rows)]


def _risk(manifest: Manifest) -> list[Block]:
    blocks: list[Block] = [Heading("Disclosure risk")]
    risk = manifest.disclosure_risk
    if risk is None:
        return [*blocks, Paragraph(f"The disclosure risk: {NOT_MEASURED}.")]
    rows = [
        (name, risk.get(name))
        for name in (
            "quasi_identifiers",
            "sample_persons",
            "population_persons",
            "unique_in_population",
            "unique_share",
            "max_unique_share",
            "k_min",
        )
    ]
    blocks.append(Table(("measure", "value"), rows))
    for part, title in (
        ("k_bands", "Sizes of the equivalence classes (k)"),
        ("l_diversity", "l-diversity of the sensitive columns"),
        ("trajectories", "Trajectories"),
    ):
        values = risk.get(part)
        if isinstance(values, Mapping) and values:
            blocks += [Heading(title, 3), Table(("", "value"), list(values.items()))]
    return blocks


def _validation(manifest: Manifest) -> list[Block]:
    rows = []
    for table, outcomes in manifest.validation.items():
        failed = [o for o in outcomes if not o.get("success")]
        rows.append((table, len(outcomes), len(outcomes) - len(failed), len(failed)))
    said = (
        "Every expectation of every table passed (nothing is published otherwise)."
        if rows and all(r[3] == 0 for r in rows)
        else "Not every expectation passed."
    )
    return [
        Heading("Validation"),
        Paragraph(said),
        Table(("table", "expectations", "passed", "failed"), rows),
    ]


def _deadlines(manifest: Manifest) -> list[Block]:
    delete_by, ours = manifest.delete_by, manifest.our_copy_delete_by
    rows = [
        (
            manifest.recipient if manifest.mode != "onprem" else "the on-premise workspace (KSZ)",
            f"destroys this release by {delete_by}" if delete_by else manifest.kept,
        ),
        ("rex (our copy)", f"deletes its copy by {ours}" if ours else manifest.kept),
    ]
    return [Heading("Deadlines: who destroys what by when"), Table(("who", "what"), rows)]


def blocks(manifest: Manifest, book: Mapping[str, Any]) -> list[Block]:
    """The dossier's sections, in order."""
    title = f"Dossier: deliberation {manifest.deliberation}, {manifest.mode}"
    return [
        Heading(title, 1),
        *_spec(manifest),
        *_variables(book),
        *_derivations(manifest),
        *_risk(manifest),
        *_validation(manifest),
        *_deadlines(manifest),
    ]


def _cell(value: Any) -> str:
    return _text(value).replace("|", "\\|").replace("\n", " ")


def markdown(parts: Sequence[Block]) -> str:
    """The dossier as Markdown."""
    lines: list[str] = []
    for part in parts:
        if isinstance(part, Heading):
            lines += ["#" * part.level + " " + part.text, ""]
        elif isinstance(part, Paragraph):
            lines += [part.text, ""]
        else:
            lines.append("| " + " | ".join(_cell(h) for h in part.header) + " |")
            lines.append("|" + "---|" * len(part.header))
            lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in part.rows]
            lines.append("")
    return "\n".join(lines)


def html_page(parts: Sequence[Block]) -> str:
    """The dossier as one HTML page (every text escaped)."""
    title = next((p.text for p in parts if isinstance(p, Heading)), "Dossier")
    body: list[str] = []
    for part in parts:
        if isinstance(part, Heading):
            body.append(f"<h{part.level}>{html.escape(part.text)}</h{part.level}>")
        elif isinstance(part, Paragraph):
            body.append(f"<p>{html.escape(part.text)}</p>")
        else:
            head = "".join(f"<th>{html.escape(_text(h))}</th>" for h in part.header)
            rows = "".join(
                "<tr>" + "".join(f"<td>{html.escape(_text(v))}</td>" for v in row) + "</tr>"
                for row in part.rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px;"
        "text-align:left;vertical-align:top}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def write_dossier(folder: Path, manifest: Manifest, book: Mapping[str, Any]) -> list[str]:
    """Write dossier.md and dossier.html into `folder`; their names."""
    parts = blocks(manifest, book)
    (folder / MARKDOWN).write_text(markdown(parts))
    (folder / HTML).write_text(html_page(parts))
    return [MARKDOWN, HTML]


def _acceptance(entry: dict[str, Any]) -> str:
    """What the spec says of a finding: the point that accepts it, or that nothing is given back
    (a finding neither accepted nor empty refuses the release, so no dossier shows one)."""
    if entry.get("accepted"):
        return "accepted: " + entry["accepted"]["point"]
    return "nothing given back" if not entry.get("recomputable_rows") else "not accepted"
