"""The outbox: every message a change owes, as rows written in the change's own transaction.

A booking, a move or a cancellation and the messages it owes (the confirmation, the ticket,
the calendar file, a notice to another chat) commit together or not at all; then whoever
claims a row first sends it (bot/delivery/outbox.py): the update that owed it, right after
its commit, or the dispatcher, for what a crash, a 429 or a network error left behind.

A row's life: `pending` → claimed (`sending`, held by this instance: services/instances.py)
→ `sent`, or back to `pending` with a later `not_before` (429, network), or `failed` (the
chat blocked the bot, Telegram refused the message). A claim is a conditional update, so of
two senders only one wins. The one window for a duplicate: a process killed after Telegram
took a message and before the `sent` mark committed; such rows are taken back (at the next
start on SQLite, once the dead instance's lease ran out on PostgreSQL) with `resent` set.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.instances import held_by_the_dead, instance_id, only_instance
from db.models import HandledUpdate, OutboxMessage, OutboxState

# A new row is left to the update that owes it for this long: that update sends it right
# after its commit, and the dispatcher must not race it to the same message.
FRESH_GRACE = timedelta(seconds=30)


class NoticeKind(enum.StrEnum):
    """A message to a chat other than the one that acted."""

    CANCELLED_BY_OTHER = "cancelled_by_other"  # another account remembering the patient
    MOVED_BY_OTHER = "moved_by_other"
    CANCELLED_BY_REGISTRY = "cancelled_by_registry"
    MOVED_BY_REGISTRY = "moved_by_registry"
    # A closed day or time range: with the nearest free times that book in one press.
    CLOSED_BY_REGISTRY = "closed_by_registry"


@dataclass(frozen=True, slots=True)
class BookedOwed:
    """The confirmation of a new booking, in place of the screen that was pressed."""

    chat_id: int
    booking_id: int
    screen: int | None = None  # the pressed message's id; None: a new message


@dataclass(frozen=True, slots=True)
class TicketOwed:
    """The PDF ticket, rendered from the booking when it is sent."""

    chat_id: int
    booking_id: int


@dataclass(frozen=True, slots=True)
class CalendarOwed:
    """The .ics event, or its cancellation."""

    chat_id: int
    booking_id: int
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class NoticeOwed:
    chat_id: int
    booking_id: int
    kind: NoticeKind
    reason: str | None = None
    # Free times offered with a registry cancellation: (slot id, …).
    alternatives: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class OfferOwed:
    """A freed time offered to the first in the waitlist, held for them (services/waitlist.py);
    rendered from the offer when it is sent. About no booking yet."""

    chat_id: int
    offer_id: int
    booking_id: None = None


Owed = BookedOwed | TicketOwed | CalendarOwed | NoticeOwed | OfferOwed


def _kind_and_payload(item: Owed) -> tuple[str, dict[str, Any]]:
    match item:
        case BookedOwed(screen=screen):
            return "booked", {"screen": screen}
        case TicketOwed():
            return "ticket", {}
        case CalendarOwed(cancelled=cancelled):
            return "calendar", {"cancelled": cancelled}
        case NoticeOwed(kind=kind, reason=reason, alternatives=offered):
            return "notice", {"notice": kind.value, "reason": reason, "offer": list(offered)}
        case OfferOwed(offer_id=offer_id):
            return "waitlist", {"offer_id": offer_id}
    raise AssertionError(item)


def owed_of(row: OutboxMessage) -> Owed:
    """The message a row stands for (the inverse of `enqueue`)."""
    chat, booking, payload = row.chat_id, row.booking_id or 0, row.payload
    match row.kind:
        case "waitlist":
            return OfferOwed(chat, int(payload["offer_id"]))
        case "booked":
            return BookedOwed(chat, booking, payload.get("screen"))
        case "ticket":
            return TicketOwed(chat, booking)
        case "calendar":
            return CalendarOwed(chat, booking, cancelled=bool(payload.get("cancelled")))
        case "notice":
            return NoticeOwed(
                chat,
                booking,
                NoticeKind(payload["notice"]),
                reason=payload.get("reason"),
                alternatives=tuple(payload.get("offer") or ()),
            )
    raise ValueError(f"unknown outbox kind {row.kind!r}")


async def enqueue(
    session: AsyncSession, owed: Sequence[Owed], *, acting_chat: int | None, now: datetime
) -> tuple[int, ...]:
    """Add the rows in the caller's transaction (not committed); their ids, in order."""
    rows = []
    for item in owed:
        kind, payload = _kind_and_payload(item)
        rows.append(
            OutboxMessage(
                chat_id=item.chat_id,
                booking_id=item.booking_id,
                kind=kind,
                payload=payload,
                direct=item.chat_id == acting_chat,
                state=OutboxState.PENDING,
                created_at=now,
                not_before=now + FRESH_GRACE,
                attempts=0,
                resent=False,
            )
        )
    session.add_all(rows)
    await session.flush()
    return tuple(row.id for row in rows)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row this sender now owns, detached from the session."""

    id: int
    owed: Owed
    direct: bool
    attempts: int


async def claim(session: AsyncSession, *, ids: Sequence[int]) -> list[Claimed]:
    """pending → sending, held by this instance, for those of `ids` still pending, committed;
    in id order."""
    if not ids:
        return []
    claimed = (
        await session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.state == OutboxState.PENDING)
            .values(state=OutboxState.SENDING, claimed_by=instance_id())
            .returning(OutboxMessage)
        )
    ).all()
    result = [
        Claimed(id=row.id, owed=owed_of(row), direct=row.direct, attempts=row.attempts)
        for row in claimed
    ]
    await session.commit()
    return sorted(result, key=lambda c: c.id)


@dataclass(frozen=True, slots=True)
class Waiting:
    """A pending row, not claimed yet: what its sender needs to pace it."""

    id: int
    chat_id: int
    direct: bool


_WAITING = select(OutboxMessage.id, OutboxMessage.chat_id, OutboxMessage.direct).where(
    OutboxMessage.state == OutboxState.PENDING
)


async def waiting(session: AsyncSession, *, ids: Sequence[int]) -> list[Waiting]:
    """Those of `ids` still pending, in id order."""
    found = await session.execute(
        _WAITING.where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
    )
    return [Waiting(*row) for row in found]


async def due(session: AsyncSession, *, now: datetime, limit: int) -> list[Waiting]:
    """Pending rows whose time has come, oldest first."""
    found = await session.execute(
        _WAITING.where(OutboxMessage.not_before <= now).order_by(OutboxMessage.id).limit(limit)
    )
    return [Waiting(*row) for row in found]


async def due_at(session: AsyncSession, *, ids: Sequence[int], at: datetime) -> None:
    """Pending rows due at `at`; committed."""
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.state == OutboxState.PENDING)
            .values(not_before=at)
        )
        await session.commit()


async def hold_behind(session: AsyncSession, *, first: int, ids: Sequence[int]) -> None:
    """A chat's later rows due when its earlier row `first` (to be retried) is: they go out
    after it, in order, not before; committed."""
    if ids:
        when = select(OutboxMessage.not_before).where(OutboxMessage.id == first)
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.state == OutboxState.PENDING)
            .values(not_before=when.scalar_subquery())
        )
        await session.commit()


async def mark_sent(session: AsyncSession, *, row_id: int, now: datetime) -> None:
    await _finish(session, row_id, state=OutboxState.SENT, sent_at=now, last_error=None)


async def mark_failed(session: AsyncSession, *, row_id: int, error: str) -> None:
    await _finish(session, row_id, state=OutboxState.FAILED, last_error=error[:500])


async def retry_at(
    session: AsyncSession, *, row_id: int, at: datetime, error: str, count_attempt: bool
) -> None:
    """Back to pending, due at `at`; a 429 does not count as an attempt."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.state == OutboxState.SENDING)
        .values(
            state=OutboxState.PENDING,
            not_before=at,
            claimed_by=None,
            last_error=error[:500],
            attempts=OutboxMessage.attempts + (1 if count_attempt else 0),
        )
    )
    await session.commit()


