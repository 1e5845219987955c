"""Callback data of every button. `s` ties a button to one booking dialogue (see handlers)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class ToStart(CallbackData, prefix="st"):
    pass


class OrgList(CallbackData, prefix="ol"):
    s: str
    page: int = 0


class OrgPick(CallbackData, prefix="o"):
    s: str
    org: int
    page: int = 0  # of the organization's services


class ServicePick(CallbackData, prefix="sv"):
    s: str
    svc: int
    page: int = 0  # of the service's doctors


class DoctorPick(CallbackData, prefix="dr"):
    s: str
    svc: int
    doc: int


class DayPick(CallbackData, prefix="dy"):
    s: str
    svc: int
    doc: int
    day: str  # YYYYMMDD, the organization's local date
    page: int = 0


class ClosedDay(CallbackData, prefix="cd"):
    s: str


class SlotPick(CallbackData, prefix="sl"):
    s: str
    svc: int
    slot: int


class TakenSlot(CallbackData, prefix="tk"):
    s: str


class PageInfo(CallbackData, prefix="pg"):
    s: str


class ConsentAnswer(CallbackData, prefix="cn"):
    s: str
    ok: bool


class IdentityStep(CallbackData, prefix="id"):
    """Go to a step of identification: 0 = the consent/time choice, 1..3 = a prompt."""

    s: str
    step: int
