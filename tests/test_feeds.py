"""Calendar feeds with a test-controlled provider: tokens, the writer, HTTP behaviour."""

from __future__ import annotations

import hashlib
import logging
import threading
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.models import AuditEntry, FeedToken, Role
from portal.services import calendar, feeds, ical
from portal.timeutil import SHANGHAI
from tests.conftest import csrf_token_from, make_app
from tests.fixtures_feeds import (
    KIND,
    assert_wellformed,
    parse_with_icalendar,
    parse_with_vobject,
)

CT = "text/calendar; charset=utf-8"


def feed_url(token: str) -> str:
    return f"/feeds/personal/{token}.ics"


# Tokens -------------------------------------------------------------------------------------


def test_token_is_random_long_and_stored_only_hashed(db, create_user, create_feed_token):
    user = create_user(Role.TEACHER)
    token = create_feed_token(user)
    other = create_feed_token(create_user(Role.TEACHER))
    assert token != other
    assert len(token) == 32  # 24 random bytes = 192 bits
    row = db.session.scalar(select(FeedToken).where(FeedToken.user_id == user.id))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row.token_hash and token not in (row.token_sealed or "")
    assert feeds.owner_of_token(token).id == user.id
    assert feeds.token_status(user).token == token


@pytest.mark.parametrize(
    "bad",
    ["", "x", "a" * 31, "a" * 33, "../../etc/passwd", "%00" * 11, "ä" * 32, "A" * 32],
)
def test_unknown_and_malformed_tokens_find_nobody(bad):
    assert feeds.owner_of_token(bad) is None


def test_unknown_malformed_revoked_and_inactive_all_look_like_a_missing_feed(
    client, db, create_user, create_feed_token, fake_area
):
    user = create_user(Role.TEACHER)
    token = create_feed_token(user)
    assert client.get(feed_url(token)).status_code == 200
    never = client.get(feed_url("B" * 32))
    malformed = client.get("/feeds/personal/%E2%80%AE%00.ics")
    too_long = client.get(feed_url("C" * 5000))
    feeds.revoke_token(user, user)
    db.session.commit()
    revoked = client.get(feed_url(token))
    other = create_user(Role.STUDENT)
    other_token = create_feed_token(other)
    other.active = False
    db.session.commit()
    inactive = client.get(feed_url(other_token))
    for response in (never, malformed, too_long, revoked, inactive):
        assert response.status_code == 404
        assert response.data == never.data


def test_regenerating_from_the_profile_kills_the_old_url_at_once(app, db, create_user, login_as, fake_area):
    user = create_user(Role.MENTOR)
    served = make_app(app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True)
    browser = served.test_client()
    login_as(user, browser)
    page = browser.get("/account/")
    assert b"feeds/link" in page.data
    browser.post("/feeds/link", data={"csrf_token": csrf_token_from(page.data)})
    first = feeds.token_status(user).token
    assert first and browser.get(feed_url(first)).status_code == 200
    page = browser.get("/account/")
    assert first.encode() in page.data
    browser.post("/feeds/link", data={"csrf_token": csrf_token_from(page.data)})
    db.session.rollback()
    second = feeds.token_status(user).token
    assert second != first
    assert browser.get(feed_url(first)).status_code == 404
    assert browser.get(feed_url(second)).status_code == 200
    assert second.encode() in browser.get("/account/").data
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == user.id)).all()
    assert {"feed_token.create", "feed_token.regenerate"} <= set(actions)


def test_link_forms_refuse_a_missing_csrf_token(app, db, create_user, login_as):
    user = create_user(Role.TEACHER)
    served = make_app(app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True)
    browser = served.test_client()
    login_as(user, browser)
    assert browser.post("/feeds/link").status_code == 400
    assert feeds.token_status(user).exists is False


def test_revoking_from_the_profile_stops_the_feed(client, db, create_user, login_as, create_feed_token):
    user = create_user(Role.STUDENT)
    token = create_feed_token(user)
    login_as(user)
    assert client.post("/feeds/link/revoke").status_code == 302
    assert client.get(feed_url(token)).status_code == 404
    assert b"feeds/link" in client.get("/account/").data


def test_nobody_manages_another_persons_token(db, create_user):
    owner, stranger = create_user(Role.STUDENT), create_user(Role.TEACHER)
    from portal.errors import NotAllowed

    with pytest.raises(NotAllowed):
        feeds.issue_token(stranger, owner)
    with pytest.raises(NotAllowed):
        feeds.revoke_token(stranger, owner)


