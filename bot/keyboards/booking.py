from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TypeVar
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.i18n import t
from bot.keyboards.callbacks import (
    ClosedDay,
    ConsentAnswer,
    DayPick,
    DoctorPick,
    IdentityStep,
    MyBookings,
    OrgList,
    OrgPick,
    PageInfo,
    PatientPick,
    RememberPatient,
    ServicePick,
    SlotPick,
    TakenSlot,
    ToStart,
    WaitJoin,
)
from bot.services.catalog import DoctorRef, OrganizationRef, ServiceRef
from bot.services.districts import DistrictDoctor
from bot.services.payment import payment_text
from bot.services.slots import DayView, SlotView
from db.models import Patient

DAYS_PER_ROW = 2
LIST_PAGE_SIZE = 8
T = TypeVar("T")
TIMES_PER_ROW = 4


def _start_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=t("btn-start"), callback_data=ToStart().pack())


def _nav_row(back: str | None) -> list[InlineKeyboardButton]:
    row = [InlineKeyboardButton(text=t("btn-back"), callback_data=back)] if back else []
    row.append(_start_button())
    return row


def start_only() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_start_button()]])


def district_doctors(
    sid: str, *, service_id: int, doctors: Sequence[DistrictDoctor]
) -> InlineKeyboardMarkup:
    """After a refusal for another district: the patient's own district's doctors."""
    rows = [
        [
            InlineKeyboardButton(
                text=f"{doctor.position} — {doctor.short_name}",
                callback_data=DoctorPick(s=sid, svc=service_id, doc=doctor.doctor_id).pack(),
            )
        ]
        for doctor in doctors
    ]
    return InlineKeyboardMarkup(inline_keyboard=[*rows, [_start_button()]])


def book_button() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t("btn-book"), callback_data=ToStart().pack())]]
    )


def _paged(items: Sequence[T], page: int, per_page: int) -> tuple[Sequence[T], int, int]:
    """The page's items, the page number clamped into range, and the page count."""
    pages = max(1, -(-len(items) // per_page))
    page = min(max(page, 0), pages - 1)
    return items[page * per_page : (page + 1) * per_page], page, pages


def _paging_row(
    sid: str, *, page: int, pages: int, goto: Callable[[int], str]
) -> list[InlineKeyboardButton]:
    if pages <= 1:
        return []
    row = []
    if page > 0:
        row.append(InlineKeyboardButton(text=t("btn-prev-page"), callback_data=goto(page - 1)))
    row.append(
        InlineKeyboardButton(
            text=t("page-info", page=page + 1, pages=pages),
            callback_data=PageInfo(s=sid).pack(),
        )
    )
    if page < pages - 1:
        row.append(InlineKeyboardButton(text=t("btn-next-page"), callback_data=goto(page + 1)))
    return row


def _list(
    sid: str,
    buttons: Sequence[InlineKeyboardButton],
    *,
    page: int,
    goto: Callable[[int], str],
    back: str | None,
    nav: bool = True,
) -> InlineKeyboardMarkup:
    chunk, page, pages = _paged(buttons, page, LIST_PAGE_SIZE)
    rows = [[button] for button in chunk]
    if paging := _paging_row(sid, page=page, pages=pages, goto=goto):
        rows.append(paging)
    if nav:
        rows.append(_nav_row(back))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def organizations(
    sid: str, orgs: Sequence[OrganizationRef], *, page: int = 0
) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(text=org.short_name, callback_data=OrgPick(s=sid, org=org.id).pack())
        for org in orgs
    ]
    # The start screen is the top: no «Назад», and «В начало» would only repeat it.
    markup = _list(
        sid, buttons, page=page, goto=lambda p: OrgList(s=sid, page=p).pack(), back=None, nav=False
    )
    markup.inline_keyboard.append(
        [InlineKeyboardButton(text=t("btn-my-bookings"), callback_data=MyBookings().pack())]
    )
    return markup


def service_label(service: ServiceRef) -> str:
    """A paid service says so and its price on its button; the screen says the rest are free."""
    if not service.paid:
        return service.name
    return f"{service.name} — {payment_text(paid=True, price=service.price)}"


def services(
    sid: str, *, organization_id: int, items: Sequence[ServiceRef], page: int = 0
) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=service_label(service), callback_data=ServicePick(s=sid, svc=service.id).pack()
        )
        for service in items
    ]
    return _list(
        sid,
        buttons,
        page=page,
        goto=lambda p: OrgPick(s=sid, org=organization_id, page=p).pack(),
        back=OrgList(s=sid).pack(),
    )


def doctor_label(doctor: DoctorRef, *, by_district: bool = False) -> str:
    """«Врач-терапевт — Иванова А. П.»; for a district service also «· участок 5», so that a
    patient who knows their district picks their own doctor."""
    label = f"{doctor.position} — {doctor.short_name}"
    if by_district and doctor.district:
        label += " · " + t("district-label", district=doctor.district)
    return label


