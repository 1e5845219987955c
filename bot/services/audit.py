"""The audit log of bookings: every change, by whom, from what to what, and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, Booking


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # "patient", "staff" or "system"
    telegram_id: int | None = None

    @classmethod
    def patient(cls, telegram_id: int | None) -> Actor:
        return cls("patient", telegram_id)

    @classmethod
    def staff(cls, telegram_id: int) -> Actor:
        return cls("staff", telegram_id)


def snapshot(booking: Booking, *, starts_at: datetime | None = None) -> dict[str, Any]:
    """JSON-safe state of a booking for the log (ids and ISO times, no personal data)."""
    state: dict[str, Any] = {
        "status": booking.status.value if booking.status else None,
        "slot_id": booking.slot_id,
        "confirmed": booking.confirmed_at is not None,
    }
    if starts_at is not None:
        state["starts_at"] = starts_at.isoformat()
    return state


def record(
    session: AsyncSession,
    *,
    booking: Booking,
    action: str,
    actor: Actor,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """Add an entry to the caller's transaction: the change and its record commit together."""
    session.add(
        AuditEntry(
            booking=booking,
            at=now,
            actor=actor.kind,
            actor_telegram_id=actor.telegram_id,
            action=action,
            before=before,
            after=after,
            reason=reason,
        )
    )


async def history(session: AsyncSession, *, booking_id: int) -> Sequence[AuditEntry]:
    return (
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.booking_id == booking_id)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
    ).all()
