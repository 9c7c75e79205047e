"""Look-ups by `_id`, one by one and concurrently: what FerretDB v1 answers from an index (any other filter, `$in`
included, reads the whole collection there)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from hoso.documents import Document

# Look-ups in flight at once.
_AT_ONCE = 100


async def by_ids(
    collection: AsyncCollection[Document], ids: Iterable[Any], projection: Mapping[str, int] | None = None
) -> dict[Any, Document]:
    """The documents with these `_id`s (absent ones left out)."""
    gate = asyncio.Semaphore(_AT_ONCE)

    async def one(doc_id: Any) -> Document | None:
        async with gate:
            return await collection.find_one({"_id": doc_id}, projection=projection)

    found = await asyncio.gather(*(one(i) for i in dict.fromkeys(ids)))
    return {d["_id"]: d for d in found if d is not None}
