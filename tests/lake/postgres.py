"""A PostgreSQL server of its own for a DuckLake catalog: Debian's PostgreSQL (installed if
missing), initialised in a temporary directory, started on a free loopback port as an unprivileged
user, and stopped and removed at the end. Used by the lake tests and the lake benchmark."""

from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

from tests.debian import require_command

START_TIMEOUT = 30.0
_PR_SET_PDEATHSIG = 1
_names = count()


@dataclass
class PostgresServer:
    """One PostgreSQL cluster on 127.0.0.1, run as an unprivileged user when we are root."""

    bin_dir: Path
    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def create_database(self) -> str:
        name = f"lake{next(_names)}"
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return name

    def start(self) -> None:
        log = (self.root / "postgres.log").open("ab")
        self.process = subprocess.Popen(
            [
                str(self.bin_dir / "postgres"),
                *("-D", str(self.data_dir), "-p", str(self.port), "-k", str(self.root)),
                *("-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"),
                *("-c", "synchronous_commit=off", "-c", "full_page_writes=off"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            user=_UNPRIVILEGED.user,
            group=_UNPRIVILEGED.group,
            preexec_fn=_stop_with_parent,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited: {self.log()}")
            ready = subprocess.run(
                [str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"postgres did not accept connections in {START_TIMEOUT} s: {self.log()}"
        )

    def stop(self) -> None:
        """Fast shutdown: clients are disconnected, open transactions roll back."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=START_TIMEOUT)
        self.process = None

    def log(self) -> str:
        path = self.root / "postgres.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def _run(self, command: str, *args: str) -> None:
        subprocess.run(
            [str(self.bin_dir / command), *args],
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT,
            user=_UNPRIVILEGED.user,
            group=_UNPRIVILEGED.group,
        )


@dataclass(frozen=True)
class _Account:
    user: int | None = None
    group: int | None = None


def _unprivileged() -> _Account:
    """PostgreSQL refuses to run as root: then it runs as `nobody`."""
    if os.geteuid() != 0:
        return _Account()
    nobody = pwd.getpwnam("nobody")
    return _Account(nobody.pw_uid, nobody.pw_gid)


_UNPRIVILEGED = _unprivileged()


def _stop_with_parent() -> None:
    """In the server's process before it starts: a fast shutdown when the process that started
    it dies, even by a signal that skips every clean-up (Linux's PR_SET_PDEATHSIG)."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGINT)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    initdb = Path(require_command("initdb", "postgresql", search=("/usr/lib/postgresql/*/bin",)))
    root = Path(tempfile.mkdtemp(prefix="enrichment-logs-postgres-"))
    try:
        if _UNPRIVILEGED.user is not None and _UNPRIVILEGED.group is not None:
            os.chown(root, _UNPRIVILEGED.user, _UNPRIVILEGED.group)
        server = PostgresServer(initdb.resolve().parent, root, _free_port())
        server._run(
            "initdb",
            *("-D", str(server.data_dir), "-U", "postgres", "--auth=trust"),
            *("-E", "UTF8", "--no-sync", "--no-instructions"),
        )
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
