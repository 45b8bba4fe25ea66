"""Headless Debian Chromium driven by Playwright against a live server on loopback."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading

from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


class ChromiumUnavailable(RuntimeError):
    pass


def ensure_chromium() -> str:
    """Debian's Chromium, installed with apt-get when missing and running as root."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise ChromiumUnavailable("Chromium is not installed and this process cannot install it")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, stdout=subprocess.DEVNULL)
    if not os.path.exists(CHROMIUM):
        raise ChromiumUnavailable("Chromium did not install")
    return CHROMIUM


class LiveServer:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()


def log_in(page, who, password: str | None = None) -> None:
    """Log in through the real (Chinese) login form as a User or an email address, after
    clearing the page's cookies so a previous user's session cannot linger."""
    from portal.demo import DEMO_PASSWORD

    email = who if isinstance(who, str) else who.email
    page.context.clear_cookies()
    page.goto("/auth/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(password or DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
