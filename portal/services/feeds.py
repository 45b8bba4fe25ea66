"""Calendar feeds: personal feeds behind a secret token, public feeds per series, school
and resource, single-event files, and the entries behind the calendar views (JSON).

Everything reads entries only through `portal.services.calendar` and writes iCalendar only
through `portal.services.ical.render_calendar`.

Tokens: `secrets.token_urlsafe(24)` (192 bits). The database keeps the SHA-256 of the token
(looked up by that hash, then compared with `hmac.compare_digest`) and, so that the owner can
see the URL again, the token sealed with Fernet under a key derived from SECRET_KEY: a copy
of the database alone opens no feed. Regenerating replaces the hash, so the old URL stops
at once; revoking deletes it.

Caching: calendar clients poll the same URL again and again. A built feed is kept per app
process for `FEED_CACHE_SECONDS` (default 60; the token is still checked on every request),
and every rendered VEVENT is kept in an `EventCache` keyed by the entry's full content, so a
rebuild only renders what changed. `FeedState` remembers when each feed's ETag last changed,
which is its truthful Last-Modified (an entry that disappears leaves no newer timestamp).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.database import _BEGIN_OPTION, is_sqlite, lock_for_write
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.models import FeedState, FeedToken, School, User
from portal.services import audit, calendar, ical
from portal.services.calendar import CalendarEntry
from portal.timeutil import SHANGHAI, local_today, overlaps, to_local, utcnow

TOKEN_BYTES = 24  # 192 bits of randomness from `secrets`
# token_urlsafe(24) is exactly 32 characters of the URL-safe base64 alphabet.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")
MAX_JSON_RANGE_DAYS = 400
DEFAULT_JSON_RANGE_DAYS = 31

SCOPE_FALLBACK_TITLES = {
    "series": _l("Activity series"),
    "school": _l("School"),
    "resource": _l("Shared resource"),
}


# Tokens ------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _sealer() -> Fernet:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else bytes(secret)
    key = hashlib.sha256(b"integration-portal feed token seal\x00" + secret).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _may_manage_token(actor: User | None, user: User) -> bool:
    return actor is not None and (actor.id == user.id or actor.is_admin)


def issue_token(actor: User, user: User) -> str:
    """Give `user` a new personal feed token and return it; any previous token (and so any
    URL built from it) stops working at once."""
    if not _may_manage_token(actor, user):
        raise NotAllowed(_l("You may only manage your own calendar link."))
    lock_for_write(User, user.id)  # serialises two clicks on "new link" for one person
    existed = db.session.scalar(select(FeedToken.id).where(FeedToken.user_id == user.id)) is not None
    token = store_new_token(user)
    audit.record(actor, "feed_token.regenerate" if existed else "feed_token.create", "user", user.id)
    return token


def store_new_token(user: User) -> str:
    """Write a fresh token for `user` (no permission check, no lock): for `issue_token`,
    and for demo data, where the user was created in the same transaction."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = db.session.scalar(select(FeedToken).where(FeedToken.user_id == user.id))
    if row is None:
        row = FeedToken(user_id=user.id)
        db.session.add(row)
    row.token_hash = _token_hash(token)
    row.token_sealed = _sealer().encrypt(token.encode("ascii")).decode("ascii")
    db.session.flush()
    return token


def revoke_token(actor: User, user: User) -> bool:
    """Delete `user`'s feed token: subscribed calendars stop updating. True when there was one."""
    if not _may_manage_token(actor, user):
        raise NotAllowed(_l("You may only manage your own calendar link."))
    lock_for_write(User, user.id)
    result = db.session.execute(delete(FeedToken).where(FeedToken.user_id == user.id))
    if result.rowcount:
        audit.record(actor, "feed_token.revoke", "user", user.id)
    return bool(result.rowcount)


@dataclass(frozen=True)
class TokenStatus:
    exists: bool
    token: str | None  # None when there is none, or it can no longer be unsealed (SECRET_KEY changed)
    created_at: datetime | None


def token_status(user: User) -> TokenStatus:
    """What the profile page shows: the current token of `user`, readable only by the app."""
    row = db.session.scalar(select(FeedToken).where(FeedToken.user_id == user.id))
    if row is None:
        return TokenStatus(False, None, None)
    token = None
    if row.token_sealed:
        try:
            token = _sealer().decrypt(row.token_sealed.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError):
            token = None
        if token is not None and not hmac.compare_digest(_token_hash(token), row.token_hash):
            token = None
    return TokenStatus(True, token, row.updated_at)


