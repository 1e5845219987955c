"""Callback data of every button. `s` ties a button to one booking dialogue (see handlers)."""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# Forged data may carry any number; out-of-range values fail to unpack and so never match.
Id = Annotated[int, Field(ge=1, lt=2**31)]
Page = Annotated[int, Field(ge=0, lt=1000)]


class ToStart(CallbackData, prefix="st"):
    pass


class OrgList(CallbackData, prefix="ol"):
    s: str
    page: Page = 0


class OrgPick(CallbackData, prefix="o"):
    s: str
    org: Id
    page: Page = 0  # of the organization's services


class ServicePick(CallbackData, prefix="sv"):
    s: str
    svc: Id
    page: Page = 0  # of the service's doctors


class DoctorPick(CallbackData, prefix="dr"):
    s: str
    svc: Id
    doc: Id


class DayPick(CallbackData, prefix="dy"):
    s: str
    svc: Id
    doc: Id
    day: Annotated[str, Field(pattern=r"^\d{8}$")]  # the organization's local date
    page: Page = 0


class ClosedDay(CallbackData, prefix="cd"):
    s: str


class SlotPick(CallbackData, prefix="sl"):
    s: str
    svc: Id
    slot: Id


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
    step: Annotated[int, Field(ge=0, le=3)]


class ReminderAction(CallbackData, prefix="rm"):
    """A button on a reminder; `sl` pins the time it was sent for, so a moved booking's old
    reminder cannot act on the new time."""

    b: Id
    sl: Id
    a: Annotated[str, Field(pattern="^(ok|x|mv|xy|xn)$")]


class MyBookings(CallbackData, prefix="my"):
    page: Page = 0


class MyBooking(CallbackData, prefix="mb"):
    """An action on one of the account's bookings; ownership is checked on every press."""

    b: Id
    sl: Id
    a: Annotated[str, Field(pattern="^(show|pdf|ics|mv|x|xy)$")]


class RememberPatient(CallbackData, prefix="rp"):
    """Offered under a booking just made: remembers that booking's patient."""

    b: Id


class MyPatients(CallbackData, prefix="pl"):
    pass


class ForgetPatient(CallbackData, prefix="fp"):
    p: Id


class PatientPick(CallbackData, prefix="pp"):
    """Who the booking is for: a remembered patient, or 0 for someone else (the prompts)."""

    s: str
    p: Annotated[int, Field(ge=0, lt=2**31)]


class Withdraw(CallbackData, prefix="wd"):
    ok: bool
    # The organization whose consent is withdrawn; 0: every consent of the account.
    o: int = Field(default=0, ge=0, lt=2**31)


class AddPatient(CallbackData, prefix="ap"):
    pass


class StaffCancel(CallbackData, prefix="sc"):
    """Staff: cancel a booking; `step` 0 asks the reason, 1 confirms, 2 keeps the booking."""

    b: Id
    step: Annotated[int, Field(ge=0, le=2)] = 0


class StaffClose(CallbackData, prefix="cl"):
    """Confirms the closure kept in the staff member's dialogue data, matched by `n`."""

    ok: bool
    n: str


class AltBook(CallbackData, prefix="ab"):
    """An alternative offered after the registry cancelled booking `b`: book slot `sl`."""

    b: Id
    sl: Id


class StaffMove(CallbackData, prefix="sm"):
    """Staff: move booking `b`; with `sl` set, confirm the move to that slot (0: keep)."""

    b: Id
    sl: Annotated[int, Field(ge=0, lt=2**31)] = 0
    ok: bool = False


class WaitJoin(CallbackData, prefix="wj"):
    """«Сообщить, когда появится время» on a doctor's days: `go` 0 asks this doctor or any
    doctor of the service (`any`), 1 joins."""

    s: str
    svc: Id
    doc: Id
    # A full day pressed (YYYYMMDD): wait for a time on that day only; empty: any day.
    day: Annotated[str, Field(pattern=r"^(\d{8})?$")] = ""
    any: Annotated[int, Field(ge=0, le=1)] = 0
    go: Annotated[int, Field(ge=0, le=1)] = 0


class OfferAction(CallbackData, prefix="wo"):
    """On a waitlist offer: take (`t`) the held time, or pass it on (`n`)."""

    o: Id
    a: Annotated[str, Field(pattern="^(t|n)$")]


class WaitLeave(CallbackData, prefix="wl"):
    """«Отказаться» from a waitlist entry (listed in «Мои записи»)."""

    e: Id


# Buttons of one booking dialogue: each carries the dialogue's id `s`, and `InSession` lets
# one through only while that dialogue is the chat's current one. Listed here, not inferred
# from a field's position, so a new button type is bound only where it is declared.
SESSION_BOUND: tuple[type[CallbackData], ...] = (
    OrgList,
    OrgPick,
    ServicePick,
    DoctorPick,
    DayPick,
    ClosedDay,
    SlotPick,
    TakenSlot,
    PageInfo,
    ConsentAnswer,
    IdentityStep,
    PatientPick,
    WaitJoin,
)
