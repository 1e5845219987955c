"""The parent's side of a dialogue benchmark: a bot process and the simulated users that drive it.

The stand-in Bot API server runs in this process; the bot (bench/botproc.py) runs in a child
that polls it over HTTP on 127.0.0.1 and reports every handled update on its stdout, which
this side turns into the server's `mark_handled`, so `server.wait_handled` works exactly as in
the end-to-end tests (bot/standin/client.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self

from bot.standin.server import StandInServer, TgUser

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0


class BenchError(RuntimeError):
    """The benchmark could not measure what it set out to (a failed step, a dead bot)."""


class BotProcess:
    """`python -m bench.botproc` polling `server`; see that module for the protocol."""

    def __init__(self, server: StandInServer, *, mode: Literal["talon", "bare"], **config: Any):
        self.server = server
        self.mode = mode
        self._config = {"mode": mode, "api_base": server.base_url, "token": server.token, **config}
        self._proc: asyncio.subprocess.Process | None = None
        self._stdout: asyncio.StreamReader | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._cpu: asyncio.Queue[float] = asyncio.Queue()

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise BenchError("the bot process is not started")
        return self._proc.pid

    async def _launch(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.botproc",
            cwd=REPO,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        self._stdout = self._proc.stdout

    async def start(self) -> None:
        await self._launch()
        self._send(json.dumps(self._config))
        self._reader = asyncio.create_task(self._read())
        ready = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait(
            {ready, self._reader}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            raise BenchError(f"the {self.mode} bot did not start within {START_TIMEOUT:.0f} s")

    def _send(self, line: str) -> None:
        assert self._proc is not None
        assert self._proc.stdin is not None
        self._proc.stdin.write(line.encode() + b"\n")

    async def _read(self) -> None:
        assert self._stdout is not None
        while line := await self._stdout.readline():
            kind, _, rest = line.decode().rstrip("\n").partition(" ")
            if kind == "h":
                update_id, _, error = rest.partition(" ")
                self.server.mark_handled(int(update_id), RuntimeError(error) if error else None)
            elif kind == "cpu":
                self._cpu.put_nowait(float(rest))
            elif kind == "ready":
                self._ready.set()

    async def cpu_seconds(self) -> float:
        """The bot process's CPU time so far (user + system, all its threads)."""
        if self._reader is None or self._reader.done():
            raise BenchError(f"the {self.mode} bot process has ended")
        self._send("cpu")
        async with asyncio.timeout(STOP_TIMEOUT):
            return await self._cpu.get()

    def rss_mib(self) -> float:
        """Resident memory of the bot process now (VmRSS of /proc/<pid>/status)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise BenchError("no VmRSS in /proc/<pid>/status (Linux only)")

    async def stop(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None and proc.stdin is not None:
            with contextlib.suppress(ConnectionError):
                proc.stdin.write(b"quit\n")
            try:
                async with asyncio.timeout(STOP_TIMEOUT):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._reader is not None:
            # It ends at the end of the child's stdout.
            async with asyncio.timeout(STOP_TIMEOUT):
                await self._reader
        self._proc = None

    async def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would; returns once the process is gone."""
        os.kill(self.pid, signal.SIGKILL)
        await self._wait_gone()

    async def _wait_gone(self) -> None:
        async with asyncio.timeout(STOP_TIMEOUT):
            if self._proc is not None:
                await self._proc.wait()
            if self._reader is not None:
                await self._reader

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


class ForkServer:
    """`python -m bench.botproc --fork-server`: Talon imported once, a bot forked per start.

    For tests that start the bot many times (kill it, start it again): a fresh interpreter
    spends seconds importing aiogram, a fork a few milliseconds. Each forked bot is a real
    process of its own (its own event loop, database connections and HTTP client), and
    SIGKILL ends it like any other.
    """

    def __init__(self) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self._control: socket.socket | None = None
        # One request at a time on the control socket: two bots started at once (several
        # instances) would otherwise read each other's pid.
        self._forking = asyncio.Lock()

    async def start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.botproc",
            "--fork-server",
            str(theirs.fileno()),
            cwd=REPO,
            stdin=asyncio.subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),),
        )
        theirs.close()
        ours.setblocking(False)
        self._control = ours

    async def fork(self, channel: socket.socket) -> int:
        """A new bot process whose stdin and stdout are `channel`; its pid."""
        if self._control is None:
            raise BenchError("the fork server is not started")
        loop = asyncio.get_running_loop()
        async with self._forking:
            # One tiny message: the socket's buffer takes it at once even though non-blocking.
            socket.send_fds(self._control, [b"fork"], [channel.fileno()])
            answer = b""
            async with asyncio.timeout(START_TIMEOUT):
                while not answer.endswith(b"\n"):
                    chunk = await loop.sock_recv(self._control, 64)
                    if not chunk:
                        raise BenchError("the fork server has ended")
                    answer += chunk
        return int(answer)

    async def stop(self) -> None:
        if self._control is not None:
            self._control.close()  # the server's end of file: it leaves
            self._control = None
        if self._proc is not None:
            try:
                async with asyncio.timeout(STOP_TIMEOUT):
                    await self._proc.wait()
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
            self._proc = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


