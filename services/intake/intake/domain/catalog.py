"""The procedure catalog as versioned data: what a dossier must contain, who decides it, in what time, at what fee.

Pure: pydantic and the standard library. Each version has effective dates; a dossier is judged by the version in
force on the day it is submitted and keeps that version. A figure that is not certain carries `uncertain: true`
and a note, never a silent guess.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from intake.domain.codes import AgencyCode

Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
FieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]

KNOWN_CONTENT_TYPES = frozenset(
    {
        "application/pdf",
        "image/jpeg",
        "image/png",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/zip",
    }
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeadlineUnit(StrEnum):
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    CALENDAR_DAYS = "calendar_days"


TimeLimit = Annotated[int, Field(gt=0, le=3650)]


class DeadlineByField(Strict):
    """A time limit that depends on the dossier: `amounts` by the value of the choice field `field`."""

    field: FieldName
    amounts: dict[str, TimeLimit] = Field(min_length=1, description="The time limit for each value of the field")
    article: str = Field(min_length=1, description="Where the law sets these limits")


class Deadline(Strict):
    amount: TimeLimit = Field(description="The time limit; with `by`, the one for a value `by` does not list")
    unit: DeadlineUnit
    by: DeadlineByField | None = None
    uncertain: bool = False
    note: str = ""

    def for_fields(self, fields: Mapping[str, object]) -> Deadline:
        """The time limit of one dossier: the amount its field's value sets, or the default."""
        if self.by is None:
            return self
        amount = self.by.amounts.get(str(fields.get(self.by.field)), self.amount)
        return self.model_copy(update={"amount": amount, "by": None})


class SupplementPolicy(StrEnum):
    PAUSE = "pause"
    RESET = "reset"


class FeeTier(Strict):
    up_to_vnd: int | None = Field(default=None, gt=0, description="Upper bound of total investment; none = top tier")
    amounts_vnd: dict[str, int] = Field(min_length=1, description="Amount by the value of the fee's column field")
    uncertain: bool = False


