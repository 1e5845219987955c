"""The sandbox page's API, without a browser."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from bot.sandbox.web import Sandbox
from tests.e2e.flow import PETROV

PATIENT = 1001


async def messages(http: aiohttp.ClientSession, user: int = PATIENT) -> list[dict[str, Any]]:
    async with http.get(f"/api/chats/{user}/messages") as response:
        assert response.status == 200
        result: list[dict[str, Any]] = await response.json()
        return result


async def send(http: aiohttp.ClientSession, text: str, user: int = PATIENT) -> None:
    async with http.post(f"/api/chats/{user}/send", json={"text": text}) as response:
        assert response.status == 200


async def press(
    http: aiohttp.ClientSession, label: str, user: int = PATIENT
) -> dict[str, Any] | None:
    for message in reversed(await messages(http, user)):
        for row in message["buttons"]:
            for button in row:
                if button["text"] == label:
                    async with http.post(
                        f"/api/chats/{user}/press",
                        json={"message_id": message["message_id"], "data": button["data"]},
                    ) as response:
                        assert response.status == 200
                        answer: dict[str, Any] | None = (await response.json())["answer"]
                        return answer
    raise AssertionError(f"no button {label!r}")


async def test_state_lists_users_commands_and_clock(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/state") as response:
        state = await response.json()
    assert [u["role"] for u in state["users"]] == ["patient", "patient", "patient", "admin"]
    assert {"command": "start", "description": "Записаться к врачу"} in state["commands"]
    # In the organization's zone, as patients read times.
    assert state["clock"] == "2026-12-01T09:00:00+03:00"


async def test_a_booking_through_the_api_down_to_the_pdf(http: aiohttp.ClientSession) -> None:
    await send(http, "/start")
    first = (await messages(http))[-1]
    assert "<b>Запись на приём к врачу</b>" in first["html"]
    await press(http, "Поликлиника № 1")
    await press(http, "Приём терапевта")
    await press(http, "Врач-терапевт — Иванова А. П.")
    answer = await press(http, "✖ пт 04.12")
    assert answer == {"text": "На эту дату запись невозможна", "show_alert": True}
    await press(http, "ср 02.12 · 08:00–10:00")
    await press(http, "08:00")
    await press(http, "Принимаю")
    for value in PETROV.values():
        await send(http, value)
    chat = await messages(http)
    assert any("Вы успешно записались" in m["html"] for m in chat)
    document = chat[-1]["document"]
    assert document["file_name"].endswith(".pdf")
    async with http.get(document["url"]) as response:
        assert response.status == 200
        assert response.content_type == "application/pdf"
        assert (await response.read()).startswith(b"%PDF")
    # The typed identity values are not in the chat.
    assert all(PETROV["oms"] not in m["html"] for m in chat)


async def test_moving_the_clock_sends_due_reminders(http: aiohttp.ClientSession) -> None:
    await send(http, "/start")
    await press(http, "Поликлиника № 1")
    await press(http, "Приём терапевта")
    await press(http, "Врач-терапевт — Иванова А. П.")
    await press(http, "чт 03.12 · 08:00–09:00")
    await press(http, "08:00")
    await press(http, "Принимаю")
    for value in PETROV.values():
        await send(http, value)
    async with http.post("/api/clock/advance", json={"minutes": 60 * 23}) as response:
        assert (await response.json())["clock"] == "2026-12-02T08:00:00+03:00"
    assert any("Напоминание о приёме" in m["html"] for m in await messages(http))


async def test_the_registry_admin_has_staff_commands(http: aiohttp.ClientSession) -> None:
    await send(http, "/help", user=9001)
    assert "/find" in (await messages(http, 9001))[-1]["html"]
    await send(http, "/help")
    assert "/find" not in (await messages(http))[-1]["html"]


async def test_events_stream_reports_new_messages(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    async with http.get("/api/events") as stream:
        await send(http, "/start")
        kinds = set()
        while "message_sent" not in kinds:
            line = await asyncio.wait_for(stream.content.readline(), timeout=10)
            if line.startswith(b"data: "):
                event = json.loads(line[6:])
                kinds.add(event["kind"])
                if event["kind"] == "message_sent":
                    assert event["chat_id"] == PATIENT


async def test_bad_requests_are_refused(http: aiohttp.ClientSession) -> None:
    async with http.post("/api/chats/42/send", json={"text": "x"}) as response:
        assert response.status == 404
    async with http.post(f"/api/chats/{PATIENT}/send", data="not json") as response:
        assert response.status == 415
    # Another site (CSRF) or another host name (DNS rebinding) cannot drive the sandbox.
    async with http.post(
        "/api/clock/advance", json={"minutes": 60}, headers={"Origin": "http://evil.example"}
    ) as response:
        assert response.status == 403
    async with http.get("/api/state", headers={"Host": "evil.example"}) as response:
        assert response.status == 403
    async with http.post("/api/clock/advance", json={"minutes": -5}) as response:
        assert response.status == 400
    async with http.get("/static/../../etc/passwd") as response:
        assert response.status == 404
    async with http.get("/api/files/nope") as response:
        assert response.status == 404
    async with http.post(
        f"/api/chats/{PATIENT}/press", json={"message_id": 999, "data": "st"}
    ) as response:
        assert response.status == 410


async def clock_now(http: aiohttp.ClientSession) -> str:
    async with http.get("/api/state") as response:
        assert response.status == 200
        now: str = (await response.json())["clock"]
        return now


async def post_raw(http: aiohttp.ClientSession, path: str, body: str) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    async with http.post(path, data=body.encode(), headers=headers) as response:
        return response.status, await response.text()


NESTED = {
    # Under the size limit, yet deep enough to exhaust the JSON parser's recursion.
    "past-the-parser": '{"minutes": ' + "[" * 5000 + "]" * 5000 + "}",
    # Parses fine, one level past what the page ever sends.
    "past-the-depth-limit": '{"minutes": {"a": {"b": {"c": {"d": 1}}}}}',
    "deep-inside-a-send": '{"text": [[[[["/start"]]]]]}',
}


async def test_deeply_nested_json_is_refused_and_the_sandbox_still_answers(
    http: aiohttp.ClientSession,
) -> None:
    before = await clock_now(http)
    for name, body in NESTED.items():
        for path in ("/api/clock/advance", f"/api/chats/{PATIENT}/send"):
            status, text = await post_raw(http, path, body)
            assert status == 400, (name, path, status, text)
    # 100 000 levels: too big to read at all, refused before parsing.
    status, _ = await post_raw(http, "/api/clock/advance", "[" * 100_000)
    assert status == 413
    assert await clock_now(http) == before
    assert await messages(http) == []
    await send(http, "/start")
    assert "Запись на приём к врачу" in (await messages(http))[-1]["html"]


NOT_INTEGERS = {"true": True, "float": 1.5, "string": "5", "null": None}


async def test_minutes_must_be_a_true_integer(http: aiohttp.ClientSession) -> None:
    before = await clock_now(http)
    for name, value in NOT_INTEGERS.items():
        async with http.post("/api/clock/advance", json={"minutes": value}) as response:
            assert response.status == 400, name
            assert await response.text() == "minutes must be an integer"
    assert await clock_now(http) == before
    async with http.post("/api/clock/advance", json={"minutes": 60}) as response:
        assert response.status == 200
    assert await clock_now(http) != before
