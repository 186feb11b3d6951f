"""Rate limits for sign-in and sign-up, per account and per client address, kept in Redis.

Without Redis (a lone `kyoso serve`), limits are kept in process memory instead.
"""

from __future__ import annotations

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

LOGIN_PER_ACCOUNT = RateLimitItemPerMinute(10, 15)  # 10 tries in 15 minutes
LOGIN_PER_ADDRESS = RateLimitItemPerMinute(30, 15)
SIGNUP_PER_ADDRESS = RateLimitItemPerHour(10)


class Limiter:
    def __init__(self, redis_url: str | None) -> None:
        storage: Storage
        if redis_url:
            storage = RedisStorage(redis_url.replace("redis://", "async+redis://", 1), implementation="redispy")
        else:
            storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(storage)

    async def allow(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Count one attempt; False when the limit is already used up."""
        return await self._limiter.hit(item, *identifiers)

    async def reset(self, item: RateLimitItem, *identifiers: str) -> None:
        await self._limiter.clear(item, *identifiers)
