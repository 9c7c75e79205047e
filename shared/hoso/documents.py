"""A stored document as services and their domains handle it: a plain mapping (no driver needed to name it)."""

from __future__ import annotations

from typing import Any

Document = dict[str, Any]