async def _finish(session: AsyncSession, row_id: int, *, state: OutboxState, **values: Any) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.state == OutboxState.SENDING)
        .values(state=state, claimed_by=None, **values)
    )
    await session.commit()


async def take_back(
    session: AsyncSession, *, now: datetime, lease: timedelta, at_start: bool
) -> tuple[int, int]:
    """Rows a dead sender left: claimed ones back to pending (marked `resent`: Telegram may
    have them), and, at a start, fresh ones due now rather than after the grace left to an
    update that died with its process. (taken back, made due).

    Dead: its instance has not been seen for `lease`; at a start on SQLite (one instance),
    whoever held a row is gone.
    """
    claimed = OutboxMessage.state == OutboxState.SENDING
    if not (at_start and only_instance(session)):
        claimed &= held_by_the_dead(OutboxMessage.claimed_by, lease=lease)
    taken = await session.execute(
        update(OutboxMessage)
        .where(claimed)
        .values(state=OutboxState.PENDING, claimed_by=None, resent=True, not_before=now)
    )
    made_due = 0
    if at_start:
        fresh = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.not_before > now)
            .where(OutboxMessage.attempts == 0)
            .values(not_before=now)
        )
        made_due = int(getattr(fresh, "rowcount", 0) or 0)
    await session.commit()
    return int(getattr(taken, "rowcount", 0) or 0), made_due


async def purge(session: AsyncSession, *, before: datetime) -> None:
    """Sent rows and handled-update records older than `before` (Telegram redelivers an
    update for a day at most)."""
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.state == OutboxState.SENT, OutboxMessage.sent_at < before
        )
    )
    await session.execute(delete(HandledUpdate).where(HandledUpdate.handled_at < before))
    await session.commit()
