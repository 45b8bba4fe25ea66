"""A throw-away PostgreSQL cluster on loopback for the test suite.

`TEST_DATABASE_URL` wins when set. Otherwise the Debian server binaries are used,
installed with apt-get when missing and the process runs as root; under CI=true a
PostgreSQL that cannot be had is an error, never a silent skip.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time


class PostgresUnavailable(RuntimeError):
    pass


def _bindir() -> str | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return os.path.dirname(candidates[0]) if candidates else None


def _install() -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise PostgresUnavailable("PostgreSQL is not installed and this process cannot install it (not root on Debian)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "postgresql", "postgresql-contrib"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TemporaryPostgres:
    def __init__(self) -> None:
        self.url: str | None = None
        self._dir: str | None = None
        self._bindir: str | None = None
        self._run_as: str | None = None

    def _cmd(self, *args: str) -> list[str]:
        if self._run_as:
            return ["runuser", "-u", self._run_as, "--", *args]
        return list(args)

    def start(self) -> str:
        if os.environ.get("TEST_DATABASE_URL"):
            self.url = os.environ["TEST_DATABASE_URL"]
            return self.url
        bindir = _bindir()
        if bindir is None:
            _install()
            bindir = _bindir()
        if bindir is None:
            raise PostgresUnavailable("PostgreSQL server binaries not found after installation")
        self._bindir = bindir
        self._dir = tempfile.mkdtemp(prefix="portal-pg-")
        if os.geteuid() == 0:
            # initdb refuses to run as root; the Debian package created the postgres user.
            self._run_as = "postgres"
            uid = pwd.getpwnam("postgres").pw_uid
            os.chown(self._dir, uid, -1)
        data = os.path.join(self._dir, "data")
        subprocess.run(
            self._cmd(
                f"{bindir}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        port = _free_port()
        options = (
            f"-p {port} -k {self._dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        subprocess.run(
            self._cmd(
                f"{bindir}/pg_ctl", "-D", data, "-o", options, "-l", os.path.join(self._dir, "log"), "-w", "start"
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(50):
            ready = subprocess.run(
                [f"{bindir}/pg_isready", "-h", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL
            )
            if ready.returncode == 0:
                break
            time.sleep(0.2)
        subprocess.run(
            [f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "portal_test"],
            check=True,
        )
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/portal_test"
        return self.url

    def stop(self) -> None:
        if self._dir and self._bindir:
            subprocess.run(
                self._cmd(f"{self._bindir}/pg_ctl", "-D", os.path.join(self._dir, "data"), "-m", "immediate", "stop"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
