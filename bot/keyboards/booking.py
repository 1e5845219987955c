from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import texts
from bot.keyboards.callbacks import (
    ClosedDay,
    ConsentAnswer,
    DayPick,
    DoctorPick,
    IdentityStep,
    OrgPick,
    PageInfo,
    ServicePick,
    SlotPick,
    TakenSlot,
    ToStart,
)
from bot.services.slots import DayView, SlotView
from db.models import Doctor, Organization, Service

DAYS_PER_ROW = 2
TIMES_PER_ROW = 4


def _start_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=texts.BTN_START, callback_data=ToStart().pack())


def _nav_row(back: str | None) -> list[InlineKeyboardButton]:
    row = [InlineKeyboardButton(text=texts.BTN_BACK, callback_data=back)] if back else []
    row.append(_start_button())
    return row


def start_only() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_start_button()]])


def book_button() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=texts.BTN_BOOK, callback_data=ToStart().pack())]
        ]
    )


def organizations(sid: str, orgs: Sequence[Organization]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for org in orgs:
        builder.row(
            InlineKeyboardButton(
                text=org.short_name, callback_data=OrgPick(s=sid, org=org.id).pack()
            )
        )
    return builder.as_markup()


def services(sid: str, items: Sequence[Service]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for service in items:
        builder.row(
            InlineKeyboardButton(
                text=service.name, callback_data=ServicePick(s=sid, svc=service.id).pack()
            )
        )
    builder.row(*_nav_row(ToStart().pack()))
    return builder.as_markup()


def doctor_label(doctor: Doctor) -> str:
    return f"{doctor.position} — {doctor.short_name}"


def doctors(
    sid: str, *, organization_id: int, service_id: int, items: Sequence[Doctor]
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for doctor in items:
        builder.row(
            InlineKeyboardButton(
                text=doctor_label(doctor),
                callback_data=DoctorPick(s=sid, svc=service_id, doc=doctor.id).pack(),
            )
        )
    builder.row(*_nav_row(OrgPick(s=sid, org=organization_id).pack()))
    return builder.as_markup()


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
        else:
            buttons.append(
                InlineKeyboardButton(
                    text=f"✖ {texts.day_label(view.day)}",
                    callback_data=ClosedDay(s=sid).pack(),
                )
            )
    rows = [buttons[i : i + DAYS_PER_ROW] for i in range(0, len(buttons), DAYS_PER_ROW)]
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
    pages = max(1, -(-len(items) // per_page))
    page = min(max(page, 0), pages - 1)
    chunk = items[page * per_page : (page + 1) * per_page]
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
    if pages > 1:
        day_key = f"{day:%Y%m%d}"
        paging = []
        if page > 0:
            paging.append(
                InlineKeyboardButton(
                    text=texts.BTN_PREV_PAGE,
                    callback_data=DayPick(
                        s=sid, svc=service_id, doc=doctor_id, day=day_key, page=page - 1
                    ).pack(),
                )
            )
        paging.append(
            InlineKeyboardButton(
                text=texts.PAGE_INFO.format(page=page + 1, pages=pages),
                callback_data=PageInfo(s=sid).pack(),
            )
        )
        if page < pages - 1:
            paging.append(
                InlineKeyboardButton(
                    text=texts.BTN_NEXT_PAGE,
                    callback_data=DayPick(
                        s=sid, svc=service_id, doc=doctor_id, day=day_key, page=page + 1
                    ).pack(),
                )
            )
        rows.append(paging)
    rows.append(_nav_row(DoctorPick(s=sid, svc=service_id, doc=doctor_id).pack()))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def consent(sid: str, *, back: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts.BTN_ACCEPT, callback_data=ConsentAnswer(s=sid, ok=True).pack()
                ),
                InlineKeyboardButton(
                    text=texts.BTN_DECLINE, callback_data=ConsentAnswer(s=sid, ok=False).pack()
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
                    text=texts.BTN_RETRY, callback_data=IdentityStep(s=sid, step=1).pack()
                )
            ],
            [_start_button()],
        ]
    )
