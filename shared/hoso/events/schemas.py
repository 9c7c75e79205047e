"""JSON Schemas of the event catalog: export, and the backward-compatibility check against committed ones.

A change is compatible when every message the new schema accepts is still accepted by the committed schema,
so that consumers built on the committed schema keep working: no required field dropped, no type widened or
changed, no enum value added, no constraint loosened.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hoso.events.catalog import EVENT_MODELS, EventType

SCHEMA_DIR = Path(__file__).parent / "schemas"

Schema = dict[str, Any]


def schema_file_name(event_type: EventType) -> str:
    return event_type.value.removeprefix("vn.gov.hoso.") + ".json"


def current_schemas() -> dict[str, Schema]:
    out: dict[str, Schema] = {}
    for event_type, model in EVENT_MODELS.items():
        schema = model.model_json_schema(mode="serialization")
        schema["$id"] = f"urn:hoso:event:{event_type.value}"
        out[schema_file_name(event_type)] = schema
    return out


def export_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in current_schemas().items():
        path = directory / name
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


def committed_schemas(directory: Path = SCHEMA_DIR) -> dict[str, Schema]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))}


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Why messages valid under `new` could be rejected by a consumer of `old`; empty when compatible."""
    return _compare(_Resolver(old), old, _Resolver(new), new, "$")


class _Resolver:
    def __init__(self, root: Schema) -> None:
        self.defs: dict[str, Schema] = root.get("$defs", {})

    def resolve(self, node: Schema) -> Schema:
        seen = 0
        while "$ref" in node and seen < 32:
            node = self.defs[node["$ref"].rsplit("/", 1)[-1]]
            seen += 1
        return node


def _alternatives(resolver: _Resolver, node: Schema) -> list[Schema]:
    node = resolver.resolve(node)
    for key in ("anyOf", "oneOf"):
        if key in node:
            return [alt for option in node[key] for alt in _alternatives(resolver, option)]
    return [node]


def _kind(node: Schema) -> str:
    if "const" in node:
        return f"const:{json.dumps(node['const'])}"
    kind = node.get("type", "any")
    return kind if isinstance(kind, str) else ",".join(sorted(kind))


def _compare(ro: _Resolver, old: Schema, rn: _Resolver, new: Schema, path: str) -> list[str]:
    old_alts = _alternatives(ro, old)
    problems: list[str] = []
    for alt in _alternatives(rn, new):
        matches = [o for o in old_alts if _kind(o) == _kind(alt) or _kind(o) == "any" or _enum_fits(o, alt)]
        if not matches:
            problems.append(f"{path}: type {_kind(alt)} is not accepted by the committed schema")
            continue
        best = min((_compare_same_kind(ro, o, rn, alt, path) for o in matches), key=len)
        problems.extend(best)
    return problems


def _enum_fits(old: Schema, new: Schema) -> bool:
    return "enum" in old and "const" in new and new["const"] in old["enum"]


def _compare_same_kind(ro: _Resolver, old: Schema, rn: _Resolver, new: Schema, path: str) -> list[str]:
    problems: list[str] = []
    if "enum" in old:
        added = [v for v in new.get("enum", [new.get("const")] if "const" in new else []) if v not in old["enum"]]
        if "enum" not in new and "const" not in new:
            problems.append(f"{path}: no longer restricted to {old['enum']}")
        elif added:
            problems.append(f"{path}: values {added} are not accepted by the committed schema")
    for key in ("pattern", "format"):
        if key in old and old[key] != new.get(key):
            problems.append(f"{path}: {key} changed from {old[key]!r} to {new.get(key)!r}")
    for key in ("minLength", "minimum", "exclusiveMinimum", "minItems"):
        if key in old and (key not in new or new[key] < old[key]):
            problems.append(f"{path}: {key} loosened from {old[key]} to {new.get(key)}")
    for key in ("maxLength", "maximum", "exclusiveMaximum", "maxItems"):
        if key in old and (key not in new or new[key] > old[key]):
            problems.append(f"{path}: {key} loosened from {old[key]} to {new.get(key)}")
    if old.get("type") == "object":
        problems.extend(_compare_objects(ro, old, rn, new, path))
    if old.get("type") == "array" and "items" in old:
        problems.extend(_compare(ro, old["items"], rn, new.get("items", {}), f"{path}[]"))
    return problems


def _compare_objects(ro: _Resolver, old: Schema, rn: _Resolver, new: Schema, path: str) -> list[str]:
    problems: list[str] = []
    new_required = set(new.get("required", []))
    for name in old.get("required", []):
        if name not in new_required:
            problems.append(f"{path}.{name}: required by the committed schema but no longer required")
    new_props = new.get("properties", {})
    for name, old_prop in old.get("properties", {}).items():
        if name in new_props:
            problems.extend(_compare(ro, old_prop, rn, new_props[name], f"{path}.{name}"))
    if "additionalProperties" in old and isinstance(old["additionalProperties"], dict):
        extra = new.get("additionalProperties", {})
        if isinstance(extra, dict):
            problems.extend(_compare(ro, old["additionalProperties"], rn, extra, f"{path}.*"))
    return problems