def owner_of_token(token: str | None) -> User | None:
    """The active user whose feed `token` opens, or None (unknown, malformed, revoked, inactive)."""
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        return None
    digest = _token_hash(token)
    row = db.session.execute(
        select(FeedToken.token_hash, User)
        .join(User, User.id == FeedToken.user_id)
        .where(FeedToken.token_hash == digest)
    ).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    user = row.User
    return user if user.active else None


@dataclass(frozen=True)
class FeedOwner:
    """Just what serving a cached personal feed needs, read without loading the User."""

    user_id: int
    locale: str | None


_FEED_OWNER_QUERY = (
    select(FeedToken.token_hash, User.id, User.locale, User.active)
    .join(User, User.id == FeedToken.user_id)
    .where(FeedToken.token_hash == bindparam("digest"))
)


def feed_owner_of_token(token: str | None) -> FeedOwner | None:
    """Like `owner_of_token`, reading three columns only: the path every calendar poll takes."""
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        return None
    digest = _token_hash(token)
    # Core execution of a statement built once: this runs on every calendar poll.
    row = db.session.connection().execute(_FEED_OWNER_QUERY, {"digest": digest}).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest) or not row.active:
        return None
    return FeedOwner(row.id, row.locale)


# Feed documents ------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedDocument:
    body: bytes
    etag: str  # strong validator (unquoted): a digest of the exact bytes
    last_modified: datetime  # aware UTC, whole seconds
    filename: str  # ASCII, for Content-Disposition
    entry_count: int


class DocumentCache:
    """Built feeds by key, kept `FEED_CACHE_SECONDS` and only for the same local day
    (the window and the 14-day retention of cancelled entries move with the date)."""

    def __init__(self, max_items: int = 5_000) -> None:
        self.max_items = max_items
        self._items: OrderedDict[str, tuple[float, date, FeedDocument]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, ttl: float, today: date) -> FeedDocument | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            built, day, document = found
            if day != today or time.monotonic() - built >= ttl:
                self._items.pop(key, None)
                return None
            return document

    def put(self, key: str, today: date, document: FeedDocument) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), today, document)
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass
class FeedCaches:
    events: ical.EventCache
    documents: DocumentCache

    def clear(self) -> None:
        self.events.clear()
        self.documents.clear()


def caches() -> FeedCaches:
    """This app's caches (one per app, so two apps on one process never share feeds)."""
    app = current_app._get_current_object()
    found = app.extensions.get("portal_feeds")
    if found is None:
        found = app.extensions.setdefault("portal_feeds", FeedCaches(ical.EventCache(), DocumentCache()))
    return found


def owner_locale(user: User | None) -> str:
    """The language a feed is written in: its owner's saved preference, else the default
    (calendar servers send no Accept-Language)."""
    supported = current_app.config["SUPPORTED_LOCALES"]
    if user is not None and user.locale in supported:
        return user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def supported_locale(value: str | None) -> str:
    if value in current_app.config["SUPPORTED_LOCALES"]:
        return value
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def base_url() -> str:
    return current_app.config.get("PUBLIC_BASE_URL") or "http://localhost"


def _etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:40]


def _remember_change(feed_key: str, etag: str, now: datetime) -> datetime:
    """When this feed's content last changed: stored per feed, updated when the ETag differs.

    Feeds are served by read-only requests, so on SQLite the read transaction may be ended
    here to take the write lock; the route commits."""
    row = db.session.execute(select(FeedState.etag, FeedState.changed_at).where(FeedState.feed_key == feed_key)).first()
    if row is not None and row.etag == etag:
        return row.changed_at
    now = now.astimezone(UTC).replace(microsecond=0)
    if is_sqlite():
        # A short write transaction of its own, begun IMMEDIATE so it waits for the write
        # lock instead of failing on a stale read snapshot.
        db.session.rollback()
        db.session.connection(execution_options={_BEGIN_OPTION: "IMMEDIATE"})
        insert = sqlite_insert(FeedState)
    else:
        insert = pg_insert(FeedState)
    statement = insert.values(feed_key=feed_key, etag=etag, changed_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[FeedState.feed_key],
        set_={"etag": statement.excluded.etag, "changed_at": statement.excluded.changed_at},
        where=FeedState.etag != statement.excluded.etag,
    )
    db.session.execute(statement)
    stored = db.session.scalar(select(FeedState.changed_at).where(FeedState.feed_key == feed_key))
    return stored or now