@pytest.mark.concurrency
def test_parallel_regenerations_leave_exactly_one_working_token(app, db, create_user):
    user = create_user(Role.TEACHER)
    user_id = user.id
    tokens, errors = [], []

    def regenerate():
        try:
            with app.app_context():
                from portal.extensions import db as thread_db
                from portal.models import User

                actor = thread_db.session.get(User, user_id)
                token = feeds.issue_token(actor, actor)
                thread_db.session.commit()
                tokens.append(token)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=regenerate) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    db.session.rollback()  # end the test's read snapshot
    rows = db.session.scalars(select(FeedToken).where(FeedToken.user_id == user_id)).all()
    assert len(rows) == 1
    working = [t for t in tokens if feeds.owner_of_token(t) is not None]
    assert working == [feeds.token_status(user).token]


# The writer -----------------------------------------------------------------------------------


def test_feed_reads_the_same_in_three_parsers(
    client, db, create_user, create_feed_token, fake_area, make_entry, icaljs
):
    user = create_user(Role.TEACHER)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    entries = [
        make_entry(start=now + timedelta(days=1, hours=1)),
        make_entry(start=now - timedelta(days=3), status="cancelled", sequence=3),
        make_entry(start=now + timedelta(days=30), status="tentative", title="候补：红岩革命纪念馆参观"),
        make_entry(start=now + timedelta(days=2), title='Lecture: "Hongyan", spirit; today\\now ' + "长" * 60),
    ]
    fake_area.personal[user.id] = entries
    body = client.get(feed_url(create_feed_token(user))).data
    assert_wellformed(body)
    expected = {e.uid: e for e in entries}
    for parsed in (parse_with_icalendar(body), parse_with_vobject(body)):
        assert len(parsed) == len(entries)
        for event in parsed:
            entry = expected[event["uid"]]
            assert event["tzid"] == "Asia/Shanghai"
            assert event["start"] == entry.start.astimezone(SHANGHAI)
            assert event["start"].utcoffset() == timedelta(hours=8)
            assert event["end"] == entry.end
            assert event["dtstamp"] == entry.updated
            assert event["status"] == entry.status.upper()
    js = icaljs(body)
    assert js["timezones"] == ["Asia/Shanghai"]
    assert js["refresh"] == "PT1H" and js["ttl"] == "PT1H"
    assert {e["uid"] for e in js["events"]} == set(expected)
    for event in js["events"]:
        entry = expected[event["uid"]]
        assert event["start_tzid"] == event["end_tzid"] == "Asia/Shanghai"
        assert event["start"] == entry.start.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert event["end"] == entry.end.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert event["start_local"] == entry.start.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M:%S")
        assert event["dtstamp"] == entry.updated.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert event["sequence"] == entry.sequence
        assert event["status"] == entry.status.upper()
    cancelled = next(e for e in js["events"] if e["status"] == "CANCELLED")
    assert cancelled["summary"].startswith("已取消：")
    assert any(e["summary"].startswith('Lecture: "Hongyan", spirit; today\\now') for e in js["events"])


def test_calendar_properties_and_owner_language(client, db, create_user, create_feed_token, fake_area, make_entry):
    chinese = create_user(Role.STUDENT, locale="zh_Hans_CN")
    english = create_user(Role.STUDENT, locale="en")
    for user in (chinese, english):
        fake_area.personal[user.id] = [make_entry(status="cancelled", title="Visit")]
    zh = client.get(feed_url(create_feed_token(chinese)), headers={"Accept-Language": "en"}).data.decode()
    en = client.get(feed_url(create_feed_token(english)), headers={"Accept-Language": "zh-CN"}).data.decode()
    assert "X-WR-CALNAME:我的日程" in zh and "NAME:我的日程" in zh and "X-WR-CALDESC:" in zh
    assert "X-WR-CALNAME:My calendar" in en
    assert "SUMMARY:已取消：Visit" in zh and "SUMMARY:Cancelled: Visit" in en
    for text in (zh, en):
        assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
        assert "X-PUBLISHED-TTL:PT1H\r\n" in text
        assert "BEGIN:VTIMEZONE\r\nTZID:Asia/Shanghai" in text
        assert "1:00:00" not in text
        assert "DTSTART;TZID=Asia/Shanghai:" in text and "DTEND;TZID=Asia/Shanghai:" in text


