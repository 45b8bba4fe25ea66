"""The migrations build the models' schema from empty, on SQLite and PostgreSQL, and undo it."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from portal.extensions import db as _db
from tests.conftest import make_app


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/migrations.db"
        return
    name = f"migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield database_url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_matches_models_and_downgrade_empties(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        with _db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, _db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        tables = set(inspect(_db.engine).get_table_names())
        assert {"user_account", "school", "notification", "outbox_email", "audit_entry"} <= tables
        downgrade(revision="base")
        remaining = set(inspect(_db.engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        _db.engine.dispose()
