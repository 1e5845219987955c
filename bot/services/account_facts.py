"""What every update needs to know about its account, read in one statement.

Each update of the bot needs five facts before any handler runs: whether the update was
handled already (a redelivery), the language the account reads, whether it is a registry
staff member, where its dialogue stands, and the version of the reference data cached in
memory. Read one by one they cost five round trips to the
database (each several hundred microseconds through the async driver), more than the rest
of a click; here they are scalar subqueries of a single SELECT, each a primary-key lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    FsmRecord,
    HandledUpdate,
    ReferenceStamp,
    StaffMember,
    StaffRole,
    TelegramChat,
)


@dataclass(frozen=True, slots=True)
class StoredDialogue:
    """The dialogue record as stored (its expiry is the FSM storage's business)."""

    state: str | None
    data: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AccountFacts:
    language: str | None  # None: never seen (first contact)
    staff_role: StaffRole | None  # a staff_members row; config admins have none
    staff_codes: tuple[str, ...]
    dialogue: StoredDialogue | None  # None: no record under the update's dialogue key
    reference_version: int  # the stamp of organizations, services and doctors
    handled: bool = False  # the update's effects are committed already: a redelivery


def _facts_statement() -> Any:
    def of_chat(column: Any) -> Any:
        return select(column).where(TelegramChat.chat_id == bindparam("user")).scalar_subquery()

    def of_member(column: Any) -> Any:
        condition = StaffMember.telegram_user_id == bindparam("user")
        return select(column).where(condition).scalar_subquery()

    def of_dialogue(column: Any) -> Any:
        return select(column).where(FsmRecord.key == bindparam("key")).scalar_subquery()

    return select(
        of_chat(TelegramChat.language),
        of_member(StaffMember.role),
        of_member(StaffMember.organization_codes),
        of_dialogue(FsmRecord.updated_at),
        of_dialogue(FsmRecord.state),
        of_dialogue(FsmRecord.data),
        select(ReferenceStamp.version).where(ReferenceStamp.id == 1).scalar_subquery(),
        exists().where(HandledUpdate.update_id == bindparam("update")),
    )


# Built once, with bound parameters: building the statement and its cache key for every
# update cost as much as running it (measured: 1.13 ms against 0.59 ms per update).
_FACTS = _facts_statement()


async def load_facts(
    session: AsyncSession, *, user_id: int, dialogue_key: str | None, update_id: int = -1
) -> AccountFacts:
    parameters = {"user": user_id, "key": dialogue_key or "", "update": update_id}
    row = (await session.execute(_FACTS, parameters)).one()
    language, role, codes, updated_at, state, data, reference_version, handled = row
    dialogue = (
        StoredDialogue(state=state, data=dict(data or {}), updated_at=updated_at)
        if dialogue_key is not None and updated_at is not None
        else None
    )
    return AccountFacts(
        language=language,
        staff_role=role,
        staff_codes=tuple(codes or ()),
        dialogue=dialogue,
        reference_version=int(reference_version or 0),
        handled=bool(handled),
    )
