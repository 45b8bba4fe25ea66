"""End to end over whatever calendar providers exist: load the demo, then read every demo
user's personal feed and every public feed with three parsers. As the bookings, lectures,
activities and transition areas land, their providers and demo data are covered here
without changing this file."""

from __future__ import annotations

import re
from datetime import timedelta

from flask_babel import force_locale

from portal.models import Role, User
from portal.services import calendar, feeds, ical
from portal.timeutil import SHANGHAI
from tests.fixtures_feeds import assert_wellformed, parse_with_icalendar, parse_with_vobject

# Words that would reveal what a personal feed must never hold: risk levels, notes.
SENSITIVE = re.compile(r"风险|预警|risk|心理疏导记录|备注|notes?\b|guardian|监护人", re.IGNORECASE)
PHONE = re.compile(r"\b1[3-9]\d{9}\b")
MAX_PROBED_ID = 40  # public scope ids probed per scope (the demo has far fewer objects)


def utc_iso(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def check_feed(body: bytes, expected: list[calendar.CalendarEntry], icaljs) -> dict:
    """Three parsers agree with the provider's entries: UIDs, instants at +08:00, stamps, status."""
    assert_wellformed(body)
    by_uid = {e.uid: e for e in expected}
    assert len(by_uid) == len(expected), "UIDs must be unique"
    for parsed in (parse_with_icalendar(body), parse_with_vobject(body)):
        assert {e["uid"] for e in parsed} == set(by_uid)
        for event in parsed:
            entry = by_uid[event["uid"]]
            assert event["tzid"] == "Asia/Shanghai"
            assert event["start"].utcoffset() == timedelta(hours=8)
            assert event["start"] == entry.start.replace(microsecond=0)
            assert event["end"] == entry.end.replace(microsecond=0)
            assert event["dtstamp"] is not None
            assert event["status"] == entry.status.upper()
    js = icaljs(body)
    assert js["timezones"] == ["Asia/Shanghai"]
    assert js["refresh"] == "PT1H" and js["ttl"] == "PT1H"
    assert {e["uid"] for e in js["events"]} == set(by_uid)
    for event in js["events"]:
        entry = by_uid[event["uid"]]
        assert event["start_tzid"] == "Asia/Shanghai"
        assert event["start"] == utc_iso(entry.start)
        assert event["end"] == utc_iso(entry.end)
        assert event["start_local"] == entry.start.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M:%S")
        assert event["dtstamp"]
        assert event["sequence"] == entry.sequence
    return js


def test_every_demo_personal_feed_passes_three_parsers(app, client, db, demo, icaljs):
    tokens = demo.extra["feed_tokens"]
    users = db.session.scalars(db.select(User)).all()
    emails = {u.email for u in users}
    students = {u.id: u.display_name for u in users if u.role is Role.STUDENT}
    start, end = ical.feed_window()
    roles_seen = set()
    for key, user in demo.users.items():
        url = f"/feeds/personal/{tokens[key]}.ics"
        response = client.get(url)
        assert response.status_code == 200, key
        body = response.data
        with force_locale(feeds.owner_locale(user)):
            expected = calendar.personal_entries(user, start, end)
        check_feed(body, expected, icaljs)
        text = body.decode("utf-8")
        assert tokens[key] not in text
        assert not any(email in text for email in emails), key
        assert not PHONE.search(text), key
        for line in text.split("\r\n"):
            if line.startswith(("SUMMARY", "DESCRIPTION", "LOCATION")):
                assert not SENSITIVE.search(line), (key, line)
        if user.role is Role.STUDENT:
            others = [name for uid, name in students.items() if uid != user.id]
            assert not any(name in text for name in others), key
        # Stable: the same bytes again (rebuilt, not cached), and 304 on the ETag.
        feeds.caches().clear()
        assert client.get(url).data == body
        assert client.get(url, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
        roles_seen.add(user.role)
    assert {Role.TEACHER, Role.MENTOR, Role.STUDENT, Role.RESOURCE_MANAGER} <= roles_seen


def test_every_public_feed_passes_three_parsers(app, client, db, demo, icaljs):
    start, end = ical.feed_window()
    checked = 0
    for school in demo.schools.values():
        response = client.get(f"/feeds/school/{school.id}.ics")
        assert response.status_code == 200
        with force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
            expected = calendar.public_entries("school", school.id, start, end)
        check_feed(response.data, expected, icaljs)
        checked += 1
    for scope in ("series", "resource"):
        for object_id in range(1, MAX_PROBED_ID + 1):
            response = client.get(f"/feeds/{scope}/{object_id}.ics")
            assert response.status_code in (200, 404), (scope, object_id)
            if response.status_code == 404:
                continue
            with force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
                expected = calendar.public_entries(scope, object_id, start, end)
            js = check_feed(response.data, expected, icaljs)
            if scope == "resource":  # busy blocks only: nothing but "booked"
                assert all(e["summary"] in ("已预约", "booked", "Booked") for e in js["events"]), js["events"]
            checked += 1
    assert checked >= len(demo.schools)


def test_single_event_files_of_demo_entries(app, client, db, demo, login_as, icaljs):
    start, end = ical.feed_window()
    kinds = set(calendar.single_kinds())
    for _key, user in demo.users.items():
        entries = [e for e in calendar.personal_entries(user, start, end) if e.kind in kinds and e.source_id]
        login_as(user)
        for entry in entries[:5]:
            response = client.get(f"/feeds/event/{entry.kind}/{entry.source_id}.ics")
            assert response.status_code in (200, 404)
            if response.status_code == 200:
                parsed = icaljs(response.data)["events"]
                assert [e["uid"] for e in parsed] == [entry.uid]
                assert parsed[0]["start"] == utc_iso(entry.start)
                assert parse_with_vobject(response.data)[0]["uid"] == entry.uid


def test_demo_profiles_show_the_personal_feed_and_school_feed(client, demo, login_as):
    for key in ("teacher_bashu", "mentor_cqu", "mentee1", "rm_cqu_lab", "pupil_renmin"):
        user = demo.users[key]
        login_as(user)
        page = client.get("/account/").data.decode()
        token = demo.extra["feed_tokens"][key]
        assert f"/feeds/personal/{token}.ics" in page, key
        assert f"webcal://portal.test/feeds/personal/{token}.ics" in page, key
        assert f"/feeds/school/{user.school_id}.ics" in page, key
        assert client.get(f"/feeds/personal/{token}.ics").status_code == 200