def test_uids_unique_stable_and_two_renders_byte_identical(
    app, client, db, create_user, create_feed_token, fake_area, make_entry
):
    user = create_user(Role.MENTOR)
    fake_area.personal[user.id] = [make_entry() for _ in range(30)]
    url = feed_url(create_feed_token(user))
    first = client.get(url).data
    feeds.caches().clear()
    second = client.get(url).data
    assert first == second
    uids = [line for line in first.split(b"\r\n") if line.startswith(b"UID:")]
    assert len(uids) == len(set(uids)) == 30
    for block in first.split(b"BEGIN:VEVENT")[1:]:
        assert b"\r\nUID:" in block and b"\r\nDTSTAMP:" in block
    assert calendar.entry_uid(KIND, 5) == calendar.entry_uid(KIND, 5) != calendar.entry_uid(KIND, 6)
    assert len(calendar.entry_uid(KIND, 5).split("@")[0]) == 32


def test_cached_output_is_byte_identical_to_a_fresh_render(app, make_entry):
    entries = [make_entry() for _ in range(50)] + [make_entry(status="cancelled")]
    cache = ical.EventCache()
    with app.test_request_context():
        fresh = ical.render_calendar(entries, name="n", description="d", base_url="https://p.test")
        warm = ical.render_calendar(entries, name="n", description="d", base_url="https://p.test", cache=cache)
        assert cache.misses == len(entries) and cache.hits == 0
        again = ical.render_calendar(entries, name="n", description="d", base_url="https://p.test", cache=cache)
        assert cache.hits == len(entries)
        # A changed entry is a different key: the cache never serves stale bytes.
        changed = [entries[0].__class__(**{**entries[0].__dict__, "title": "改了", "sequence": 1}), *entries[1:]]
        fresh_changed = ical.render_calendar(changed, name="n", description="d", base_url="https://p.test")
        cached_changed = ical.render_calendar(
            changed, name="n", description="d", base_url="https://p.test", cache=cache
        )
        # The concatenation equals icalendar's own composition of the same calendar.
        from icalendar import Calendar

        library = Calendar.from_ical(fresh).to_ical()
    assert fresh == warm == again
    assert fresh_changed == cached_changed != fresh
    assert "改了".encode() in cached_changed
    assert library == fresh


def test_long_lines_fold_without_splitting_characters(app, make_entry):
    title = "🎓红岩精神主题教育活动——白公馆、渣滓洞现场教学" * 6
    entry = make_entry(title=title, description="描述，" * 200, location="地点" * 50)
    with app.test_request_context():
        body = ical.render_calendar([entry], name="名称" * 40, base_url="https://p.test")
    assert_wellformed(body)
    assert any(len(line) in (73, 74, 75) for line in body.split(b"\r\n"))
    from icalendar import Calendar

    assert str(Calendar.from_ical(body).walk("VEVENT")[0]["SUMMARY"]) == title


def test_feed_stays_under_one_megabyte_keeping_what_is_nearest(app, make_entry):
    now = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
    entries = [
        make_entry(start=now + timedelta(hours=6 * i - 1000), description="很长的说明。" * 60) for i in range(2000)
    ]
    with app.test_request_context():
        body = ical.render_calendar(entries, name="n", base_url="https://p.test", now=now)
    assert len(body) < ical.MAX_FEED_BYTES
    kept = parse_with_icalendar(body)
    assert 100 < len(kept) < len(entries)
    soonest_upcoming = min((e for e in entries if e.end > now), key=lambda e: e.start)
    assert soonest_upcoming.uid in {e["uid"] for e in kept}
    farthest = max(entries, key=lambda e: e.start)
    assert farthest.uid not in {e["uid"] for e in kept}


def test_providers_are_asked_for_the_window_60_days_back_to_365_ahead(
    client, db, create_user, create_feed_token, fake_area
):
    user = create_user(Role.TEACHER)
    client.get(feed_url(create_feed_token(user)))
    _, _, start, end = fake_area.calls[-1]
    today = datetime.now(SHANGHAI).date()
    assert start == datetime.combine(today - timedelta(days=60), datetime.min.time(), tzinfo=SHANGHAI)
    assert end == datetime.combine(today + timedelta(days=366), datetime.min.time(), tzinfo=SHANGHAI)
    assert start.tzinfo is UTC and end.tzinfo is UTC


# HTTP ----------------------------------------------------------------------------------------------