class FeeUndetermined(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Fee(Strict):
    kind: Literal["none", "fixed", "by_investment", "by_choice"]
    amount_vnd: int | None = Field(default=None, ge=0)
    investment_field: FieldName | None = None
    column_field: FieldName | None = None
    tiers: list[FeeTier] = Field(default_factory=list)
    amounts_vnd: dict[str, int] = Field(
        default_factory=dict,
        description="A fee by choice: the amount by the value of the column field; a choice without one has no "
        "amount in the schedule read (the agency states it when it asks for the fee)",
    )
    legal_basis: str = ""
    legal_basis_vi: str = Field(default="", description="The legal basis as a Vietnamese reader reads it")
    applies_from: date | None = Field(
        default=None,
        description="The day the schedule starts to apply, where that is within the version; before it the fee is "
        "not in the catalog (the schedule then in force is not read): the agency states it",
    )
    uncertain: bool = False
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Fee:
        if self.kind == "fixed" and self.amount_vnd is None:
            raise ValueError("a fixed fee needs amount_vnd")
        if self.kind == "by_investment":
            if not self.tiers or not self.investment_field or not self.column_field:
                raise ValueError("a fee by investment needs investment_field, column_field and tiers")
            bounds = [t.up_to_vnd for t in self.tiers]
            if bounds[-1] is not None or None in bounds[:-1]:
                raise ValueError("only the last tier is open-ended")
            closed = [b for b in bounds if b is not None]
            if closed != sorted(closed):
                raise ValueError("tiers must be in increasing order")
        if self.kind == "by_choice" and (not self.amounts_vnd or not self.column_field):
            raise ValueError("a fee by choice needs column_field and amounts_vnd")
        return self

    def amount_for(self, fields: Mapping[str, object], day: date | None = None) -> int:
        """The fee for a dossier with these fields (VND), filed on `day` (default: a day the schedule applies)."""
        if self.applies_from is not None and day is not None and day < self.applies_from:
            raise FeeUndetermined(
                "on",
                f"no fee schedule in the catalog for that day: the one it has applies from "
                f"{self.applies_from.isoformat()} ({self.legal_basis}); the agency states the fee",
            )
        if self.kind == "none":
            return 0
        if self.kind == "fixed":
            assert self.amount_vnd is not None
            return self.amount_vnd
        assert self.column_field is not None
        column = str(fields.get(self.column_field))
        if self.kind == "by_choice":
            amounts = self.amounts_vnd
        else:
            assert self.investment_field is not None
            investment = fields.get(self.investment_field)
            if not isinstance(investment, int) or isinstance(investment, bool):
                raise FeeUndetermined(self.investment_field, f"the fee depends on {self.investment_field}")
            amounts = next(t for t in self.tiers if t.up_to_vnd is None or investment <= t.up_to_vnd).amounts_vnd
        if column not in amounts:
            raise FeeUndetermined(self.column_field, f"no fee for {self.column_field}={column!r} in the schedule")
        return amounts[column]


class Component(Strict):
    code: Code
    name_vi: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    required: bool = True
    accepted_types: list[str] = Field(min_length=1)
    max_size_bytes: int = Field(gt=0, le=200 * 1024 * 1024)
    min_files: int = Field(default=1, ge=0)
    max_files: int = Field(default=5, ge=1, le=50)
    paper_copies: int | None = Field(default=None, ge=1)
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Component:
        unknown = sorted(set(self.accepted_types) - KNOWN_CONTENT_TYPES)
        if unknown:
            raise ValueError(f"unknown content types {unknown}")
        if self.min_files > self.max_files:
            raise ValueError("min_files is greater than max_files")
        return self


class ExtraField(Strict):
    name: FieldName
    label_vi: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    type: Literal["string", "integer", "boolean", "choice"]
    required: bool = False
    choices: list[str] = Field(default_factory=list)
    choice_labels_vi: dict[str, str] = Field(default_factory=dict, description="What people read for each choice")
    choice_labels_en: dict[str, str] = Field(default_factory=dict)
    max_length: int = Field(default=500, ge=1, le=10_000)

    @model_validator(mode="after")
    def _choices(self) -> ExtraField:
        if (self.type == "choice") != bool(self.choices):
            raise ValueError("choices are given exactly for fields of type choice")
        for labels in (self.choice_labels_vi, self.choice_labels_en):
            unknown = sorted(set(labels) - set(self.choices))
            if unknown:
                raise ValueError(f"labels for choices that do not exist: {unknown}")
        return self


class AgencyRule(Strict):
    """`agency` decides when the dossier's field `field` has one of `values`."""

    field: FieldName
    values: list[str] = Field(min_length=1)
    agency: AgencyCode


class Competence(Strict):
    default_agency: AgencyCode | None = None
    rules: list[AgencyRule] = Field(default_factory=list)
    note: str = ""

    @model_validator(mode="after")
    def _decidable(self) -> Competence:
        if self.default_agency is None and not self.rules:
            raise ValueError("name a default agency or rules")
        return self


class ProcedureVersion(Strict):
    procedure_code: Code
    version: Code
    national_code: str | None = None
    national_code_uncertain: bool = False
    name_vi: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    sector: str = "environment"
    effective_from: date
    effective_to: date | None = None
    legal_basis: list[str] = Field(min_length=1)
    legal_basis_vi: list[str] = Field(
        default_factory=list, description="The same texts by their Vietnamese titles, one for each of legal_basis"
    )
    online_mode: Literal["full", "partial"]
    competence: Competence
    deadline: Deadline
    completeness_check: Deadline | None = None
    supplement_policy: SupplementPolicy
    supplement_deadline: Deadline
    fee: Fee
    components: list[Component] = Field(min_length=1)
    fields: list[ExtraField] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    notes_vi: list[str] = Field(default_factory=list, description="The notes in Vietnamese, one for each of notes")

    @model_validator(mode="after")
    def _consistent(self) -> ProcedureVersion:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        for translation, english, vietnamese in (
            ("legal_basis_vi", self.legal_basis, self.legal_basis_vi),
            ("notes_vi", self.notes, self.notes_vi),
        ):
            if vietnamese and len(vietnamese) != len(english):
                raise ValueError(f"{translation} has {len(vietnamese)} entries for {len(english)}: give one for each")
        for label, names in (
            ("component", [c.code for c in self.components]),
            ("field", [f.name for f in self.fields]),
        ):
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ValueError(f"duplicate {label} codes {duplicates}")
        field_names = {f.name for f in self.fields}
        for rule in self.competence.rules:
            if rule.field not in field_names:
                raise ValueError(f"agency rule refers to unknown field {rule.field!r}")
        for name in (self.fee.investment_field, self.fee.column_field):
            if name is not None and name not in field_names:
                raise ValueError(f"fee refers to unknown field {name!r}")
        by = self.deadline.by
        if by is not None:
            self._check_choice_amounts("deadline", by.field, by.amounts)
        if self.fee.kind == "by_choice":
            assert self.fee.column_field is not None
            self._check_choice_amounts("fee", self.fee.column_field, self.fee.amounts_vnd)
        starts = self.fee.applies_from
        if starts is not None and not (self.effective_from < starts and self.in_force(starts)):
            raise ValueError("the fee's applies_from is a day after the version's first one, within the version")
        return self

    def _check_choice_amounts(self, what: str, name: str, amounts: Mapping[str, object]) -> None:
        """Amounts given by a field's value (a deadline's, a fee's) name a choice field and only its choices."""
        chosen = next((f for f in self.fields if f.name == name), None)
        if chosen is None or chosen.type != "choice":
            raise ValueError(f"the {what} depends on {name!r}, which is not a choice field of the version")
        unknown = sorted(set(amounts) - set(chosen.choices))
        if unknown:
            raise ValueError(f"{what} amounts for choices of {name!r} that do not exist: {unknown}")

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    def competent_agency(self, fields: Mapping[str, object]) -> str | None:
        for rule in self.competence.rules:
            if str(fields.get(rule.field)) in rule.values:
                return rule.agency
        return self.competence.default_agency


class UnknownProcedure(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(f"no procedure {code!r} in the catalog")
        self.code = code


class NoVersionInForce(Exception):
    def __init__(self, code: str, day: date) -> None:
        super().__init__(f"procedure {code!r} has no version in force on {day.isoformat()}")
        self.code = code
        self.day = day


class OverlappingVersions(ValueError):
    pass


def check_versions(versions: Iterable[ProcedureVersion]) -> None:
    """Versions of one procedure have distinct names and periods that do not overlap."""
    by_code: dict[str, list[ProcedureVersion]] = {}
    for v in versions:
        by_code.setdefault(v.procedure_code, []).append(v)
    for code, items in by_code.items():
        names = [v.version for v in items]
        if len(set(names)) != len(names):
            raise OverlappingVersions(f"{code}: version names repeat")
        ordered = sorted(items, key=lambda v: v.effective_from)
        for earlier, later in itertools.pairwise(ordered):
            if earlier.effective_to is None or earlier.effective_to >= later.effective_from:
                raise OverlappingVersions(
                    f"{code}: version {earlier.version} overlaps version {later.version} "
                    f"(from {later.effective_from}); end the earlier one first"
                )


def version_in_force(versions: Iterable[ProcedureVersion], code: str, day: date) -> ProcedureVersion:
    matching = [v for v in versions if v.procedure_code == code]
    if not matching:
        raise UnknownProcedure(code)
    in_force = [v for v in matching if v.in_force(day)]
    if not in_force:
        raise NoVersionInForce(code, day)
    # Where two overlap (a version added later whose start falls inside an earlier one's period, as a database
    # seeded before the split holds it), the later start wins from its day.
    return max(in_force, key=lambda v: v.effective_from)
