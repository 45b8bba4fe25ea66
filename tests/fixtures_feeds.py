"""Feeds fixtures: a calendar provider the test controls, tokens, and the three parsers
(icalendar, vobject, Mozilla's ical.js under node) the feed tests read feeds with."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portal.services import calendar
from portal.services.calendar import CalendarEntry

JS_DIR = Path(__file__).parent / "js"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True)
def _fresh_feed_caches(app):
    """Ids are reused after each test's truncation: no built feed may outlive its test."""
    from portal.services import feeds

    with app.app_context():
        feeds.caches().clear()
    yield


@dataclass
class FakeCalendarArea:
    """Stands in for a producing area: entries per user, per public scope object, and
    single records, registered in calendar.py's registries for one test only."""

    personal: dict[int, list[CalendarEntry]] = field(default_factory=dict)
    public: dict[tuple[str, int], list[CalendarEntry]] = field(default_factory=dict)
    single: dict[int, CalendarEntry] = field(default_factory=dict)
    single_visible_to: dict[int, set[int | None]] = field(default_factory=dict)
    calls: list[tuple] = field(default_factory=list)

    def personal_provider(self, user, start, end):
        self.calls.append(("personal", user.id, start, end))
        return [e for e in self.personal.get(user.id, []) if e.start < end and start < e.end]

    def public_provider_for(self, scope):
        def provider(object_id, start, end):
            self.calls.append(("public", scope, object_id, start, end))
            return [e for e in self.public.get((scope, object_id), []) if e.start < end and start < e.end]

        return provider

    def single_provider(self, viewer, record_id):
        entry = self.single.get(record_id)
        if entry is None:
            return None
        allowed = self.single_visible_to.get(record_id)
        if allowed is not None and (viewer.id if viewer else None) not in allowed:
            return None
        return entry


KIND = "testevent"


@pytest.fixture
def fake_area(app):
    area = FakeCalendarArea()
    public = {scope: area.public_provider_for(scope) for scope in calendar.PUBLIC_SCOPES}
    calendar.register_personal_provider(KIND, area.personal_provider)
    for scope, provider in public.items():
        calendar.register_public_provider(scope, provider)
    calendar.register_single_provider(KIND, area.single_provider)
    yield area
    calendar._personal_providers.pop(KIND, None)
    for scope, provider in public.items():
        calendar._public_providers[scope].remove(provider)
    calendar._single_providers.pop(KIND, None)


_entry_seq = iter(range(1, 10**9))


@pytest.fixture
def make_entry(app):
    """`make_entry(**overrides)`: a CalendarEntry as an area would build it from a record."""

    def factory(**overrides) -> CalendarEntry:
        n = next(_entry_seq)
        start = overrides.pop("start", None) or datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(
            days=n % 40
        )
        values = {
            "uid": calendar.entry_uid(KIND, n),
            "kind": KIND,
            "title": f"重庆大学化学实验室参观（第{n}次）",
            "start": start,
            "end": start + timedelta(hours=2),
            "location": "重庆大学A区, 化学楼 301; 沙坪坝区",
            "description": "带学生证，提前十分钟到达。",
            "url": f"/bookings/{n}",
            "status": "confirmed",
            "sequence": 0,
            "updated": datetime(2026, 11, 20, 3, 4, 5, tzinfo=UTC),
            "source_id": n,
        }
        values.update(overrides)
        return CalendarEntry(**values)

    return factory


@pytest.fixture
def create_feed_token(db):
    """`create_feed_token(user) -> token` (committed)."""

    def factory(user) -> str:
        from portal.services import feeds

        token = feeds.store_new_token(user)
        db.session.commit()
        return token

    return factory


# Parsers ----------------------------------------------------------------------------------


def parse_with_icalendar(body: bytes) -> list[dict]:
    from icalendar import Calendar

    cal = Calendar.from_ical(body)
    return [
        {
            "uid": str(e["UID"]),
            "start": e.decoded("DTSTART"),
            "end": e.decoded("DTEND"),
            "status": str(e.get("STATUS")),
            "summary": str(e.get("SUMMARY")),
            "dtstamp": e.decoded("DTSTAMP"),
            "tzid": e["DTSTART"].params.get("TZID"),
        }
        for e in cal.walk("VEVENT")
    ]


def parse_with_vobject(body: bytes) -> list[dict]:
    import vobject

    cal = vobject.readOne(io.StringIO(body.decode("utf-8")))
    events = []
    for e in getattr(cal, "vevent_list", []):
        events.append(
            {
                "uid": e.uid.value,
                "start": e.dtstart.value,
                "end": e.dtend.value,
                "status": e.status.value if hasattr(e, "status") else None,
                "summary": e.summary.value,
                "dtstamp": e.dtstamp.value,
                # vobject moves TZID into X-VOBJ-ORIGINAL-TZID once it has resolved the VTIMEZONE
                "tzid": (e.dtstart.params.get("TZID") or e.dtstart.params.get("X-VOBJ-ORIGINAL-TZID") or [None])[0],
            }
        )
    return events


@pytest.fixture(scope="session")
def icaljs():
    """`icaljs(body) -> dict` parsed by Mozilla's ical.js under node.

    ical.js is installed from the npm registry into tests/js (package-lock.json pins it).
    Locally a missing node or registry skips; under CI=true it fails.
    """

    def unavailable(reason: str):
        if IN_CI:
            pytest.fail(f"ical.js is required under CI=true: {reason}")
        pytest.skip(f"ical.js unavailable: {reason}")

    node, npm = shutil.which("node"), shutil.which("npm")
    if (not node or not npm) and os.geteuid() == 0 and shutil.which("apt-get"):
        # Like Chromium (tests/browser.py): Debian's node and npm, installed when missing as root.
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", "nodejs", "npm"],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
                timeout=900,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            unavailable(f"could not install node and npm: {exc}")
        node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        unavailable("node/npm not installed")
    if not (JS_DIR / "node_modules" / "ical.js" / "package.json").exists():
        try:
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=JS_DIR,
                check=True,
                capture_output=True,
                timeout=300,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            unavailable(f"npm ci failed: {exc}")

    def parse(body: bytes) -> dict:
        with tempfile.NamedTemporaryFile("wb", suffix=".ics", delete=False) as handle:
            handle.write(body)
        try:
            done = subprocess.run(
                [node, str(JS_DIR / "parse_ics.mjs"), handle.name], capture_output=True, timeout=60, check=False
            )
        finally:
            os.unlink(handle.name)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        return json.loads(done.stdout)

    return parse


def assert_wellformed(body: bytes) -> None:
    """CRLF everywhere, no line over 75 octets, no split UTF-8 character, no U+FFFD."""
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert "\ufffd" not in body.decode("utf-8")
    for line in body.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # a folded line that split a character would not decode alone
