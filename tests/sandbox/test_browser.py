"""A real headless Chromium books an appointment on the sandbox page by clicking and typing.

Chromium comes from the system (Debian's `chromium`, installed by .ci/run); Playwright drives
it through that executable and never downloads a browser of its own.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.web import Sandbox
from tests.e2e.flow import PETROV, SIDOROVA

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"

if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("no system Chromium here; .ci/run installs it", allow_module_level=True)

playwright_api = pytest.importorskip("playwright.async_api")


@pytest.fixture
async def page(sandbox: Sandbox) -> AsyncIterator[Any]:
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
        await opened.goto(sandbox.url)
        try:
            yield opened
        finally:
            await context.close()
            await browser.close()


async def click_button(page: Any, label: str) -> None:
    # The whole label, not a part of it: «08:00» is also inside the day button
    # «ср 02.12 · 08:00–10:00», and on a slow machine the time grid may not be drawn yet
    # when the next click looks for its button.
    whole = re.compile(rf"^{re.escape(label)}$")
    button = page.get_by_test_id("button").filter(has_text=whole).last
    await button.click()


async def type_and_send(page: Any, text: str) -> None:
    box = page.get_by_test_id("input")
    await box.fill(text)
    await page.get_by_test_id("send").click()


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
    for label in ("ср 02.12 · 08:00–10:00", "08:00", "Принимаю"):
        await click_button(page, label)
    await expect(page.get_by_text("Шаг 1 из 3").last).to_be_visible()
    for value in PETROV.values():
        await type_and_send(page, value)
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
    await page.get_by_test_id("button").filter(has_text="Поликлиника № 1").first.click()
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
        "08:30",
        "Принимаю",
    ):
        await click_button(page, label)
    for value in SIDOROVA.values():
        await type_and_send(page, value)
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
