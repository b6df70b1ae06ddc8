"""Sessions in the database with the cache in front, where a cache outage only costs speed.

Django's cached_db store writes the cache back after reading a session from the database
without catching errors, so with Redis down every signed-in request answered 500.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.sessions.backends import cached_db
from django.core.cache import caches

logger = logging.getLogger(__name__)


class _CacheOrNothing:
    """The session cache, where a failing call counts as a miss (reads) or a no-op (writes)."""

    def __init__(self, cache: Any) -> None:
        self._cache = cache

    def _failed(self, operation: str) -> None:
        logger.warning("session cache %s failed; using the database", operation, exc_info=True)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self._cache.get(key, default)
        except Exception:
            self._failed("get")
            return default

    def set(self, key: str, value: Any, timeout: Any = None) -> None:
        try:
            self._cache.set(key, value, timeout)
        except Exception:
            self._failed("set")

    def delete(self, key: str) -> None:
        try:
            self._cache.delete(key)
        except Exception:
            self._failed("delete")

    def __contains__(self, key: str) -> bool:
        try:
            return key in self._cache
        except Exception:
            self._failed("lookup")
            return False

    async def aget(self, key: str, default: Any = None) -> Any:
        try:
            return await self._cache.aget(key, default)
        except Exception:
            self._failed("get")
            return default

    async def aset(self, key: str, value: Any, timeout: Any = None) -> None:
        try:
            await self._cache.aset(key, value, timeout)
        except Exception:
            self._failed("set")

    async def adelete(self, key: str) -> None:
        try:
            await self._cache.adelete(key)
        except Exception:
            self._failed("delete")


class SessionStore(cached_db.SessionStore):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        from django.conf import settings

        self._cache = _CacheOrNothing(caches[settings.SESSION_CACHE_ALIAS])
