"""Nothing a user can send produces a 500: every endpoint, as every kind of user, with
garbage in the query string, the path and the form body."""

from __future__ import annotations

import pytest
from flask import url_for

GARBAGE_QUERY = {
    "page": "-1",
    "date": "2026-13-45",
    "day": "not-a-day",
    "week": "abc",
    "start": "yesterday",
    "end": "9999-99-99",
    "view": "bogus",
    "series": "abc",
    "level": "kindergarten",
    "format": "<script>",
    "district": "atlantis",
    "kind": "x",
    "status": "🙂",
    "q": "' OR 1=1 --",
    "next": "//evil.com",
    "size": "1e99",
    "class_size": "-5",
    "month": "2026-00",
    "theme": "\x00",
}
# Well-formed but extreme values: they pass parsing and must still not overflow date arithmetic.
EXTREME_QUERY = {
    "date": "9999-12-31",
    "day": "0001-01-01",
    "date_from": "0001-01-01",
    "date_to": "9999-12-31",
    "week": "9999-12-27",
    "month": "9999-12",
    "start": "9999-12-31",
    "end": "0001-01-01",
    "term": "0-autumn",
    "class_size": "²",
    "page": "99999999999999999999",
    "series": "99999999999999999999",
}
GARBAGE_FORM = {
    "email": "x",
    "password": "",
    "date": "2026-02-30",
    "start_time": "25:61",
    "end_time": "",
    "class_size": "-1",
    "seats": "abc",
    "capacity": "99999999999999999999",
    "audience_size": "0",
    "rating": "6",
    "reason": "",
    "window_id": "abc",
    "slot_id": "-3",
    "gpa": "NaN",
    "mood": "1e400",
    "phase": "bogus",
    "role": "emperor",
    "school_id": "x",
    "resource_id": "999999",
    "note": "\u0000",
    "token": "forged",
}
ROLES = ["anonymous", "admin", "teacher_bashu", "mentor_cqu", "rm_cqu_lab", "activist", "pupil_renmin"]


def _urls(app, rule):
    """One URL per rule with existing ids (1) and one with ids that do not exist."""
    urls = []
    for ident in (1, 999999):
        values = {}
        for arg in rule.arguments:
            converter = rule._converters[arg].__class__.__name__
            values[arg] = ident if converter == "IntegerConverter" else ("x" if ident == 1 else "%00..")
        with app.test_request_context():
            try:
                urls.append(url_for(rule.endpoint, **values))
            except Exception:  # noqa: BLE001  a rule that cannot be built with these values
                continue
    return urls


@pytest.mark.parametrize("who", ROLES)
def test_no_request_produces_a_server_error(app, client, demo, login_as, who):
    if who != "anonymous":
        login_as(demo.users[who])
    failures = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "bootstrap.static", "auth.logout"):
            continue
        for url in _urls(app, rule):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if method == "GET":
                    response = client.get(url, query_string=GARBAGE_QUERY)
                    if response.status_code < 500:
                        response = client.get(url, query_string=EXTREME_QUERY)
                else:
                    response = client.open(url, method=method, data=GARBAGE_FORM, query_string=GARBAGE_QUERY)
                if response.status_code >= 500:
                    failures.append((method, url, response.status_code))
    assert not failures, failures[:20]


def test_nul_characters_are_refused_before_the_database(client, create_user, login_as):
    """PostgreSQL rejects U+0000 in text; the app answers 400/404 instead of failing."""
    login_as(create_user("admin"))
    created = client.post(
        "/admin/schools/new", data={"name_zh": "巫溪\x00小学", "level": "primary", "district": "wuxi"}
    )
    assert created.status_code == 400
    assert client.get("/admin/users", query_string={"q": "a\x00b"}).status_code == 400
    assert client.get("/feeds/personal/abc%00def.ics").status_code == 404


def test_csv_export_neutralises_formulas():
    """Notes written by others must not run as spreadsheet formulas in the student's export."""
    from portal.services.transition import export_csv

    text = export_csv({"plan": {"handover_notes": '=HYPERLINK("http://x","y")', "gpa_change": -0.3}})
    assert "'=HYPERLINK" in text
    assert ",-0.3" in text  # numbers stay numbers
