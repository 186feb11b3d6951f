"""The Meilisearch backend, through the official async client."""

from __future__ import annotations

from meilisearch_python_sdk import AsyncClient


class MeiliBackend:
    name = "meilisearch"

    def __init__(self, url: str, master_key: str | None, timeout: int = 5) -> None:
        self.client = AsyncClient(url, master_key, timeout=timeout)

    async def is_healthy(self) -> bool:
        try:
            health = await self.client.health()
        except Exception:
            return False
        return health.status == "available"

    async def close(self) -> None:
        await self.client.aclose()