def test_personal_feed_headers_and_conditional_requests(
    app, client, db, create_user, create_feed_token, fake_area, make_entry
):
    user = create_user(Role.TEACHER)
    fake_area.personal[user.id] = [make_entry()]
    url = feed_url(create_feed_token(user))
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CT
    assert response.headers["Content-Disposition"] == 'inline; filename="portal-calendar.ics"'
    assert response.headers["X-Robots-Tag"].startswith("noindex")
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert response.headers["Last-Modified"]
    assert "private" in response.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.get(url, headers={"If-Modified-Since": response.headers["Last-Modified"]}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    # A change gives a new ETag, and the old one no longer matches.
    fake_area.personal[user.id] = [make_entry(title="新的")]
    feeds.caches().clear()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert client.head(url).status_code == 200


def test_last_modified_moves_when_an_entry_disappears(
    app, client, db, create_user, create_feed_token, fake_area, make_entry
):
    user = create_user(Role.STUDENT)
    old = datetime(2026, 1, 1, tzinfo=UTC)
    fake_area.personal[user.id] = [make_entry(updated=old), make_entry(updated=old)]
    url = feed_url(create_feed_token(user))
    with app.test_request_context():
        first = feeds.personal_feed(user, now=datetime.now(UTC) - timedelta(hours=2))
        db.session.commit()
        fake_area.personal[user.id] = fake_area.personal[user.id][:1]  # e.g. a withdrawn registration
        second = feeds.personal_feed(user, now=datetime.now(UTC))
        db.session.commit()
    assert second.etag != first.etag
    assert second.last_modified > first.last_modified > old
    response = client.get(url, headers={"If-Modified-Since": first.last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT")})
    assert response.status_code == 200


def test_cached_feed_costs_one_query(client, db, create_user, create_feed_token, fake_area, make_entry, count_queries):
    user = create_user(Role.TEACHER)
    fake_area.personal[user.id] = [make_entry() for _ in range(20)]
    url = feed_url(create_feed_token(user))
    first = client.get(url)
    with count_queries() as counter:
        response = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert response.status_code == 304
    assert counter.count == 1


def test_personal_feed_holds_nothing_of_the_owner_account(
    client, db, create_user, create_feed_token, fake_area, make_entry
):
    user = create_user(Role.STUDENT, phone="13800001111", email="pupil.private@example.org")
    fake_area.personal[user.id] = [make_entry()]
    token = create_feed_token(user)
    body = client.get(feed_url(token)).data.decode()
    for secret in (token, user.email, user.phone, user.display_name, "2010-01-01", "20100101"):
        assert secret not in body
    assert f"user{user.id}" not in body


def test_public_feeds_exist_only_for_public_objects(client, db, create_school, fake_area, make_entry, icaljs):
    school = create_school()
    closed = create_school(active=False)
    empty = client.get(f"/feeds/school/{school.id}.ics")
    assert empty.status_code == 200 and empty.headers["Content-Type"] == CT
    assert school.name_zh in empty.data.decode()
    assert "public" in empty.headers["Cache-Control"]
    assert client.get(f"/feeds/school/{closed.id}.ics").status_code == 404
    assert client.get("/feeds/school/999999.ics").status_code == 404
    assert client.get("/feeds/school/99999999999999999999.ics").status_code == 404
    assert client.get("/feeds/school/abc.ics").status_code == 404
    assert client.get("/feeds/galaxy/1.ics").status_code == 404
    # Scopes without a describer (series, resource until their areas add one): exist when they have entries.
    for scope in ("series", "resource"):
        if calendar.has_public_scope_describer(scope):
            continue
        assert client.get(f"/feeds/{scope}/7.ics").status_code == 404
        fake_area.public[(scope, 7)] = [make_entry(title="已预约" if scope == "resource" else "红岩讲堂")]
        response = client.get(f"/feeds/{scope}/7.ics")
        assert response.status_code == 200
        assert response.headers["Content-Disposition"] == f'inline; filename="{scope}-7.ics"'
        assert_wellformed(response.data)
        assert len(parse_with_vobject(response.data)) == 1
        assert len(icaljs(response.data)["events"]) == 1
    fake_area.public[("school", school.id)] = [make_entry(title="思政讲座")]
    feeds.caches().clear()
    english = client.get(f"/feeds/school/{school.id}.ics?lang=en").data.decode()
    assert school.name_en in english and "public calendar" in english
    assert "思政讲座" in english


def test_single_event_file(client, db, create_user, login_as, fake_area, make_entry, icaljs):
    owner, other = create_user(Role.TEACHER), create_user(Role.TEACHER)
    entry = make_entry(title="实验室预约")
    fake_area.single[41] = entry
    fake_area.single_visible_to[41] = {owner.id}
    assert client.get(f"/feeds/event/{KIND}/41.ics").status_code == 404  # anonymous may not see it
    login_as(other)
    assert client.get(f"/feeds/event/{KIND}/41.ics").status_code == 404
    login_as(owner)
    response = client.get(f"/feeds/event/{KIND}/41.ics")
    assert response.status_code == 200 and response.headers["Content-Type"] == CT
    assert response.headers["Content-Disposition"] == f'attachment; filename="{KIND}-41.ics"'
    assert (
        client.get(f"/feeds/event/{KIND}/41.ics", headers={"If-None-Match": response.headers["ETag"]}).status_code
        == 304
    )
    parsed = icaljs(response.data)["events"]
    assert [e["uid"] for e in parsed] == [entry.uid]
    assert parse_with_vobject(response.data)[0]["start"] == entry.start
    assert client.get(f"/feeds/event/{KIND}/42.ics").status_code == 404
    assert client.get("/feeds/event/nosuchkind/41.ics").status_code == 404
    assert client.get(f"/feeds/event/{KIND}/0.ics").status_code == 404


def test_json_entries_for_calendar_views(client, db, create_user, login_as, fake_area, make_entry, create_school):
    user = create_user(Role.STUDENT)
    day = datetime(2027, 3, 10, 1, 30, tzinfo=UTC)  # 09:30 in Chongqing
    fake_area.personal[user.id] = [
        make_entry(start=day, title="A"),
        make_entry(start=day + timedelta(days=1), title="B", status="tentative"),
        make_entry(start=day + timedelta(days=40), title="C"),
    ]
    assert client.get("/feeds/entries.json").status_code == 302  # not public
    login_as(user)
    data = client.get("/feeds/entries.json?start=2027-03-10&end=2027-03-11").get_json()
    assert [e["title"] for e in data["entries"]] == ["A", "B"]
    assert data["entries"][0]["start"] == "2027-03-10T09:30:00+08:00"
    assert data["entries"][0]["uid"] == fake_area.personal[user.id][0].uid
    only = client.get("/feeds/entries.json?start=2027-03-10&end=2027-03-11&status=tentative").get_json()
    assert [e["title"] for e in only["entries"]] == ["B"]
    assert client.get("/feeds/entries.json?start=2027-03-10&end=2027-03-11&kind=lecture").get_json()["entries"] == []
    for query in ("start=2027-13-01", "start=2027-03-10&end=2027-03-01", "start=2027-01-01&end=2029-01-01", "status=x"):
        bad = client.get(f"/feeds/entries.json?{query}")
        assert bad.status_code == 422 and bad.get_json()["errors"]
    school = create_school()
    fake_area.public[("school", school.id)] = [make_entry(start=day, title="公开讲座")]
    public = client.get(f"/feeds/public/school/{school.id}/entries.json?start=2027-03-10&end=2027-03-10")
    assert [e["title"] for e in public.get_json()["entries"]] == ["公开讲座"]
    assert client.get("/feeds/public/school/999999/entries.json").status_code == 404
    assert client.get("/feeds/public/galaxy/1/entries.json").status_code == 404


def test_pages_render_with_the_subscribe_panel(
    client, db, create_user, login_as, create_feed_token, fake_area, make_entry
):
    user = create_user(Role.TEACHER)
    token = create_feed_token(user)
    fake_area.personal[user.id] = [make_entry(title="下周的实验室参观")]
    login_as(user)
    profile = client.get("/account/").data.decode()
    assert f"http://portal.test/feeds/personal/{token}.ics" in profile
    assert f"webcal://portal.test/feeds/personal/{token}.ics" in profile
    assert "https://calendar.google.com/calendar/render?cid=webcal%3A%2F%2Fportal.test" in profile
    assert 'data-copy="personal-feed-url"' in profile
    for client_name in ("Google", "Outlook", "Apple", "Thunderbird"):
        assert f"<strong>{client_name}</strong>" in profile
    assert f"/feeds/school/{user.school_id}.ics" in profile
    mine = client.get("/feeds/my").data.decode()
    assert "下周的实验室参观" in mine
    index = client.get("/feeds/").data.decode()
    assert f"/feeds/school/{user.school_id}.ics" in index


# Logs -------------------------------------------------------------------------------------------


def test_token_never_reaches_the_werkzeug_access_log(app, db, create_user, create_feed_token, fake_area, caplog):
    from werkzeug.serving import make_server

    token = create_feed_token(create_user(Role.TEACHER))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.port}{feed_url(token)}"
        with caplog.at_level(logging.INFO, logger="werkzeug"), urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
    finally:
        server.shutdown()
        thread.join(timeout=30)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/feeds/personal/[token].ics" in line for line in lines), lines
    assert not any(token in line for line in lines)


def test_gunicorn_access_atoms_are_masked():
    from types import SimpleNamespace

    from gunicorn.config import Config

    from blueprints.feeds.logmask import MaskingGunicornLogger

    logger = MaskingGunicornLogger(Config())
    token = "Z" * 32
    path = f"/feeds/personal/{token}.ics"
    request = SimpleNamespace(method="GET", path=path, query="", uri=path, version=(1, 1), headers=[])
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": path, "PATH_INFO": path, "SERVER_PROTOCOL": "HTTP/1.1"}
    atoms = logger.atoms(response, request, environ, timedelta(seconds=0.01))
    assert token not in repr(atoms)
    assert atoms["U"] == "/feeds/personal/[token].ics"


def test_the_log_filter_masks_formatted_records():
    from blueprints.feeds.logmask import MaskFeedTokens

    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%s %s", ("GET", feed_url("Q" * 32)), None)
    MaskFeedTokens().filter(record)
    assert record.getMessage() == "GET /feeds/personal/[token].ics"


def test_token_never_reaches_the_gunicorn_access_log(app, db, create_user, create_feed_token, tmp_path):
    """A real gunicorn on loopback with its default access log: the path is logged masked."""
    import os
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    token = create_feed_token(create_user(Role.TEACHER))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_file = tmp_path / "access.log"
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "test-secret",
        "RATELIMIT_ENABLED": "0",
    }
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    root = Path(__file__).resolve().parent.parent
    server = subprocess.Popen(
        [gunicorn, "--workers", "1", "--bind", f"127.0.0.1:{port}", "--access-logfile", str(log_file), "wsgi:app"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        status = None
        for _ in range(300):  # up to 30 s to start, bounded
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{feed_url(token)}", timeout=10) as response:
                    status = response.status
                    break
            except OSError:
                time.sleep(0.1)
        assert status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    logged = log_file.read_text()
    assert "/feeds/personal/[token].ics" in logged
    assert token not in logged


def test_repeated_uids_and_entries_outside_the_window_are_dropped(
    client, db, create_user, create_feed_token, fake_area, make_entry
):
    user = create_user(Role.RESOURCE_MANAGER)
    now = datetime.now(UTC).replace(microsecond=0)
    booking = make_entry(start=now + timedelta(days=2), sequence=1, title="旧标题")
    newer = booking.__class__(**{**booking.__dict__, "sequence": 2, "title": "新标题"})
    far = make_entry(start=now + timedelta(days=500))
    fake_area.personal[user.id] = [booking, newer, far]
    fake_area.personal_provider = lambda u, s, e: fake_area.personal.get(u.id, [])  # a careless provider
    calendar.register_personal_provider(KIND, fake_area.personal_provider)
    body = client.get(feed_url(create_feed_token(user))).data.decode()
    assert body.count("BEGIN:VEVENT") == 1
    assert "新标题" in body and "旧标题" not in body and far.uid not in body


@pytest.mark.concurrency
def test_parallel_first_polls_of_one_feed_all_succeed(app, db, create_user, create_feed_token, fake_area, make_entry):
    """Many clients polling a feed nobody built yet: every one gets it, one FeedState row."""
    from portal.models import FeedState

    user = create_user(Role.TEACHER)
    fake_area.personal[user.id] = [make_entry() for _ in range(5)]
    token = create_feed_token(user)
    results, errors = [], []

    def poll():
        try:
            served = app.test_client()
            response = served.get(feed_url(token))
            results.append((response.status_code, response.headers.get("ETag")))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=poll) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert [status for status, _ in results] == [200] * 10
    assert len({etag for _, etag in results}) == 1
    db.session.rollback()
    assert len(db.session.scalars(select(FeedState).where(FeedState.feed_key.like(f"personal:{user.id}:%"))).all()) == 1
