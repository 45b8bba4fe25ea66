"""Database behaviour both engines must share: SQLite pragmas and write serialisation.

SQLite's default (deferred) transactions let two writers both read "free" and both
insert; `lock_for_write` restarts the transaction with BEGIN IMMEDIATE so the check and
the insert happen under the database's single write lock. On PostgreSQL it takes a row
lock (SELECT ... FOR UPDATE) on the parent row that the rule is about.
"""

from __future__ import annotations

import sqlite3
from typing import TypeVar

from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from portal.extensions import db

T = TypeVar("T")
_BEGIN_OPTION = "portal_sqlite_begin"


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Take transaction control from the driver so BEGIN can be chosen per transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


_WROTE = "portal_wrote"
# Set once this transaction holds SQLite's write lock (BEGIN IMMEDIATE); a further
# `lock_for_write` in it then needs no restart, so one service may take several locks
# (a mentor's time, then a resource's slot) and keep every check under them.
_IMMEDIATE = "portal_immediate"


@event.listens_for(Session, "after_flush")
def _mark_written(session, flush_context):
    session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _clear_written(session, transaction):
    if transaction.parent is None:
        session.info.pop(_WROTE, None)
        session.info.pop(_IMMEDIATE, None)


def is_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def lock_for_write(model: type[T], ident: int) -> T | None:
    """Load `model` #ident holding the lock that serialises competing writers.

    Call it first in a service that checks and then writes (seat limits, no double
    booking). Pending changes must be flushed by the caller beforehand: on SQLite the
    current (read) transaction is restarted — unless it already holds the write lock from an
    earlier `lock_for_write`, in which case the lock is simply kept (it covers the whole
    database) and pending changes are flushed.
    """
    session = db.session
    if is_sqlite():
        if session.info.get(_IMMEDIATE):
            session.flush()
            return session.get(model, ident, populate_existing=True)
        if session.new or session.dirty or session.deleted or session.info.get(_WROTE):
            raise RuntimeError("lock_for_write must come before any write in the transaction")
        session.rollback()
        session.connection(execution_options={_BEGIN_OPTION: "IMMEDIATE"})
        session.info[_IMMEDIATE] = True
        return session.get(model, ident, populate_existing=True)
    return session.execute(
        select(model).where(model.id == ident).with_for_update(of=model).execution_options(populate_existing=True)
    ).scalar_one_or_none()