def doctors(
    sid: str,
    *,
    organization_id: int,
    service_id: int,
    items: Sequence[DoctorRef],
    page: int = 0,
    by_district: bool = False,
) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=doctor_label(doctor, by_district=by_district),
            callback_data=DoctorPick(s=sid, svc=service_id, doc=doctor.id).pack(),
        )
        for doctor in items
    ]
    return _list(
        sid,
        buttons,
        page=page,
        goto=lambda p: ServicePick(s=sid, svc=service_id, page=p).pack(),
        back=OrgPick(s=sid, org=organization_id).pack(),
    )


def days(
    sid: str, *, service_id: int, doctor_id: int, items: Sequence[DayView]
) -> InlineKeyboardMarkup:
    buttons = []
    for view in items:
        if view.is_open and view.hours is not None:
            buttons.append(
                InlineKeyboardButton(
                    text=f"{texts.day_label(view.day)} · {texts.hours_label(view.hours)}",
                    callback_data=DayPick(
                        s=sid, svc=service_id, doc=doctor_id, day=f"{view.day:%Y%m%d}"
                    ).pack(),
                )
            )
        elif view.hours is not None:
            # A working day with every time taken: pressed, it offers the waitlist for it.
            full = WaitJoin(s=sid, svc=service_id, doc=doctor_id, day=f"{view.day:%Y%m%d}")
            buttons.append(
                InlineKeyboardButton(
                    text=f"✖ {texts.day_label(view.day)}", callback_data=full.pack()
                )
            )
        else:
            buttons.append(
                InlineKeyboardButton(
                    text=f"✖ {texts.day_label(view.day)}",
                    callback_data=ClosedDay(s=sid).pack(),
                )
            )
    rows = [buttons[i : i + DAYS_PER_ROW] for i in range(0, len(buttons), DAYS_PER_ROW)]
    # A full horizon, or a time earlier than the first free one: the waitlist.
    rows.append(
        [
            InlineKeyboardButton(
                text=t("btn-waitlist"),
                callback_data=WaitJoin(s=sid, svc=service_id, doc=doctor_id).pack(),
            )
        ]
    )
    rows.append(_nav_row(ServicePick(s=sid, svc=service_id).pack()))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def times(
    sid: str,
    *,
    service_id: int,
    doctor_id: int,
    day: date,
    items: Sequence[SlotView],
    tz: ZoneInfo,
    page: int,
    per_page: int,
) -> InlineKeyboardMarkup:
    chunk, page, pages = _paged(items, page, per_page)
    buttons = []
    for slot in chunk:
        label = f"{slot.starts_at.astimezone(tz):%H:%M}"
        if slot.is_free:
            buttons.append(
                InlineKeyboardButton(
                    text=label, callback_data=SlotPick(s=sid, svc=service_id, slot=slot.id).pack()
                )
            )
        else:
            buttons.append(
                InlineKeyboardButton(text=f"✖ {label}", callback_data=TakenSlot(s=sid).pack())
            )
    rows = [buttons[i : i + TIMES_PER_ROW] for i in range(0, len(buttons), TIMES_PER_ROW)]
    day_key = f"{day:%Y%m%d}"
    paging = _paging_row(
        sid,
        page=page,
        pages=pages,
        goto=lambda p: DayPick(s=sid, svc=service_id, doc=doctor_id, day=day_key, page=p).pack(),
    )
    if paging:
        rows.append(paging)
    rows.append(_nav_row(DoctorPick(s=sid, svc=service_id, doc=doctor_id).pack()))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def consent(sid: str, *, back: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t("btn-accept"), callback_data=ConsentAnswer(s=sid, ok=True).pack()
                ),
                InlineKeyboardButton(
                    text=t("btn-decline"), callback_data=ConsentAnswer(s=sid, ok=False).pack()
                ),
            ],
            _nav_row(back),
        ]
    )


def identity_prompt(sid: str, *, back_step: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[_nav_row(IdentityStep(s=sid, step=back_step).pack())]
    )


def login_failed(sid: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t("btn-retry"), callback_data=IdentityStep(s=sid, step=1).pack()
                )
            ],
            [_start_button()],
        ]
    )


def remember(booking_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t("btn-remember"), callback_data=RememberPatient(b=booking_id).pack()
                )
            ]
        ]
    )


def who_is_patient(sid: str, patients: Sequence[Patient], *, back: str) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=patient.full_name, callback_data=PatientPick(s=sid, p=patient.id).pack()
            )
        ]
        for patient in patients
    ]
    rows.append(
        [
            InlineKeyboardButton(
                text=t("btn-other-patient"), callback_data=PatientPick(s=sid, p=0).pack()
            )
        ]
    )
    rows.append(_nav_row(back))
    return InlineKeyboardMarkup(inline_keyboard=rows)
