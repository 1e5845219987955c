"""The sandbox: the real bot on the stand-in Bot API server, and a page that is its chat.

One process, one event loop: the stand-in server, the bot polling it (SQLite, demo data),
and a small web app on 127.0.0.1 that plays the Telegram client for a few simulated users.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.helpers import content_disposition_header
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.app import commands
from bot.config import Settings
from bot.i18n import DEFAULT_LOCALE
from bot.sandbox.render import render_html
from bot.services.clock import ManualClock
from bot.services.installation import (
    ForeignDatabaseError,
    Purpose,
    check_sandbox_database,
    describe_database,
)
from bot.standin.harness import BotHarness, random_token
from bot.standin.server import StoredMessage, TgUser
from bot.startup import refresh_slots
from db.models import Organization

logger = logging.getLogger(__name__)
STATIC = resources.files("bot.sandbox") / "static"
MAX_ADVANCE_MINUTES = 60 * 24 * 31
INLINE_TYPES = {"application/pdf", "text/calendar"}
# Comments keep a quiet event stream alive and let a closed page's stream be noticed.
SSE_PING_SECONDS = 15
# The page sends small flat objects: anything bigger or deeper is not from it (413 / 400).
MAX_BODY_BYTES = 16 * 1024
MAX_JSON_DEPTH = 4


@dataclass(frozen=True, slots=True)
class SandboxUser:
    user: TgUser
    label: str
    role: str  # "patient" or "admin"


DEFAULT_USERS = (
    SandboxUser(TgUser(1001, "Пётр", "Петров"), "Пётр Петров (пациент)", "patient"),
    SandboxUser(TgUser(1002, "Елена", "Смирнова"), "Елена Смирнова (пациент)", "patient"),
    # Telegram in English: the bot speaks English to him (/language switches).
    SandboxUser(
        TgUser(1003, "John", "Smith", language_code="en"),
        "John Smith (patient, English)",
        "patient",
    ),
    SandboxUser(TgUser(9001, "Регистратура"), "Регистратура (администратор)", "admin"),
)


def json_depth(value: object) -> int:
    """How deeply arrays and objects nest (a scalar is 0); iterative, so any depth is safe."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children)
    return deepest


def message_json(message: StoredMessage, file_url: str) -> dict[str, Any]:
    text = message.caption if message.document is not None else message.text
    document = None
    if message.document is not None:
        document = {
            "file_name": message.document.file_name,
            "mime_type": message.document.mime_type,
            "size": message.document.size,
            "url": f"{file_url}/{message.document.file_id}",
        }
    return {
        "message_id": message.message_id,
        "from_bot": message.from_bot,
        "html": render_html(text or "", message.entities if message.from_bot else []),
        "buttons": [
            [{"text": b["text"], "data": b.get("callback_data", "")} for b in row]
            for row in message.inline_keyboard
        ],
        "document": document,
        "edited": message.edit_count > 0,
        "date": message.date,
    }


# What SQLite keeps next to a database file: its write-ahead log, the log's index, and the
# rollback journal (when not in WAL mode).
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
RESET_EXIT_CODE = 2


