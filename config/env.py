"""Typed helpers that read settings from the environment.

Every setting comes from here so that a bad value fails loudly at start-up
(``ImproperlyConfigured``) instead of half-working later. Secrets may be given
as ``NAME`` or as ``NAME_FILE`` pointing at a file that holds the value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str) -> str:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_optional(name: str) -> str | None:
    value = env_str(name, "")
    return value or None


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


@dataclass(frozen=True)
class DatabaseUrl:
    engine: str
    name: str
    user: str
    password: str
    host: str
    port: str
    options: dict[str, str]


_ENGINES = {
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "pgsql": "django.db.backends.postgresql",
    "sqlite": "django.db.backends.sqlite3",
}


def parse_database_url(url: str) -> DatabaseUrl:
    """Parse ``postgres://user:pass@host:port/name`` or ``sqlite:///path``."""
    parsed = urlparse(url)
    engine = _ENGINES.get(parsed.scheme)
    if engine is None:
        raise ImproperlyConfigured(
            f"DATABASE_URL scheme {parsed.scheme!r} is not supported (use postgres:// or sqlite://)"
        )
    if engine.endswith("sqlite3"):
        path = unquote(parsed.path)
        if parsed.netloc:
            path = parsed.netloc + path
        if not path:
            raise ImproperlyConfigured(
                "DATABASE_URL for sqlite needs a path: sqlite:///var/db.sqlite3"
            )
        return DatabaseUrl(engine, path, "", "", "", "", {})
    name = unquote(parsed.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("DATABASE_URL needs a database name: postgres://host/NAME")
    options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    return DatabaseUrl(
        engine=engine,
        name=name,
        user=unquote(parsed.username or ""),
        password=unquote(parsed.password or ""),
        host=parsed.hostname or "",
        port=str(parsed.port or ""),
        options=options,
    )


def database_settings(url: str, *, pool: bool = True) -> dict[str, object]:
    """Django's DATABASES entry for a DATABASE_URL.

    PostgreSQL uses psycopg's connection pool: under ASGI every request runs its sync code
    in a fresh thread, so thread-local persistent connections (CONN_MAX_AGE) would mean
    a new connection per request; the pool shares them across threads.
    """
    db = parse_database_url(url)
    if db.engine.endswith("sqlite3"):
        return {"ENGINE": db.engine, "NAME": db.name}
    options: dict[str, object] = dict(db.options)
    if pool:
        options["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN", 2, minimum=0),
            "max_size": env_int("DATABASE_POOL_MAX", 20, minimum=1),
            "timeout": env_float("DATABASE_POOL_TIMEOUT", 30.0),
        }
    return {
        "ENGINE": db.engine,
        "NAME": db.name,
        "USER": db.user,
        "PASSWORD": db.password or (env_optional("DATABASE_PASSWORD") or ""),
        "HOST": db.host,
        "PORT": db.port,
        "OPTIONS": options,
        "CONN_MAX_AGE": 0,
        # With the pool: each connection is tested as it is handed out (one round trip), so
        # the dead ones a database restart leaves in the pool never fail a request.
        "CONN_HEALTH_CHECKS": pool,
        "TEST": {"NAME": env_optional("DATABASE_TEST_NAME")},
    }
