"""Benchmark: a 500-entry personal feed served by gunicorn on loopback (`make bench`).

Not a test (pytest does not collect it) and not timed in CI. It prints requests per second,
measured in the same run on the same server, for:

- `hello`: a plain-text response (the floor of the stack: gunicorn + Flask);
- `render`: the 500 entries rendered with icalendar on every request (no caches);
- `feed`: the personal feed, full body (the app's feed caches as configured);
- `feed 304`: the personal feed revalidated with If-None-Match;
- the same two for a server with the built-feed cache off (`FEED_CACHE_SECONDS=0`): every
  request runs the provider's query and rebuilds the body, reusing cached VEVENTs.

Goals from the issue: feed ≥ 10 × render, and feed 304 ≥ ½ × hello.

The entries come from a real table (`bench_event`, 500 rows) read by a registered personal
provider, like an area's provider would. Loops are bounded by a request count and a time cap;
everything stays on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, select  # noqa: E402

ENTRY_COUNT = 500
bench_metadata = MetaData()
bench_event = Table(
    "bench_event",
    bench_metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("location", String(200), nullable=False),
    Column("start_at", DateTime, nullable=False),  # naive UTC, this table is the bench's own
    Column("minutes", Integer, nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)


def _bench_entries():
    from portal.extensions import db
    from portal.services import calendar

    rows = db.session.execute(select(bench_event).order_by(bench_event.c.start_at)).all()
    return [
        calendar.CalendarEntry(
            uid=calendar.entry_uid("bench", row.id),
            kind="bench",
            title=row.title,
            start=row.start_at.replace(tzinfo=UTC),
            end=row.start_at.replace(tzinfo=UTC) + timedelta(minutes=row.minutes),
            location=row.location,
            description="请提前十分钟到达，带好学生证。",
            url=f"/bookings/{row.id}",
            sequence=row.sequence,
            updated=row.updated_at.replace(tzinfo=UTC),
            source_id=row.id,
        )
        for row in rows
    ]


def create_bench_app():
    """The portal plus a provider over `bench_event` and two comparison routes (gunicorn factory)."""
    from flask import Response, current_app

    from portal import create_app
    from portal.services import calendar, feeds, ical

    app = create_app()
    calendar.register_personal_provider("bench", lambda user, start, end: _bench_entries())

    def hello():
        return Response("hello\n", mimetype="text/plain")

    def render():
        body = ical.render_calendar(
            _bench_entries(), name="bench", description="", base_url=current_app.config["PUBLIC_BASE_URL"]
        )
        return Response(body, mimetype="text/calendar")

    app.add_url_rule("/bench/hello", "bench_hello", hello)
    app.add_url_rule("/bench/render", "bench_render", render)
    assert feeds  # the feed routes are the real ones
    return app


def _prepare(database_url: str) -> str:
    """Create the schema, 500 entries and one user with a feed token; return the token."""
    os.environ["DATABASE_URL"] = database_url
    from portal import create_app
    from portal.extensions import db
    from portal.models import Role, User
    from portal.services import feeds

    app = create_app()
    with app.app_context():
        db.create_all()
        bench_metadata.create_all(db.engine)
        user = User(email="bench@example.org", display_name="压测用户", role=Role.TEACHER)
        user.set_password("bench-password")
        db.session.add(user)
        db.session.flush()
        now = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
        db.session.execute(
            bench_event.insert(),
            [
                {
                    "title": f"重庆大学图书馆参观 第{i}场（巴蜀中学高一）",
                    "location": "重庆大学A区图书馆, 沙坪坝区沙正街174号",
                    "start_at": now + timedelta(hours=13 * i - 900),
                    "minutes": 90,
                    "sequence": i % 3,
                    "updated_at": now - timedelta(days=i % 30),
                }
                for i in range(ENTRY_COUNT)
            ],
        )
        token = feeds.store_new_token(user)
        db.session.commit()
    return token


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


def _measure(port: int, path: str, expect: int, headers=None, requests=2000, seconds=10.0, threads=4) -> float:
    """Requests per second over at most `requests` requests or `seconds`, with `threads` clients."""
    done = [0]
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker():
        while time.monotonic() < deadline:
            with lock:
                if done[0] >= requests:
                    return
                done[0] += 1
            status, _body, _ = _get(port, path, headers)
            if status != expect:
                failures.append(f"{path}: {status}")
                return

    started = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - started
    if failures:
        raise SystemExit(f"unexpected responses: {failures[:3]}")
    return done[0] / elapsed


def _serve(env: dict, port: int) -> subprocess.Popen:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [gunicorn, "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
        + ["tests.bench_feeds:create_bench_app()"],
        cwd=ROOT,
        env=env,
    )
    for _ in range(200):  # up to 20 s to start
        try:
            if _get(port, "/bench/hello")[0] == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def main() -> None:
    folder = tempfile.mkdtemp(prefix="feeds-bench-")
    database_url = f"sqlite:///{folder}/bench.db"
    token = _prepare(database_url)
    feed = f"/feeds/personal/{token}.ics"
    base_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "dev-only-not-secret"),
        "PUBLIC_BASE_URL": "https://portal.example.edu.cn",
        "RATELIMIT_ENABLED": "0",
    }
    results: dict[str, float] = {}
    for label, cache_seconds in (("", "60"), (" (built-feed cache off)", "0")):
        port = _free_port()
        server = _serve({**base_env, "FEED_CACHE_SECONDS": cache_seconds}, port)
        try:
            status, body, headers = _get(port, feed)
            assert status == 200 and body.count(b"BEGIN:VEVENT") == ENTRY_COUNT, (status, body[:200])
            etag = headers["ETag"]
            _get(port, feed)  # the other worker warms up too
            if not label:
                results["hello"] = _measure(port, "/bench/hello", 200)
                results["render per request"] = _measure(port, "/bench/render", 200, requests=40, seconds=15)
            results["feed full body" + label] = _measure(port, feed, 200, requests=600)
            results["feed 304" + label] = _measure(port, feed, 304, headers={"If-None-Match": etag})
        finally:
            _stop(server)
    size = len(body)
    print(f"\n500-entry personal feed, {size} bytes; gunicorn 2 sync workers, 4 clients, loopback")
    for name, rate in results.items():
        print(f"  {name:<42} {rate:8.1f} req/s")
    full_ratio = results["feed full body"] / results["render per request"]
    revalidate_ratio = results["feed 304"] / results["hello"]
    print(f"  feed / render per request = {full_ratio:.1f}x (goal >= 10x)")
    print(f"  feed 304 / hello = {revalidate_ratio:.2f} (goal >= 0.5)")
    rebuilt = results["feed full body (built-feed cache off)"] / results["render per request"]
    print(f"  rebuilt feed / render per request = {rebuilt:.1f}x")


if __name__ == "__main__":
    main()
