"""Settings read from the environment, so one code base serves development, tests and production."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Defaults for development; every value can be overridden by an environment variable."""

    ENV_NAME = os.environ.get("PORTAL_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "translations")
    SUPPORTED_LOCALES = ("zh_Hans_CN", "en")
    DISPLAY_TIMEZONE = "Asia/Shanghai"

    # WTForms' own catalogues translate its built-in messages; ours translate the rest.
    WTF_I18N_ENABLED = False
    WTF_CSRF_TIME_LIMIT = None

    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None

    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_RATE_LIMIT_PER_ADDRESS", "20 per minute")
    LOGIN_RATE_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_RATE_LIMIT_PER_ACCOUNT", "5 per minute")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "portal@example.edu.cn")

    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    SEED_DEMO = _bool("SEED_DEMO", False)
    # Minutes a person needs between commitments at two different places (Chongqing is large).
    TRAVEL_BUFFER_MINUTES = int(os.environ.get("TRAVEL_BUFFER_MINUTES", "60"))
    # Seconds a built calendar feed is reused by one process before it is rebuilt (0: always rebuild).
    FEED_CACHE_SECONDS = int(os.environ.get("FEED_CACHE_SECONDS", "60"))


def build_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Resolve the settings that depend on each other (database path, secret key)."""
    settings = {k: getattr(Config, k) for k in dir(Config) if k.isupper()}
    if overrides:
        settings.update(overrides)
    if not settings["SQLALCHEMY_DATABASE_URI"]:
        settings["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(instance_path, "portal.db")
    url = settings["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    settings["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        engine_options = dict(settings.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        engine_options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    if not settings["SECRET_KEY"]:
        if settings["ENV_NAME"] == "production":
            raise RuntimeError("SECRET_KEY must be set outside development (see README, Production).")
        settings["SECRET_KEY"] = "dev-only-not-secret"
    return settings
