"""A real headless Chromium books an appointment on the sandbox page by clicking and typing.

Chromium comes from the system (Debian's `chromium`, installed by .ci/run); Playwright drives
it through that executable and never downloads a browser of its own. A failed test leaves a
screenshot and the page's HTML in test-artifacts/ (`<test>-failure.png`, `.html`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.sandbox.web import DEFAULT_USERS, Sandbox
from tests.e2e.flow import PETROV, SIDOROVA
from tests.sandbox.conftest import failed_so_far
from tests.sandbox.test_api import PATIENT, press, send

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
# The time grid's own words: no day button says them (a day button does say «08:00»).
TIME_GRID = "Выберите время."

if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("no system Chromium here; .ci/run installs it", allow_module_level=True)

playwright_api = pytest.importorskip("playwright.async_api")


@pytest.fixture
async def page(sandbox: Sandbox, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    assert CHROMIUM is not None, "CI must have Debian's chromium (see .ci/run)"
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        opened = await context.new_page()
        served = False
        try:
            await opened.goto(sandbox.url)
            served = True
            yield opened
        finally:
            try:
                server = sandbox.harness.server
                # The sandbox fixture fails the test on these only after the page is closed.
                failed = server.violations or server.handler_errors
                if not served or failed or failed_so_far(request.node):
                    await save_the_page(opened, request.node.name)
            finally:
                await context.close()
                await browser.close()


async def save_the_page(page: Any, test_name: str) -> None:
    """The failed page as it was: a screenshot and its HTML, named after the test."""
    ARTIFACTS.mkdir(exist_ok=True)
    safe_name = re.sub(r"[^\w.-]+", "_", test_name)
    stem = ARTIFACTS / f"{safe_name}-failure"
    # Each on its own: a page too broken for a screenshot may still give its HTML.
    with contextlib.suppress(Exception):
        await page.screenshot(path=f"{stem}.png", full_page=True, timeout=10_000)
    with contextlib.suppress(Exception):
        write_text(Path(f"{stem}.html"), await page.content())
    print(f"the failed page: {stem}.png, {stem}.html")


def write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def button(page_or_scope: Any, label: str) -> Any:
    """Inline buttons labelled exactly `label`: «08:00» is also inside the day button
    «ср 02.12 · 08:00–10:00», which a part-of-the-label match would take."""
    whole = re.compile(rf"^{re.escape(label)}$")
    return page_or_scope.get_by_test_id("button").filter(has_text=whole)


async def click_button(page_or_scope: Any, label: str) -> None:
    # The newest message's button: an older screen may have one with the same label.
    await button(page_or_scope, label).last.click()


async def choose_time(page: Any, time: str) -> None:
    """Press a time once the time grid is drawn: on a slow machine the day's grid may still
    be the day grid when the next click looks for its button."""
    grid = page.get_by_test_id("message").filter(has_text=TIME_GRID).last
    await playwright_api.expect(grid).to_be_visible()
    await click_button(grid, time)


async def type_and_send(page: Any, text: str) -> None:
    box = page.get_by_test_id("input")
    await box.fill(text)
    await page.get_by_test_id("send").click()


async def identify(page: Any, patient: dict[str, str]) -> None:
    """Type each value once the bot asks for it, as a person would (not all three at once)."""
    for step, value in enumerate(patient.values(), start=1):
        await playwright_api.expect(page.get_by_text(f"Шаг {step} из 3").last).to_be_visible()
        await type_and_send(page, value)


async def test_booking_in_the_browser_down_to_the_pdf(page: Any, sandbox: Sandbox) -> None:
    expect = playwright_api.expect
    await page.get_by_test_id("user-1001").click()
    await type_and_send(page, "/start")
    await expect(page.get_by_text("Выберите медицинскую организацию").last).to_be_visible()
    for label in (
        "Поликлиника № 1",
        "Приём терапевта",
        "Врач-терапевт — Иванова А. П.",
    ):
        await click_button(page, label)
    # A closed day answers with an alert dialog and stays on the grid.
    await click_button(page, "✖ пт 04.12")
    alert = page.get_by_test_id("alert")
    await expect(alert).to_contain_text("На эту дату запись невозможна")
    await page.get_by_test_id("alert-ok").click()
    await click_button(page, "ср 02.12 · 08:00–10:00")
    await choose_time(page, "08:00")
    await click_button(page, "Принимаю")
    await identify(page, PETROV)
    await expect(page.get_by_text("Вы успешно записались на приём!").last).to_be_visible()
    card = page.get_by_test_id("document").last
    await expect(card).to_contain_text(".pdf")
    try:
        async with page.expect_download() as download_info:
            await card.get_by_test_id("document-link").click()
        download = await download_info.value
        assert download.suggested_filename.endswith(".pdf")
        saved = ARTIFACTS / download.suggested_filename
        ARTIFACTS.mkdir(exist_ok=True)
        await download.save_as(str(saved))
        assert saved.read_bytes().startswith(b"%PDF")
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "sandbox-chat.png"), full_page=True)


async def test_menu_toast_users_and_calendar_card_all_served_locally(
    page: Any, sandbox: Sandbox
) -> None:
    expect = playwright_api.expect
    outside: list[str] = []

    async def only_local(route: Any) -> None:
        if route.request.url.startswith(sandbox.url):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_local)
    await page.reload()
    await page.get_by_test_id("user-1002").click()
    # The «/» menu lists the bot's commands and sends the chosen one.
    await page.get_by_test_id("input").fill("/")
    menu = page.get_by_test_id("commands-menu")
    await expect(menu).to_be_visible()
    await menu.get_by_test_id("command").filter(has_text="/start").click()
    await expect(page.get_by_text("Выберите медицинскую организацию").last).to_be_visible()
    # A button of an ended dialogue: a toast, not a dialog.
    await type_and_send(page, "/start")
    await expect(page.get_by_text("Выберите медицинскую организацию")).to_have_count(2)
    # The first start screen's button: its dialogue was replaced by the second.
    await button(page, "Поликлиника № 1").first.click()
    await expect(page.get_by_test_id("toast")).to_contain_text("завершён")

    await type_and_send(page, "/start")
    # Wait for the new start screen, so the buttons pressed next are its own, not the
    # older (now ended) one's.
    await expect(page.get_by_text("Выберите медицинскую организацию")).to_have_count(2)
    for label in (
        "Поликлиника № 1",
        "Приём терапевта",
        "Врач-терапевт — Иванова А. П.",
        "ср 02.12 · 08:00–10:00",
    ):
        await click_button(page, label)
    await choose_time(page, "08:30")
    await click_button(page, "Принимаю")
    await identify(page, SIDOROVA)
    await expect(page.get_by_text("Вы успешно записались на приём!").last).to_be_visible()
    await type_and_send(page, "/my")
    await click_button(page, "02.12 08:30 · Иванова А. П.")
    await click_button(page, "В календарь")
    await expect(page.get_by_test_id("document").last).to_contain_text(".ics")

    # Each simulated user has their own chat.
    await page.get_by_test_id("user-1001").click()
    await expect(page.get_by_test_id("message")).to_have_count(0)
    await page.get_by_test_id("user-1002").click()
    await expect(page.get_by_test_id("document").last).to_contain_text(".ics")
    assert outside == []


PHONE = {"width": 390, "height": 844}
# Elements whose content does not fit their box (cut by an ellipsis, spilling or clipped).
CUT = """(elements) => elements
    .filter((e) => e.scrollWidth > e.clientWidth || e.scrollHeight > e.clientHeight)
    .map((e) => `${e.textContent}: ${e.scrollWidth}×${e.scrollHeight} content`
        + ` in ${e.clientWidth}×${e.clientHeight}`)"""


async def a_reminder_on_screen(sandbox: Sandbox) -> None:
    """A booking for tomorrow, then the clock moved to its reminder (as in test_api)."""
    async with aiohttp.ClientSession(base_url=sandbox.url) as http:
        await send(http, "/start")
        for label in (
            "Поликлиника № 1",
            "Приём терапевта",
            "Врач-терапевт — Иванова А. П.",
            "чт 03.12 · 08:00–09:00",
            "08:00",
            "Принимаю",
        ):
            await press(http, label)
        for value in PETROV.values():
            await send(http, value)
        async with http.post("/api/clock/advance", json={"minutes": 60 * 23}) as response:
            assert response.status == 200


async def box(locator: Any) -> dict[str, float]:
    found: dict[str, float] | None = await locator.bounding_box()
    assert found is not None, f"{locator} is not displayed"
    return found


def inside(inner: Mapping[str, float], outer: Mapping[str, float], slack: float = 0.5) -> bool:
    return (
        inner["x"] >= outer["x"] - slack
        and inner["y"] >= outer["y"] - slack
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack
    )


def apart(one: Mapping[str, float], other: Mapping[str, float], slack: float = 0.5) -> bool:
    return (
        one["x"] + one["width"] <= other["x"] + slack
        or other["x"] + other["width"] <= one["x"] + slack
        or one["y"] + one["height"] <= other["y"] + slack
        or other["y"] + other["height"] <= one["y"] + slack
    )


async def test_a_phone_sized_page_cuts_no_label_and_overlaps_nothing(
    page: Any, sandbox: Sandbox
) -> None:
    expect = playwright_api.expect
    names = [user.label for user in DEFAULT_USERS]
    assert page.viewport_size["width"] == 1280
    # The full sidebar first: «Регистратура (администратор)» wraps rather than loses its end.
    await expect(page.get_by_test_id("user-9001")).to_be_visible()
    assert await page.locator(".user-name").all_inner_texts() == names
    assert await page.locator(".user-name").evaluate_all(CUT) == []

    await page.set_viewport_size(PHONE)
    await a_reminder_on_screen(sandbox)
    reminder = page.get_by_test_id("message").filter(has_text="Напоминание о приёме").last
    await expect(reminder).to_be_visible()
    await expect(reminder.get_by_test_id("button")).to_have_count(3)
    await reminder.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "sandbox-phone.png"))

    # No inline button's label is cut, and no button runs off the screen's sides.
    buttons = page.get_by_test_id("button")
    assert await buttons.count() > 3
    assert await buttons.evaluate_all(CUT) == []
    assert await page.locator(".kb-label").evaluate_all(CUT) == []
    screen = {"x": 0, "y": 0, **PHONE}
    for index in range(await buttons.count()):
        found = await box(buttons.nth(index))
        across = {**found, "y": 0, "height": 0}
        assert inside(across, screen), await buttons.nth(index).inner_text()
    for index in range(3):
        label = reminder.get_by_test_id("button").nth(index)
        # The label as the bot sent it (the button's title), all of it laid out as text.
        assert await label.inner_text() == await label.get_attribute("title")

    # The header fits the screen, its parts do not overlap, and it does not cover the chat.
    header = await box(page.locator(".chat-head"))
    assert inside(header, screen)
    assert header["y"] + header["height"] <= (await box(page.get_by_test_id("messages")))["y"] + 0.5
    title = await box(page.locator(".chat-title"))
    assert await page.locator(".chat-name").evaluate_all(CUT) == []
    controls = [
        await box(page.get_by_test_id(test_id))
        for test_id in ("clock", "advance-hour", "advance-day")
    ]
    for part in (title, *controls):
        assert inside(part, header), part
    for part in controls:
        assert apart(part, title), (part, title)
    assert apart(controls[1], controls[2])
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # The sidebar is a bar above the header, naming the user in full; its list opens on demand.
    toggle = page.get_by_test_id("users-toggle")
    assert apart(await box(toggle), header)
    await expect(page.get_by_test_id("users-current")).to_have_text(names[0])
    assert await page.get_by_test_id("users-current").evaluate_all(CUT) == []
    await expect(page.get_by_test_id("user-9001")).to_be_hidden()
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    user_names = page.locator(".user-name")
    for index in range(len(names)):
        await expect(user_names.nth(index)).to_be_visible()
        assert inside(await box(user_names.nth(index)), screen)
    assert await user_names.all_inner_texts() == names
    assert await user_names.evaluate_all(CUT) == []
    await page.screenshot(path=str(ARTIFACTS / "sandbox-phone-users.png"))

    # Choosing a user closes the list and shows that user's chat.
    await page.get_by_test_id("user-9001").click()
    await expect(page.get_by_test_id("user-9001")).to_be_hidden()
    await expect(page.get_by_test_id("users-current")).to_have_text(names[-1])
    await expect(page.get_by_test_id("message")).to_have_count(0)
    await toggle.click()
    await page.get_by_test_id(f"user-{PATIENT}").click()
    await expect(reminder).to_be_visible()
