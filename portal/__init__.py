"""The Integration Portal (大中小学一体化育人门户)."""

from __future__ import annotations

import os

from flask import Flask

from portal.config import PROJECT_ROOT, build_config


def create_app(config: dict | None = None) -> Flask:
    """Build the application: settings, extensions, blueprints, error pages. Setup only."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(build_config(app.instance_path, config))

    from portal import (
        database,  # noqa: F401  (installs SQLite pragmas and BEGIN handling)
        models,  # noqa: F401
    )
    from portal.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate
    from portal.i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    csrf.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from blueprints import register_blueprints
    from blueprints.web import init_web

    init_web(app)
    register_blueprints(app)

    from portal.services.registry import load_area_services

    load_area_services()

    from portal.cli import register_cli

    register_cli(app)
    return app
