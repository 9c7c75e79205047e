"""Retrying an idempotent operation through transient infrastructure faults."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from hoso.faults import is_transient

T = TypeVar("T")


async def retry_transient(
    operation: Callable[[], Awaitable[T]], *, attempts: int = 5, initial_delay: float = 0.05, max_delay: float = 1.0
) -> T:
    """Run `operation` again after a transient fault (a busy or unreachable database); it must be idempotent."""
    delay = initial_delay
    for attempt in range(1, attempts + 1):
        try:
            return await operation()
        except Exception as exc:
            if attempt == attempts or not is_transient(exc):
                raise
        await asyncio.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, max_delay)
    raise AssertionError("unreachable")