class ForkedBot(BotProcess):
    """A BotProcess forked by a ForkServer instead of started as a new interpreter.

    Not our child, so its death is seen as the end of its socket (the kernel closes a dead
    process's files), and the fork server reaps it.
    """

    def __init__(
        self,
        server: StandInServer,
        forks: ForkServer,
        *,
        mode: Literal["talon", "bare"],
        **config: Any,
    ) -> None:
        super().__init__(server, mode=mode, **config)
        self._forks = forks
        self._pid: int | None = None
        self._writer: asyncio.StreamWriter | None = None

    @property
    def pid(self) -> int:
        if self._pid is None:
            raise BenchError("the bot process is not started")
        return self._pid

    async def _launch(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._pid = await self._forks.fork(theirs)
        finally:
            theirs.close()
        self._stdout, self._writer = await asyncio.open_unix_connection(sock=ours)

    def _send(self, line: str) -> None:
        assert self._writer is not None
        self._writer.write(line.encode() + b"\n")

    async def stop(self) -> None:
        if self._writer is None:
            return
        if self._reader is not None and not self._reader.done():
            with contextlib.suppress(ConnectionError):
                self._send("quit")
            try:
                await self._wait_gone()
            except TimeoutError:
                await self.kill()
        self._writer.close()
        self._writer = None
        self._pid = None


ButtonChoice = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Step:
    """One update a user causes: a typed message, or a press of the first matching button."""

    text: str | None = None
    button: ButtonChoice | None = None

    @classmethod
    def send(cls, text: str) -> Step:
        return cls(text=text)

    @classmethod
    def click(cls, choose: ButtonChoice) -> Step:
        return cls(button=choose)


def any_button(_: str) -> bool:
    return True


def labelled(text: str) -> ButtonChoice:
    return lambda label: label == text


@dataclass
class Walk:
    """What one user's walk took: each update's latency (push to handled) and the whole."""

    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0


class Driver:
    """Simulated users on the stand-in: push an update, wait until the bot handled it."""

    def __init__(self, server: StandInServer, *, timeout: float = 60.0) -> None:
        self.server = server
        self.timeout = timeout

    def user(self, user_id: int, first_name: str) -> TgUser:
        user = TgUser(id=user_id, first_name=first_name)
        self.server.add_user(user)
        return user

    async def walk(self, user: TgUser, steps: Sequence[Step]) -> Walk:
        walk = Walk()
        began = time.perf_counter()
        for number, step in enumerate(steps, start=1):
            pushed = time.perf_counter()
            if step.text is not None:
                update_id = self.server.push_message(user, step.text)
            else:
                assert step.button is not None
                message_id, data = self._button(user, step.button, number)
                update_id, _ = self.server.push_callback(user, message_id, data)
            await self.server.wait_handled(update_id, timeout=self.timeout)
            walk.latencies.append(time.perf_counter() - pushed)
            if errors := [e for e in self.server.handler_errors if e.update_id == update_id]:
                raise BenchError(f"user {user.id}, step {number}: handler raised {errors[0].error}")
        walk.seconds = time.perf_counter() - began
        return walk

    def _button(self, user: TgUser, choose: ButtonChoice, number: int) -> tuple[int, str]:
        messages = [m for m in self.server.messages(user.id) if m.from_bot]
        for message in reversed(messages):
            for row in message.inline_keyboard:
                for button in row:
                    data = button.get("callback_data")
                    if isinstance(data, str) and choose(str(button["text"])):
                        return message.message_id, data
        shown = messages[-1].text if messages else "no message"
        raise BenchError(
            f"user {user.id}, step {number}: no such button; the bot's last message: "
            f"{(shown or '')[:200]!r}"
        )

    def check_clean(self) -> None:
        """Fail the benchmark if the bot made a request the stand-in rejected."""
        if self.server.violations:
            first = self.server.violations[0]
            raise BenchError(
                f"{len(self.server.violations)} rejected Bot API request(s), first: "
                f"{first.method}: {first.description}"
            )


async def bounded_gather(jobs: Sequence[Callable[[], Any]], *, concurrency: int) -> list[Any]:
    """Run the coroutine factories, `concurrency` at a time (bound the time with a timeout)."""
    results: list[Any] = [None] * len(jobs)
    queue = iter(range(len(jobs)))

    async def worker() -> None:
        for index in queue:
            results[index] = await jobs[index]()

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(jobs)))))
    return results


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1), interpolated; the median for q = 0.5."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]
