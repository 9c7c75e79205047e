"""The seed catalog shipped with intake (seed.yaml beside this module)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from intake.domain.catalog import ProcedureVersion, check_versions

SEED_FILE = Path(__file__).with_name("seed.yaml")


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
