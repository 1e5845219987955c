"""Lists of names with numbers in natural order: «№ 3» before «№ 14», case ignored."""

from __future__ import annotations

from pathlib import Path

from bot.services.clock import ManualClock
from tests.e2e.conftest import ADMIN_ID
from tests.e2e.custom_clinic import clinic_harness

CLINIC = Path(__file__).with_name("numbered_clinic.toml")


async def test_patients_see_organizations_services_and_doctors_in_natural_order(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with clinic_harness(tmp_path, clock, CLINIC) as harness:
        user = harness.user(1001, "Пётр")
        await user.send("/start")
        assert user.buttons() == [
            ["поликлиника № 2"],
            ["Поликлиника № 3"],
            ["Поликлиника № 14"],
            ["Мои записи"],
        ]
        await user.click("Поликлиника № 3")
        assert user.buttons()[:3] == [["Кабинет № 2"], ["кабинет № 9"], ["Кабинет № 10"]]
        await user.click("Кабинет № 10")
        assert user.buttons()[:3] == [
            ["Врач-терапевт — Ивлев И."],
            ["Врач-терапевт — Йолкин П."],
            ["Врач-терапевт — Яковлев О."],
        ]


async def test_staff_see_the_doctors_by_organization_in_natural_order(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with clinic_harness(tmp_path, clock, CLINIC) as harness:
        admin = harness.user(ADMIN_ID, "Админ")
        await admin.send("/day")
        lines = [line.split(" — ")[0] for line in admin.last_bot_message.text.splitlines()]
        codes = [line for line in lines if line.startswith("gp")]
        assert codes == [
            "gp2:petrov",
            "gp3:ivlev",
            "gp3:iolkin",
            "gp3:yakovlev",
            "gp14:abramova",
        ]
