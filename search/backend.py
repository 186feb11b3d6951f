"""The interface every search backend offers, and how Kyoso picks one."""

from __future__ import annotations

from typing import Protocol


class SearchBackend(Protocol):
    name: str

    async def is_healthy(self) -> bool:
        """True when the backend can answer queries now."""

    async def close(self) -> None: ...


def open_backend(meili_url: str | None, meili_master_key: str | None) -> SearchBackend:
    """Meilisearch when configured; otherwise the database, which needs no other service."""
    if meili_url:
        from search.meili import MeiliBackend

        return MeiliBackend(meili_url, meili_master_key)
    from search.database import DatabaseBackend

    return DatabaseBackend()
