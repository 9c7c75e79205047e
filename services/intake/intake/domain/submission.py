"""Checking a dossier's components and fields against its procedure version: every problem, in one answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from intake.domain.catalog import ProcedureVersion

FieldValue = str | int | float | bool | None


@dataclass(frozen=True)
class FileFacts:
    id: str
    owner: str
    content_type: str
    size: int
    dossier_id: str | None


@dataclass(frozen=True)
class Finding:
    field: str
    message: str


def check_components(
    version: ProcedureVersion,
    components: Mapping[str, Sequence[str]],
    files: Mapping[str, FileFacts],
    *,
    applicant_id: str,
    dossier_id: str | None = None,
    complete: bool = True,
) -> list[Finding]:
    """Findings about the files given per component code; `complete` demands every required component."""
    findings: list[Finding] = []
    catalog = {c.code: c for c in version.components}
    for code in components:
        if code not in catalog:
            findings.append(Finding(f"components.{code}", f"not a component of {version.procedure_code}"))
    for component in version.components:
        given = list(components.get(component.code, []))
        where = f"components.{component.code}"
        if not given:
            if complete and component.required and component.min_files > 0:
                findings.append(Finding(where, f"required: {component.name_en}"))
            continue
        if len(set(given)) != len(given):
            findings.append(Finding(where, "the same file is given twice"))
        if len(given) > component.max_files:
            findings.append(Finding(where, f"at most {component.max_files} file(s)"))
        if len(given) < component.min_files:
            findings.append(Finding(where, f"at least {component.min_files} file(s)"))
        for file_id in given:
            findings.extend(
                _check_file(
                    file_id,
                    files.get(file_id),
                    component.accepted_types,
                    component.max_size_bytes,
                    where,
                    applicant_id,
                    dossier_id,
                )
            )
    return findings


def _check_file(
    file_id: str,
    facts: FileFacts | None,
    accepted: Sequence[str],
    max_size: int,
    where: str,
    applicant_id: str,
    dossier_id: str | None,
) -> list[Finding]:
    here = f"{where}.{file_id}"
    if facts is None or facts.owner != applicant_id:
        return [Finding(here, "no such file of yours")]
    findings = []
    if facts.dossier_id is not None and facts.dossier_id != dossier_id:
        findings.append(Finding(here, "the file belongs to another dossier"))
    if facts.content_type not in accepted:
        findings.append(Finding(here, f"its content is {facts.content_type}; accepted: {', '.join(accepted)}"))
    if facts.size > max_size:
        findings.append(Finding(here, f"{facts.size} bytes exceeds the limit of {max_size} bytes"))
    return findings


def check_fields(
    version: ProcedureVersion, fields: Mapping[str, FieldValue], *, complete: bool = True
) -> list[Finding]:
    """Findings about the fields; `complete` demands the required ones and a competent agency."""
    findings: list[Finding] = []
    known = {f.name: f for f in version.fields}
    for name in fields:
        if name not in known:
            findings.append(Finding(f"fields.{name}", f"not a field of {version.procedure_code}"))
    for spec in version.fields:
        value = fields.get(spec.name)
        where = f"fields.{spec.name}"
        if value is None or value == "":
            if spec.required and complete:
                findings.append(Finding(where, f"required: {spec.label_en}"))
            continue
        if spec.type == "string" and (not isinstance(value, str) or len(value) > spec.max_length):
            findings.append(Finding(where, f"a text of at most {spec.max_length} characters"))
        elif spec.type == "integer" and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            findings.append(Finding(where, "a whole number, zero or more"))
        elif spec.type == "boolean" and not isinstance(value, bool):
            findings.append(Finding(where, "true or false"))
        elif spec.type == "choice" and str(value) not in spec.choices:
            findings.append(Finding(where, f"one of {', '.join(spec.choices)}"))
    if complete and not findings and version.competent_agency(fields) is None:
        rule_fields = sorted({r.field for r in version.competence.rules})
        findings.append(Finding(f"fields.{rule_fields[0]}", "no competent agency for this value"))
    return findings
