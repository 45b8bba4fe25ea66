"""The web layer: one package per area. Routes parse, check permission, call a service, render."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from blueprints.account import bp as account_bp
    from blueprints.activities import bp as activities_bp
    from blueprints.admin import bp as admin_bp
    from blueprints.auth import bp as auth_bp
    from blueprints.bookings import bp as bookings_bp
    from blueprints.feeds import bp as feeds_bp
    from blueprints.lectures import bp as lectures_bp
    from blueprints.main import bp as main_bp
    from blueprints.transition import bp as transition_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(account_bp, url_prefix="/account")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(lectures_bp, url_prefix="/lectures")
    app.register_blueprint(feeds_bp, url_prefix="/feeds")
    app.register_blueprint(bookings_bp, url_prefix="/bookings")
    app.register_blueprint(activities_bp, url_prefix="/activities")
    app.register_blueprint(transition_bp, url_prefix="/transition")
