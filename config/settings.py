"""The one settings module. Every value is read from the environment (see config/env.py).

Embedded default: SQLite, in-memory channel layer and the database task backend, all
under ``DATA_DIR``. At scale: ``DATABASE_URL`` (PostgreSQL), ``REDIS_URL`` (channel
layer; with ``TASKS_BACKEND=rq`` also the task queue).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config.env import (
    database_settings,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_optional,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env_bool("DEBUG", False)
_secret = env_optional("SECRET_KEY")
if _secret is None:
    if not DEBUG and env_bool("REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set")
    # The embedded default keeps a generated key in DATA_DIR so sessions survive restarts
    # without shipping a key in the repository. Reading it has no side effect; the
    # key file is written by `manage.py ensure_secret_key` (run by `make demo`).
    _key_file = DATA_DIR / "secret_key"
    _secret = _key_file.read_text().strip() if _key_file.exists() else None
# Without a key the server refuses to start unless DEBUG is on (config/asgi.py); commands
# still run (ensure_secret_key writes the key file) and `check --deploy` flags the key.
SECRET_KEY_IS_FALLBACK = _secret is None
SECRET_KEY = _secret or "django-insecure-fallback-" + "x" * 40
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "annotation",
    "inference",
    "measurements",
    "dashboards",
    "reports",
    "exports",
    "pacs",
]
# Who handles each domain event (annotation/domain_events.py), and when: one table.
DOMAIN_EVENT_SUBSCRIBERS = "config.subscribers.SUBSCRIBERS"

TASKS_BACKEND = env_str("TASKS_BACKEND", "database")
REDIS_URL = env_optional("REDIS_URL")
if TASKS_BACKEND == "rq":
    if REDIS_URL is None:
        raise ImproperlyConfigured("TASKS_BACKEND=rq needs REDIS_URL")
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS: dict[str, Any] = {
        "default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default", "gpu"]}
    }
    RQ_QUEUES = {
        "default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": env_int("TASK_TIMEOUT", 3600)},
        "gpu": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": env_int("TASK_TIMEOUT", 3600)},
    }
    RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
elif TASKS_BACKEND == "database":
    TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "gpu"]}
    }
elif TASKS_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
else:
    raise ImproperlyConfigured(f"TASKS_BACKEND={TASKS_BACKEND!r}: use database, rq or immediate")

MIDDLEWARE = [
    "config.middleware.ApiErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_database_url = env_optional("DATABASE_URL")
if _database_url is None:
    DATABASES: dict[str, Any] = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "db.sqlite3"),
            # WAL lets the task worker write while the server reads; IMMEDIATE takes the
            # write lock at BEGIN so concurrent saves queue instead of failing.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
else:
    DATABASES = {"default": database_settings(_database_url, pool=env_bool("DATABASE_POOL", True))}

if REDIS_URL is None:
    CHANNEL_LAYERS: dict[str, Any] = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    }
else:
    # redis-py 8 defaults to a 5 s socket timeout, which kills idle consumers.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None}]},
        }
    }

if REDIS_URL is None:
    CACHES: dict[str, Any] = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
# Sessions are read on every request (every slice while scrolling): keep them in the cache
# in front of the database (config/sessions.py: a cache outage falls back to the database).
SESSION_ENGINE = "config.sessions"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
# Sign-in throttling (annotation/auth.py): failures counted per account and per address.
LOGIN_FAILURE_LIMIT_ACCOUNT = env_int("LOGIN_FAILURE_LIMIT_ACCOUNT", 5, minimum=1)
LOGIN_FAILURE_LIMIT_ADDRESS = env_int("LOGIN_FAILURE_LIMIT_ADDRESS", 20, minimum=1)
LOGIN_LOCKOUT_S = env_int("LOGIN_LOCKOUT_S", 900, minimum=1)
LOGIN_REDIRECT_URL = "project-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
STATICFILES_DIRS = [FRONTEND_DIST] if FRONTEND_DIST.exists() else []

MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    # A personal API token (Authorization: Bearer) first, else the session cookie.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "annotation.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "annotation.apis.openapi.ProjectAutoSchema",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.LimitedJSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
# The OpenAPI schema (/api/schema/) and its docs (/api/docs/, assets from the sidecar).
SPECTACULAR_SETTINGS = {
    "TITLE": "SpineLabel API",
    "DESCRIPTION": "Spine MRI annotation: projects, cases, reads, review, gold, measurements. "
    "Authenticate with a personal token (`Authorization: Bearer TOKEN`, from your profile "
    "page) or a session.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {},
}

# Request limits: a body above its route's limit is refused with a JSON 413 before it is
# read (config/middleware.py); saves, labelme imports and restores share SAVE_MAX_BODY_BYTES.
REQUEST_MAX_BODY_BYTES = env_int("REQUEST_MAX_BODY_BYTES", 1024**2, minimum=1)
SAVE_MAX_BODY_BYTES = env_int("SAVE_MAX_BODY_BYTES", 5 * 1024**2, minimum=1)
MEASURE_PREVIEW_MAX_BODY_BYTES = env_int("MEASURE_PREVIEW_MAX_BODY_BYTES", 5 * 1024**2, minimum=1)
API_JSON_MAX_DEPTH = env_int("API_JSON_MAX_DEPTH", 32, minimum=4)
# The live measurement preview runs in worker processes with a time budget, at most
# MEASURE_PREVIEW_RATE requests per user (DRF's "N/second|minute|hour" form).
MEASURE_PREVIEW_RATE = env_str("MEASURE_PREVIEW_RATE", "60/minute")
MEASURE_PREVIEW_MAX_POINTS = env_int("MEASURE_PREVIEW_MAX_POINTS", 50_000, minimum=1)
MEASURE_PREVIEW_TIME_BUDGET_S = env_float("MEASURE_PREVIEW_TIME_BUDGET_S", 10.0)
MEASURE_PREVIEW_PROCESSES = env_int("MEASURE_PREVIEW_PROCESSES", 2, minimum=1)

# Ingest limits: anything larger is refused with a message naming the file.
INGEST_MAX_IMAGE_PIXELS = env_int("INGEST_MAX_IMAGE_PIXELS", 2048 * 2048, minimum=1)
INGEST_MAX_SERIES_SLICES = env_int("INGEST_MAX_SERIES_SLICES", 2000, minimum=1)
INGEST_MAX_UPLOAD_BYTES = env_int("INGEST_MAX_UPLOAD_BYTES", 2 * 1024**3, minimum=1)
# A zip member may expand at most this many times (zeros deflate about 1000:1; images and
# even sparse label masks stay well below).
INGEST_MAX_ZIP_RATIO = env_float("INGEST_MAX_ZIP_RATIO", 250.0)
# PACS passwords are stored encrypted (Fernet) under this key (or PACS_ENCRYPTION_KEY_FILE);
# without one, a key derived from SECRET_KEY (changing SECRET_KEY then needs them re-entered).
PACS_ENCRYPTION_KEY = env_optional("PACS_ENCRYPTION_KEY")
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 50 * 1024**2, minimum=1)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024**2
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("DATA_UPLOAD_MAX_NUMBER_FILES", 5000, minimum=1)
FILE_UPLOAD_TEMP_DIR = None
PIXEL_ROOT = DATA_DIR / "pixels"
# Export archives live under DATA_DIR/exports; a download link works this many hours.
EXPORT_LINK_HOURS = env_int("EXPORT_LINK_HOURS", 72, minimum=1)
# How "Next case" orders the cases it may offer: "active_learning" follows each project's
# chosen strategy (inference.selectors.queue_order); "oldest_first" ignores it.
QUEUE_ORDERING = env_str("QUEUE_ORDERING", "active_learning")

# Pre-label every imported case with the active models (set false for bulk imports).
PRELABEL_ON_IMPORT = env_bool("PRELABEL_ON_IMPORT", True)
MODEL_DIR = DATA_DIR / "models"
INFERENCE_DEVICE = env_str("INFERENCE_DEVICE", "auto")
# A task left RUNNING longer than this by a dead worker is reset by the sweeper.
TASK_STALE_AFTER_S = env_float("TASK_STALE_AFTER_S", 300.0)
# Embedded default: a worker process cannot reach the server's in-memory channel layer,
# so it writes events to an outbox table that the server relays (see annotation/live.py).
LIVE_RELAY_INTERVAL_S = env_float("LIVE_RELAY_INTERVAL_S", 0.1)
LIVE_OUTBOX_ENABLED = env_bool("LIVE_OUTBOX_ENABLED", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The JPEG 2000 codec logs every tile it encodes or decodes.
        "openjpeg": {"level": "WARNING"},
        # highdicom logs every module it copies into each DICOM SEG and SR it builds.
        "highdicom": {"level": "WARNING"},
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Production behind HTTPS: HTTPS=true turns on the redirect, Secure cookies and HSTS;
# each can still be set on its own (README, Configuration).
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients).
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The Django admin is off unless asked for (it is a second way in, with its own login).
ADMIN_ENABLED = env_bool("ADMIN_ENABLED", False)
