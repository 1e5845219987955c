"""Steps of the patient's path, shared by the end-to-end tests."""

from __future__ import annotations

from bot.standin.client import SimUser

PETROV = {"oms": "7788899730000765", "document": "123456", "birth_date": "14.03.1985"}
SIDOROVA = {"oms": "123456789", "document": "654321", "birth_date": "02.07.1990"}

ORG = "Поликлиника № 1"
SERVICE = "Приём терапевта"
DOCTOR = "Врач-терапевт — Иванова А. П."
WEDNESDAY = "ср 02.12 · 08:00–10:00"


async def open_day(
    user: SimUser,
    *,
    org: str = ORG,
    service: str = SERVICE,
    doctor: str = DOCTOR,
    day: str = WEDNESDAY,
) -> None:
    await user.send("/start")
    await user.click(org)
    await user.click(service)
    await user.click(doctor)
    await user.click(day)


async def identify(user: SimUser, patient: dict[str, str]) -> None:
    await user.send(patient["oms"])
    await user.send(patient["document"])
    await user.send(patient["birth_date"])
