"""A throwaway redis-server for tests: `async with redis_server(tmp_path) as url: ...`.

A real server on a free loopback port, without persistence, in the test's own directory;
it is stopped (and waited for) when the block ends, so a test can also use the URL after
the block to see what happens when Redis is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

# Debian's redis-server (installed by .ci/run). Outside CI, a machine without it skips the
# tests that need it (`needs_redis`); in CI its absence fails them.
BINARY = shutil.which("redis-server")
needs_redis = pytest.mark.skipif(
    BINARY is None and not os.environ.get("CI"),
    reason="needs Debian's redis-server (apt-get install redis-server; .ci/run installs it)",
)
READY_TIMEOUT = 10.0
ATTEMPTS = 3  # another process may take the free port between finding and binding it


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _start(directory: Path, port: int) -> asyncio.subprocess.Process:
    binary = BINARY or "/usr/bin/redis-server"
    log = directory / f"redis-{port}.log"
    return await asyncio.create_subprocess_exec(
        binary,
        *("--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
        *("--dir", str(directory), "--logfile", str(log), "--daemonize", "no"),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _ready(process: asyncio.subprocess.Process, url: str) -> bool:
    """Wait until the server answers PING; False if it exited first (e.g. port taken)."""
    deadline = time.monotonic() + READY_TIMEOUT
    client = Redis.from_url(url, socket_connect_timeout=1)
    try:
        while process.returncode is None and time.monotonic() < deadline:
            with contextlib.suppress(RedisError, OSError):
                if await client.ping():
                    return True
            # Polling for the server's answer, not a fixed wait: it is back in milliseconds.
            await asyncio.sleep(0.01)
        return False
    finally:
        await client.aclose()


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            process.kill()
            await process.wait()


@contextlib.asynccontextmanager
async def redis_server(directory: Path) -> AsyncIterator[str]:
    """Start redis-server in `directory`; yield its redis:// URL; stop it afterwards."""
    for _ in range(ATTEMPTS):
        port = _free_port()
        url = f"redis://127.0.0.1:{port}/0"
        process = await _start(directory, port)
        try:
            if await _ready(process, url):
                yield url
                return
        finally:
            await _stop(process)
    raise RuntimeError(f"redis-server did not start; see the redis-*.log files in {directory}")
