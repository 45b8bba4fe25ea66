"""One calendar model: every dated thing, seen by one viewer, is a `CalendarEntry`.

Areas register providers here (bookings, lectures, activity sessions, check-ins);
calendar pages, the JSON endpoint and every iCal feed read entries only through
this module, so what a viewer may see is decided once, in the provider.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from portal.models import User


@dataclass(frozen=True)
class CalendarEntry:
    uid: str  # stable and opaque: no ids, emails or tokens readable inside
    kind: str  # booking | lecture | session | checkin | ...
    title: str
    start: datetime  # aware UTC
    end: datetime  # aware UTC, half-open
    location: str = ""
    description: str = ""
    url: str | None = None  # path of the record's page on this site
    status: str = "confirmed"  # confirmed | tentative | cancelled
    sequence: int = 0
    updated: datetime | None = None
    source_id: int | None = None  # the record's id, for links inside the site only


PersonalProvider = Callable[[User, datetime, datetime], list[CalendarEntry]]
_personal_providers: dict[str, PersonalProvider] = {}


def register_personal_provider(kind: str, provider: PersonalProvider) -> None:
    """Register the function that lists `kind` entries a user takes part in."""
    _personal_providers[kind] = provider


def personal_entries(user: User, start: datetime, end: datetime) -> list[CalendarEntry]:
    entries: list[CalendarEntry] = []
    for provider in _personal_providers.values():
        entries.extend(provider(user, start, end))
    entries.sort(key=lambda e: (e.start, e.uid))
    return entries


PublicProvider = Callable[[int, datetime, datetime], list[CalendarEntry]]
_public_providers: dict[str, list[PublicProvider]] = {}

# Public scopes: "series" (activity series id), "school" (school id), "resource" (resource id).
PUBLIC_SCOPES = ("series", "school", "resource")


def register_public_provider(scope: str, provider: PublicProvider) -> None:
    """Register a function listing public entries of one scope object (anyone may see them)."""
    if scope not in PUBLIC_SCOPES:
        raise ValueError(f"unknown public calendar scope {scope!r}")
    _public_providers.setdefault(scope, []).append(provider)


def public_entries(scope: str, object_id: int, start: datetime, end: datetime) -> list[CalendarEntry]:
    entries: list[CalendarEntry] = []
    for provider in _public_providers.get(scope, []):
        entries.extend(provider(object_id, start, end))
    entries.sort(key=lambda e: (e.start, e.uid))
    return entries


# Optional, one per scope: the public object's title in the current locale, or None when
# it does not exist or is not public. The feeds area uses it to answer 404 for a scope
# object that is unknown or private (and to name the feed); a scope without one falls
# back to "exists when it has public entries".
PublicScopeDescriber = Callable[[int], "str | None"]
_public_scope_describers: dict[str, PublicScopeDescriber] = {}


def register_public_scope(scope: str, describe: PublicScopeDescriber) -> None:
    """Register how to name (and check the existence and publicity of) a public scope object."""
    if scope not in PUBLIC_SCOPES:
        raise ValueError(f"unknown public calendar scope {scope!r}")
    _public_scope_describers[scope] = describe


def has_public_scope_describer(scope: str) -> bool:
    return scope in _public_scope_describers


def public_scope_title(scope: str, object_id: int) -> str | None:
    """Title of a public scope object, or None when it is unknown, private, or the scope has no describer."""
    describe = _public_scope_describers.get(scope)
    return describe(object_id) if describe else None


SingleProvider = Callable[[User | None, int], "CalendarEntry | None"]
_single_providers: dict[str, SingleProvider] = {}


def register_single_provider(kind: str, provider: SingleProvider) -> None:
    """Register the function giving one record as an entry for a viewer (None = anonymous),
    or None when that viewer may not see it; used for single-event .ics downloads."""
    _single_providers[kind] = provider


def single_entry(kind: str, record_id: int, viewer: User | None) -> CalendarEntry | None:
    provider = _single_providers.get(kind)
    return provider(viewer, record_id) if provider else None


def single_kinds() -> tuple[str, ...]:
    """The kinds for which a single-event .ics can be asked."""
    return tuple(_single_providers)


def entry_uid(kind: str, record_id: int) -> str:
    """A UID that stays the same for a record forever and reveals nothing about it."""
    secret = current_app.config.get("CALENDAR_UID_SECRET") or "integration-portal-uid"
    digest = hmac.new(secret.encode(), f"{kind}:{record_id}".encode(), hashlib.sha256)
    return f"{digest.hexdigest()[:32]}@integration-portal"
