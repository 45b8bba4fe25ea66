"""Command-line tasks: `flask create-admin`, `flask import-schools FILE`, `flask seed-demo` …"""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from portal.errors import DomainError
from portal.extensions import db
from portal.models import Role, User


def register_cli(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.option("--email", prompt=True)
    @click.option("--name", "display_name", prompt=True)
    @click.password_option()
    def create_admin(email: str, display_name: str, password: str) -> None:
        """Create an administrator account."""
        from portal.services import accounts

        try:
            user = accounts.create_user(
                None, accounts.UserData(email=email, display_name=display_name, role=Role.ADMIN), password
            )
        except DomainError as error:
            db.session.rollback()
            for field, message in (error.errors or {"": error.message}).items():
                click.echo(f"{field}: {message}" if field else str(message), err=True)
            raise SystemExit(1) from None
        db.session.commit()
        click.echo(f"Administrator {user.email} created.")

    def _import(kind: str, path: str) -> None:
        from portal.services import imports

        rows = imports.read_csv(path)
        importer = imports.import_schools if kind == "schools" else imports.import_users
        with click.progressbar(length=len(rows), label=f"Importing {kind}") as bar:
            report = importer(rows, progress=bar.update)
        db.session.commit()
        click.echo(f"created {report.created}, already present {report.skipped}, rejected {len(report.rejected)}")
        for line, reason in report.rejected:
            click.echo(f"  line {line}: {reason}", err=True)
        if report.rejected:
            raise SystemExit(2)

    @app.cli.command("import-schools")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_schools(path: str) -> None:
        """Import schools from CSV: name_zh,name_en,level,district,under_resourced,address."""
        _import("schools", path)

    @app.cli.command("import-users")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_users(path: str) -> None:
        """Import users from CSV: email,display_name,role,school,password,locale,birth_date,grade,phone."""
        _import("users", path)

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when any user exists.")
    def seed_demo(if_empty: bool) -> None:
        """Load the demo data (Chongqing schools, users of every role, every capability)."""
        from portal.demo import DEMO_PASSWORD
        from portal.demo import seed_demo as run_seed

        if if_empty and db.session.scalar(select(func.count(User.id))):
            click.echo("Demo data not loaded: the database already has users.")
            return
        run_seed()
        db.session.commit()
        click.echo(f"Demo data loaded. Every demo account's password is {DEMO_PASSWORD}.")

    @app.cli.command("send-outbox")
    def send_outbox() -> None:
        """Send queued emails (SMTP when MAIL_SERVER is set, otherwise logged)."""
        from portal.services.notifications import deliver_outbox

        sent, failed = deliver_outbox()
        db.session.commit()
        click.echo(f"sent {sent}, failed {failed}")
