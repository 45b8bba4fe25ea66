"""The one iCalendar (RFC 5545) writer: every feed and every single-event download calls
`render_calendar`.

What it guarantees, because each point has broken real feeds elsewhere:

- every time carries `TZID=Asia/Shanghai` and the VTIMEZONE is included (no floating times);
- `DTSTAMP` and `LAST-MODIFIED` come from the entry's `updated`, never from the clock, and
  no random UID is invented, so unchanged data renders byte-identical (ETags stay valid);
- `SEQUENCE` and `STATUS` come from the entry; a cancelled entry keeps its UID, gets
  `STATUS:CANCELLED` and a title marked in the owner's language;
- `REFRESH-INTERVAL;VALUE=DURATION:PT1H` and `X-PUBLISHED-TTL:PT1H` are written as ISO
  durations (icalendar writes a bare timedelta on an X- property as "1:00:00");
- lines end in CRLF and are folded at 75 octets without splitting a UTF-8 character
  (icalendar's folding, checked by the tests);
- the body stays under `MAX_FEED_BYTES`, keeping the entries nearest to now.

Rendering one VEVENT costs about a third of a millisecond, so rendered events are kept in
an `EventCache` keyed by the entry itself (a frozen dataclass: any change of any field is
a different key), the base URL and the locale. Cached and fresh output are the same bytes
by construction: both come from `_render_event`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from flask_babel import get_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event, Timezone
from icalendar.prop import vDuration

from portal.services.calendar import CalendarEntry
from portal.timeutil import SHANGHAI, to_local, utcnow

PRODID = "-//Integration Portal//Chongqing K-12 to University//ZH"
TZID = "Asia/Shanghai"
MAX_FEED_BYTES = 1_000_000
REFRESH = timedelta(hours=1)
STATUSES = {"confirmed": "CONFIRMED", "tentative": "TENTATIVE", "cancelled": "CANCELLED"}
_END = b"END:VCALENDAR\r\n"


class EventCache:
    """A bounded, thread-safe LRU of rendered VEVENT blocks."""

    def __init__(self, max_items: int = 50_000) -> None:
        self.max_items = max_items
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_render(self, key: tuple, render: Callable[[], bytes]) -> bytes:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found
        rendered = render()
        with self._lock:
            self.misses += 1
            self._items[key] = rendered
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return rendered

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)


@lru_cache(maxsize=1)
def _vtimezone() -> bytes:
    # Shanghai has kept +08:00 without daylight saving since 1992: one STANDARD block,
    # the same bytes on every render.
    return Timezone.from_tzid(TZID, first_date=date(1992, 1, 1), last_date=date(2100, 1, 1)).to_ical()


@lru_cache(maxsize=256)
def _header(name: str, description: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    if description:
        cal.add("description", description)
        cal.add("x-wr-caldesc", description)
    cal.add("x-wr-timezone", TZID)
    cal.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    body = cal.to_ical()
    assert body.endswith(_END)
    return body[: -len(_END)]


def marked_title(entry: CalendarEntry) -> str:
    """The title as shown in calendars: cancelled entries say so in the current language."""
    if entry.status != "cancelled":
        return entry.title
    prefix = _("Cancelled: %(title)s", title="")
    if entry.title.startswith(prefix):
        return entry.title
    return _("Cancelled: %(title)s", title=entry.title)


def absolute_url(base_url: str, path: str | None) -> str | None:
    if not path:
        return None
    if path.startswith(("http://", "https://")):
        return path
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def _render_event(entry: CalendarEntry, base_url: str) -> bytes:
    event = Event()
    event.add("uid", entry.uid)
    # Never the clock: an unchanged record must give the same bytes on every render.
    stamp = (entry.updated or entry.start).astimezone(UTC).replace(microsecond=0)
    event.add("dtstamp", stamp)
    event.add("last-modified", stamp)
    event.add("dtstart", to_local(entry.start).replace(microsecond=0))
    event.add("dtend", to_local(entry.end).replace(microsecond=0))
    event.add("summary", marked_title(entry))
    if entry.location:
        event.add("location", entry.location)
    if entry.description:
        event.add("description", entry.description)
    url = absolute_url(base_url, entry.url)
    if url:
        event.add("url", url)
    event.add("status", STATUSES.get(entry.status, "CONFIRMED"))
    event.add("sequence", int(entry.sequence or 0))
    event.add("transp", "TRANSPARENT" if entry.status == "cancelled" else "OPAQUE")
    return event.to_ical()


def render_event(entry: CalendarEntry, base_url: str, cache: EventCache | None = None) -> bytes:
    """One VEVENT block, from the cache when the same entry was rendered before in this locale."""
    if cache is None:
        return _render_event(entry, base_url)
    key = (entry, base_url, str(get_locale()))
    return cache.get_or_render(key, lambda: _render_event(entry, base_url))


def _nearest_to_now(rendered: list[tuple[CalendarEntry, bytes]], budget: int, now: datetime) -> list:
    """Keep the entries nearest to now (upcoming first, then the recent past) within `budget` bytes."""
    order = sorted(
        range(len(rendered)),
        key=lambda i: (rendered[i][0].end <= now, abs((rendered[i][0].start - now).total_seconds())),
    )
    keep: set[int] = set()
    size = 0
    for index in order:
        length = len(rendered[index][1])
        if size + length <= budget:
            keep.add(index)
            size += length
    return [item for index, item in enumerate(rendered) if index in keep]


def render_calendar(
    entries: Iterable[CalendarEntry],
    *,
    name: str,
    description: str = "",
    base_url: str,
    cache: EventCache | None = None,
    max_bytes: int = MAX_FEED_BYTES,
    now: datetime | None = None,
) -> bytes:
    """A complete VCALENDAR (bytes, UTF-8, CRLF) for `entries`, in their given order.

    Call it inside the owner's locale (`flask_babel.force_locale`): the calendar name and
    the "cancelled" mark are translated with the current locale. With `cache`, unchanged
    entries are not rendered again; the output is the same bytes either way.
    """
    header = _header(name, description)
    timezone = _vtimezone()
    rendered = [(entry, render_event(entry, base_url, cache)) for entry in entries]
    budget = max_bytes - len(header) - len(timezone) - len(_END)
    if sum(len(block) for _, block in rendered) > budget:
        rendered = _nearest_to_now(rendered, budget, now or utcnow())
    return b"".join([header, timezone, *(block for _, block in rendered), _END])


def feed_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start of the local day 60 days ago, end of the local day 365 days ahead), in UTC."""
    today = to_local(now or utcnow()).date()
    start = datetime.combine(today - timedelta(days=60), datetime.min.time(), tzinfo=SHANGHAI)
    end = datetime.combine(today + timedelta(days=366), datetime.min.time(), tzinfo=SHANGHAI)
    return start.astimezone(UTC), end.astimezone(UTC)