def _document(
    feed_key: str,
    locale: str,
    filename: str,
    build: Callable[[datetime, datetime], tuple[list[CalendarEntry], str, str]],
    now: datetime | None = None,
) -> FeedDocument:
    """The feed under `feed_key`, from the cache while fresh, else built with `build`
    (entries, name, description) inside the feed's locale and rendered by the one writer."""
    config = current_app.config
    ttl = float(config.get("FEED_CACHE_SECONDS", 60))
    moment = now or utcnow()
    today = local_today(moment)
    store = caches()
    cache_key = f"{feed_key}|{base_url()}"
    if ttl > 0 and now is None:
        cached = store.documents.get(cache_key, ttl, today)
        if cached is not None:
            return cached
    start, end = ical.feed_window(moment)
    with force_locale(locale):
        entries, name, description = build(start, end)
        body = ical.render_calendar(
            entries, name=name, description=description, base_url=base_url(), cache=store.events, now=moment
        )
    etag = _etag(body)
    changed_at = _remember_change(feed_key, etag, moment)
    document = FeedDocument(body, etag, changed_at.replace(microsecond=0), filename, len(entries))
    if ttl > 0 and now is None:
        store.documents.put(cache_key, today, document)
    return document


def clean_entries(entries: list[CalendarEntry], start: datetime, end: datetime) -> list[CalendarEntry]:
    """Entries overlapping [start, end), each UID once, in order of time.

    Two providers may list one record for one person (a resource manager who booked their
    own resource); a calendar with a repeated UID shows one event at random, so the
    highest SEQUENCE (then the latest update) wins.
    """
    chosen: dict[str, CalendarEntry] = {}
    for entry in entries:
        if not overlaps(entry.start, entry.end, start, end):
            continue
        kept = chosen.get(entry.uid)
        if kept is None or (entry.sequence, entry.updated or entry.start) > (kept.sequence, kept.updated or kept.start):
            chosen[entry.uid] = entry
    return sorted(chosen.values(), key=lambda e: (e.start, e.uid))


def personal_feed(user: User | FeedOwner, now: datetime | None = None) -> FeedDocument:
    """Everything the user takes part in, from 60 days back to a year ahead, in their language.

    Given a `FeedOwner`, the User is loaded only when the feed must be built."""
    user_id = user.user_id if isinstance(user, FeedOwner) else user.id
    locale = supported_locale(user.locale)

    def build(start: datetime, end: datetime):
        person = user if isinstance(user, User) else db.session.get(User, user_id)
        entries = clean_entries(calendar.personal_entries(person, start, end), start, end)
        name = _("My calendar · Integration Portal")
        description = _(
            "Your bookings, lectures, activities and check-ins on the K-12 to University Integration Portal "
            "(Beijing time). Keep this link private."
        )
        return entries, name, description

    return _document(f"personal:{user_id}:{locale}", locale, "portal-calendar.ics", build, now)


def public_scope_title(scope: str, object_id: int) -> str | None:
    """The public object's title in the current locale; None when it does not exist or is private.

    Scopes whose area registered a describer (`calendar.register_public_scope`) answer from
    it; the others count as existing when they have public entries in the feed window.
    """
    if scope not in calendar.PUBLIC_SCOPES:
        return None
    if calendar.has_public_scope_describer(scope):
        return calendar.public_scope_title(scope, object_id)
    start, end = ical.feed_window()
    if calendar.public_entries(scope, object_id, start, end):
        return str(SCOPE_FALLBACK_TITLES[scope])
    return None


def public_feed(scope: str, object_id: int, locale: str | None = None, now: datetime | None = None) -> FeedDocument:
    """The public feed of one series, school or resource; NotFound when unknown or not public."""
    locale = supported_locale(locale)
    with force_locale(locale):
        title = public_scope_title(scope, object_id)
    if title is None:
        raise NotFound(_l("There is no public calendar here."))

    def build(start: datetime, end: datetime):
        entries = clean_entries(calendar.public_entries(scope, object_id, start, end), start, end)
        if scope == "series":
            name = _("%(title)s · activity series", title=title)
            description = _("Sessions of this activity series on the K-12 to University Integration Portal.")
        elif scope == "school":
            name = _("%(title)s · public calendar", title=title)
            description = _("Public activity sessions and confirmed lectures at this school.")
        else:
            name = _("%(title)s · booked times", title=title)
            description = _("Times when this resource is already booked.")
        return entries, name, description

    filename = f"{scope}-{int(object_id)}.ics"
    return _document(f"public:{scope}:{int(object_id)}:{locale}", locale, filename, build, now)


