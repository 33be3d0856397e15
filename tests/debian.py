"""Servers and tools from Debian's packages, installed on first use by the test set-up.

Tests never assume a server is running or installed: a fresh CI machine has neither. One lock
file keeps parallel test processes from running apt at the same time.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

_APT_LOCK = Path("/tmp/enrichment-logs-tests-apt.lock")


def require_command(command: str, package: str, *, search: tuple[str, ...] = ()) -> str:
    """The path of `command`, installing Debian's `package` when it is missing.

    `search` lists directories outside PATH where the package puts the command (PostgreSQL's
    `initdb`, say). Skips the test when the package cannot be installed (not root, no apt).
    """
    found = _find(command, search)
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        pytest.skip(f"{command} is missing and apt-get cannot install {package} here")
    with _APT_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = _find(command, search)
        if found is None:
            environment = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
            install = [apt, "install", "-y", "--no-install-recommends", package]
            done = subprocess.run(install, env=environment, capture_output=True, check=False)
            if done.returncode != 0:
                subprocess.run([apt, "update"], env=environment, capture_output=True, check=False)
                subprocess.run(install, env=environment, capture_output=True, check=True)
            found = _find(command, search)
    if found is None:
        pytest.fail(f"installed {package} but found no {command}")
    return found


def _find(command: str, search: tuple[str, ...]) -> str | None:
    found = shutil.which(command)
    if found:
        return found
    for directory in search:
        for candidate in sorted(Path("/").glob(directory.lstrip("/")), reverse=True):
            if (candidate / command).is_file():
                return str(candidate / command)
    return None
