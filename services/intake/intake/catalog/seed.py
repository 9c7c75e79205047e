"""The seed catalog shipped with intake (seed.yaml beside this module)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from intake.domain.catalog import ProcedureVersion, check_versions
from intake.domain.codes import AgencyCode, AgencyIdentifier, DossierCodes

SEED_FILE = Path(__file__).with_name("seed.yaml")
AGENCIES_FILE = Path(__file__).with_name("agencies.yaml")


class CatalogDataError(ValueError):
    """Catalog data that cannot be loaded; the message names the entry and the field."""


def parse_versions(entries: list[dict[str, Any]], source: str) -> list[ProcedureVersion]:
    versions = []
    for index, entry in enumerate(entries):
        label = f"{source}: procedures[{index}] ({entry.get('procedure_code')} {entry.get('version')})"
        try:
            versions.append(ProcedureVersion.model_validate(entry))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '<entry>'}: {err['msg']}" for err in exc.errors()
            )
            raise CatalogDataError(f"{label}: {problems}") from exc
    try:
        check_versions(versions)
    except ValueError as exc:
        raise CatalogDataError(f"{source}: {exc}") from exc
    return versions


def load_seed(path: Path = SEED_FILE) -> list[ProcedureVersion]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("procedures"), list):
        raise CatalogDataError(f"{path.name}: a top-level 'procedures' list is required")
    return parse_versions(data["procedures"], path.name)


class AgencyIdentifierEntry(BaseModel):
    """One agency's identifier as agencies.yaml lists it, with the text it was read from."""

    model_config = ConfigDict(extra="forbid")

    agency: AgencyCode
    identifier: AgencyIdentifier
    source: str = Field(min_length=1)


def load_identifiers(path: Path = AGENCIES_FILE) -> dict[str, str]:
    """The agencies' identifiers shipped with intake (agency -> identifier)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("identifiers"), list):
        raise CatalogDataError(f"{path.name}: a top-level 'identifiers' list is required")
    identifiers: dict[str, str] = {}
    for index, entry in enumerate(data["identifiers"]):
        try:
            parsed = AgencyIdentifierEntry.model_validate(entry)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
            raise CatalogDataError(f"{path.name}: identifiers[{index}]: {problems}") from exc
        if parsed.agency in identifiers:
            raise CatalogDataError(f"{path.name}: identifiers[{index}]: {parsed.agency} is listed twice")
        identifiers[parsed.agency] = parsed.identifier
    try:
        DossierCodes(identifiers)
    except ValueError as exc:
        raise CatalogDataError(f"{path.name}: {exc}") from exc
    return identifiers