def single_event(kind: str, record_id: int, viewer: User | None, locale: str | None = None) -> FeedDocument:
    """One record as a one-event calendar file, as `viewer` may see it; NotFound otherwise."""
    if kind not in calendar.single_kinds():
        raise NotFound(_l("There is no such event."))
    locale = supported_locale(locale)
    with force_locale(locale):
        entry = calendar.single_entry(kind, record_id, viewer)
        if entry is None:
            raise NotFound(_l("There is no such event."))
        body = ical.render_calendar(
            [entry], name=entry.title, description="", base_url=base_url(), cache=caches().events
        )
    stamp = (entry.updated or entry.start).astimezone(UTC).replace(microsecond=0)
    return FeedDocument(body, _etag(body), stamp, f"{re.sub(r'[^a-z0-9]+', '-', kind.lower())}-{int(record_id)}.ics", 1)


def public_schools() -> list[School]:
    """Schools whose public calendars the feeds page lists."""
    return list(
        db.session.scalars(select(School).where(School.active.is_(True)).order_by(School.level, School.name_zh))
    )


# Entries for calendar views (JSON) -------------------------------------------------------


@dataclass(frozen=True)
class EntryFilter:
    start: datetime  # aware UTC
    end: datetime
    kinds: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()


def parse_filter(
    start: str | None, end: str | None, kinds: list[str] | None = None, statuses: list[str] | None = None
) -> EntryFilter:
    """Read a date range (local days, `YYYY-MM-DD`, end inclusive) and filters from a query."""
    errors = {}
    today = local_today()
    try:
        first = date.fromisoformat(start) if start else today
    except ValueError:
        errors["start"] = _l("Enter the start date as YYYY-MM-DD.")
        first = today
    try:
        last = date.fromisoformat(end) if end else first + timedelta(days=DEFAULT_JSON_RANGE_DAYS - 1)
    except ValueError:
        errors["end"] = _l("Enter the end date as YYYY-MM-DD.")
        last = first
    if not errors and not (first.year >= 1900 and last.year <= 9000):
        errors["start"] = _l("Enter dates between the years 1900 and 9000.")
    if not errors and last < first:
        errors["end"] = _l("The end date must not be before the start date.")
    if not errors and (last - first).days + 1 > MAX_JSON_RANGE_DAYS:
        errors["end"] = _l("Ask for at most %(days)d days at a time.", days=MAX_JSON_RANGE_DAYS)
    wrong_status = [s for s in (statuses or []) if s not in ical.STATUSES]
    if wrong_status:
        errors["status"] = _l("Unknown status.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), errors=errors)
    range_start = datetime.combine(first, datetime.min.time(), tzinfo=SHANGHAI).astimezone(UTC)
    range_end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI).astimezone(UTC)
    return EntryFilter(range_start, range_end, frozenset(k for k in (kinds or []) if k), frozenset(statuses or []))


def _filtered(entries: list[CalendarEntry], wanted: EntryFilter) -> list[CalendarEntry]:
    return [
        e
        for e in entries
        if (not wanted.kinds or e.kind in wanted.kinds) and (not wanted.statuses or e.status in wanted.statuses)
    ]


def my_entries(user: User, wanted: EntryFilter) -> list[CalendarEntry]:
    """The entries of `user`'s own calendar in a range, filtered (the same source as the feed)."""
    entries = calendar.personal_entries(user, wanted.start, wanted.end)
    return _filtered(clean_entries(entries, wanted.start, wanted.end), wanted)


def public_scope_entries(scope: str, object_id: int, wanted: EntryFilter) -> list[CalendarEntry]:
    if public_scope_title(scope, object_id) is None:
        raise NotFound(_l("There is no public calendar here."))
    entries = calendar.public_entries(scope, object_id, wanted.start, wanted.end)
    return _filtered(clean_entries(entries, wanted.start, wanted.end), wanted)


def entry_as_json(entry: CalendarEntry) -> dict:
    """An entry for the calendar views: local times with their +08:00 offset."""
    return {
        "uid": entry.uid,
        "kind": entry.kind,
        "title": ical.marked_title(entry),
        "start": to_local(entry.start).isoformat(),
        "end": to_local(entry.end).isoformat(),
        "location": entry.location,
        "description": entry.description,
        "url": entry.url,
        "status": entry.status,
        "sequence": entry.sequence,
        "updated": to_local(entry.updated).isoformat() if entry.updated else None,
    }


# The school scope belongs to the foundation's School model -------------------------------


def _describe_school(school_id: int) -> str | None:
    school = db.session.get(School, school_id)
    return school.display_name() if school is not None and school.active else None


calendar.register_public_scope("school", _describe_school)