def reset_sandbox(settings: Settings) -> None:
    """`python -m bot sandbox --reset`: remove the sandbox's own database file (with its -wal,
    -shm and -journal), so its next start has the demo data and nothing else.

    Only a database the sandbox may run on is removed: the check that keeps the sandbox off any
    database it did not create (check_sandbox_database) decides. Anything else (the real bot's
    database, another program's, a file that is not an SQLite database, a database on a server)
    stays untouched: one line on stderr, then SystemExit with code 2.
    """
    url = settings.sandbox.database_url
    database = describe_database(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        _refuse_reset(
            f"Сброс песочницы отменён: её база {database} — не файл SQLite, а --reset удаляет "
            "только файл; ничего не изменено. Очистите эту базу сами или укажите в "
            "sandbox.database_url новый файл."
        )
    if parsed.database in (None, "", ":memory:"):
        print("Сбрасывать нечего: база песочницы хранится только в памяти.", file=sys.stderr)
        return
    path = Path(parsed.database)
    companions = [path.with_name(path.name + suffix) for suffix in SQLITE_COMPANIONS]
    if not path.exists():
        # Leftovers of a removed file would be read into the next one: they go too.
        for companion in companions:
            companion.unlink(missing_ok=True)
        print(f"Сбрасывать нечего: базы песочницы {database} ещё нет.", file=sys.stderr)
        return
    try:
        _check_apart(url)
    except ForeignDatabaseError:
        _refuse_reset(
            f"Сброс песочницы отменён: база {database} создана не песочницей (это база бота или "
            "другой программы), а --reset удаляет только базу, которую песочница создала сама; "
            "ничего не удалено. Укажите в sandbox.database_url (TALON_SANDBOX__DATABASE_URL) "
            "файл песочницы."
        )
    except (SQLAlchemyError, OSError):
        _refuse_reset(
            f"Сброс песочницы отменён: {database} не читается как база SQLite, поэтому --reset "
            "её не удаляет; ничего не изменено. Проверьте sandbox.database_url."
        )
    try:
        path.unlink()
        for companion in companions:
            companion.unlink(missing_ok=True)
    except OSError as error:
        _refuse_reset(f"Не удалось удалить базу песочницы {database}: {error.strerror}.")
    print(
        f"База песочницы {database} удалена: записи, согласия и запомненные пациенты стёрты, "
        "при запуске песочница снова загрузит демо-данные.",
        file=sys.stderr,
    )


def _check_apart(url: str) -> None:
    """check_sandbox_database on a loop of its own: callable from plain code and from inside
    a running event loop alike."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: asyncio.run(check_sandbox_database(url=url))).result()


def _refuse_reset(line: str) -> NoReturn:
    print(line, file=sys.stderr)
    raise SystemExit(RESET_EXIT_CODE)


class Sandbox:
    def __init__(
        self,
        *,
        settings: Settings,
        clock: ManualClock,
        host: str = "127.0.0.1",
        port: int = 0,
        users: tuple[SandboxUser, ...] = DEFAULT_USERS,
    ) -> None:
        admins = [u.user.id for u in users if u.role == "admin"]
        # Staff in the sandbox only: the demo registry admin is never an admin elsewhere.
        staff = settings.staff.model_copy(update={"admins": [*settings.staff.admins, *admins]})
        self.harness = BotHarness(
            settings=settings.model_copy(update={"staff": staff}),
            clock=clock,
            # Any local user can reach 127.0.0.1: a documented token would let them read
            # the sandbox's updates, so each start gets its own, printed nowhere.
            token=random_token(),
            # Refuses (ForeignDatabaseError) any database the sandbox did not create itself.
            purpose=Purpose.SANDBOX,
        )
        self.clock = clock
        self.users = {u.user.id: u for u in users}
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self._clock_events: list[asyncio.Queue[dict[str, Any]]] = []
        self.url = ""

    async def start(self) -> None:
        await self.harness.start()
        # A sandbox restarted days later shows the days since then at once (the bot itself
        # regenerates in the background; here the page waits the moment it takes).
        await refresh_slots(self.harness.database, settings=self.harness.settings, clock=self.clock)
        for entry in self.users.values():
            self.harness.server.add_user(entry.user)
        # client_max_size: a bigger body is refused (413) before it is read into memory.
        app = web.Application(middlewares=[self._same_origin], client_max_size=MAX_BODY_BYTES)
        app.add_routes(
            [
                web.get("/", self._index),
                web.get("/static/{name}", self._static),
                web.get("/api/state", self._state),
                web.get("/api/chats/{user_id}/messages", self._messages),
                web.post("/api/chats/{user_id}/send", self._send),
                web.post("/api/chats/{user_id}/press", self._press),
                web.get("/api/files/{file_id}", self._file),
                web.post("/api/clock/advance", self._advance),
                web.get("/api/events", self._events),
            ]
        )
        # handler_cancellation: a closed page's event stream ends at once.
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.harness.stop()

    # ---- helpers -----------------------------------------------------------------------

    @web.middleware
    async def _same_origin(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Only this page may drive the sandbox: no other site (CSRF), no other host name
        (DNS rebinding) can reach it through a visitor's browser."""
        port = self.url.rsplit(":", 1)[-1]
        allowed = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
        # Bound elsewhere on purpose (configured): then the address itself is the host.
        allowed.add(self.url.removeprefix("http://"))
        if request.host not in allowed:
            raise web.HTTPForbidden(text="unexpected Host")
        origin = request.headers.get("Origin")
        if origin is not None and origin.removeprefix("http://") not in allowed:
            raise web.HTTPForbidden(text="unexpected Origin")
        return await handler(request)

    def _user(self, request: web.Request) -> SandboxUser:
        try:
            return self.users[int(request.match_info["user_id"])]
        except (KeyError, ValueError):
            raise web.HTTPNotFound(text="no such sandbox user") from None

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        if request.content_type != "application/json":
            raise web.HTTPUnsupportedMediaType(text="JSON body expected")
        raw = await request.read()
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise web.HTTPBadRequest(text="JSON body expected") from None
        except RecursionError:
            # The parser recurses per level: deep nesting must be a 400, not a 500.
            raise web.HTTPBadRequest(text="JSON nested too deeply") from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="JSON object expected")
        if json_depth(body) > MAX_JSON_DEPTH:
            raise web.HTTPBadRequest(text="JSON nested too deeply")
        return body

    @staticmethod
    def _integer(body: dict[str, Any], name: str) -> int:
        """A true JSON integer: not true, 1.5, "5" or null, which int() would take or choke on."""
        value = body.get(name)
        if type(value) is not int:
            raise web.HTTPBadRequest(text=f"{name} must be an integer")
        return value

    # ---- pages -------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(
            text=(STATIC / "index.html").read_text(encoding="utf-8"), content_type="text/html"
        )

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        types = {"js": "application/javascript", "css": "text/css"}
        kind = name.rsplit(".", 1)[-1]
        if "/" in name or kind not in types or not (STATIC / name).is_file():
            raise web.HTTPNotFound()
        return web.Response(
            text=(STATIC / name).read_text(encoding="utf-8"), content_type=types[kind]
        )

    # ---- API ---------------------------------------------------------------------------

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "users": [
                    {"id": u.user.id, "name": u.label, "role": u.role} for u in self.users.values()
                ],
                "commands": [
                    {"command": c.command, "description": c.description}
                    for c in commands(DEFAULT_LOCALE)
                ],
                "clock": await self._clock_text(),
            }
        )

    async def _clock_text(self) -> str:
        """The bot's clock in the first organization's zone, as its patients read times."""
        async with self.harness.database.sessions() as session:
            zone = await session.scalar(select(Organization.timezone).order_by(Organization.id))
        return self.clock.now().astimezone(ZoneInfo(zone or "UTC")).isoformat()

    async def _messages(self, request: web.Request) -> web.Response:
        user = self._user(request)
        messages = self.harness.server.messages(user.user.id)
        return web.json_response([message_json(m, "/api/files") for m in messages])

    async def _send(self, request: web.Request) -> web.Response:
        user = self._user(request)
        text = str((await self._body(request)).get("text", "")).strip()
        if not text:
            raise web.HTTPBadRequest(text="empty message")
        update_id = self.harness.server.push_message(user.user, text[:4096])
        await self.harness.server.wait_handled(update_id)
        return web.json_response({"ok": True})

    async def _press(self, request: web.Request) -> web.Response:
        user = self._user(request)
        body = await self._body(request)
        message_id, data = self._integer(body, "message_id"), body.get("data")
        if not isinstance(data, str):
            raise web.HTTPBadRequest(text="data must be a string")
        try:
            update_id, query_id = self.harness.server.push_callback(user.user, message_id, data)
        except LookupError:
            raise web.HTTPGone(text="the message is gone") from None
        await self.harness.server.wait_handled(update_id)
        answer = self.harness.server.callback_answers.get(query_id)
        return web.json_response(
            {
                "answer": None
                if answer is None
                else {"text": answer.text, "show_alert": answer.show_alert}
            }
        )

    async def _file(self, request: web.Request) -> web.Response:
        document = self.harness.server.document(request.match_info["file_id"])
        if document is None:
            raise web.HTTPNotFound()
        # Only the ticket and calendar files open in the browser; anything else downloads, so
        # a file sent as HTML can never run on this page's origin.
        inline = document.mime_type in INLINE_TYPES
        return web.Response(
            body=document.data,
            content_type=document.mime_type if inline else "application/octet-stream",
            headers={
                "Content-Disposition": content_disposition_header(
                    "inline" if inline else "attachment", filename=document.file_name
                ),
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def _advance(self, request: web.Request) -> web.Response:
        minutes = self._integer(await self._body(request), "minutes")
        if not 0 < minutes <= MAX_ADVANCE_MINUTES:
            raise web.HTTPBadRequest(text="minutes out of range")
        self.clock.advance(timedelta(minutes=minutes))
        for queue in self._clock_events:
            queue.put_nowait({"kind": "clock", "chat_id": None, "message_id": None})
        # What the bot's nightly and periodic jobs would have done meanwhile.
        await refresh_slots(self.harness.database, settings=self.harness.settings, clock=self.clock)
        if self.harness.reminders is not None:
            await self.harness.reminders.run_once()
        return web.json_response({"clock": await self._clock_text()})

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        server_events = self.harness.server.subscribe()

        async def forward() -> None:
            while True:
                event = await server_events.get()
                outgoing.put_nowait(
                    {
                        "kind": str(event.kind),
                        "chat_id": event.chat_id,
                        "message_id": event.message_id,
                    }
                )

        forwarder = asyncio.create_task(forward())
        self._clock_events.append(outgoing)
        try:
            while True:
                try:
                    payload = await asyncio.wait_for(outgoing.get(), timeout=SSE_PING_SECONDS)
                except TimeoutError:
                    await response.write(b": ping\n\n")
                    continue
                await response.write(f"data: {json.dumps(payload)}\n\n".encode())
        except ConnectionResetError:
            pass
        finally:
            forwarder.cancel()
            self.harness.server.unsubscribe(server_events)
            with contextlib.suppress(ValueError):
                self._clock_events.remove(outgoing)
        return response
