"""Who the registry staff are and what they may see; the admins' list of registrars."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Organization, StaffMember, StaffRole


@dataclass(frozen=True, slots=True)
class StaffAccess:
    telegram_user_id: int
    role: StaffRole
    organization_codes: tuple[str, ...]  # empty: every organization

    @property
    def is_admin(self) -> bool:
        return self.role is StaffRole.ADMIN

    def may_see(self, organization_code: str) -> bool:
        return not self.organization_codes or organization_code in self.organization_codes


def access_from(
    *,
    telegram_user_id: int,
    admins: Iterable[int],
    role: StaffRole | None,
    organization_codes: Sequence[str],
) -> StaffAccess | None:
    """Admins come from the config; everyone else from their staff_members row, if any."""
    if telegram_user_id in set(admins):
        return StaffAccess(telegram_user_id, StaffRole.ADMIN, ())
    if role is None:
        return None
    return StaffAccess(telegram_user_id, role, tuple(organization_codes))


StaffErrorValue = str | int | bool | tuple[str, ...]


class StaffError(ValueError):
    """A staff command that cannot be carried out: a code and its values, which the handler
    renders for the staff member in their language (catalogue key `staff-error-<code>`, in
    bot/locales/<language>/staff_errors.ftl). The values are as typed: escape them to show."""

    def __init__(self, code: str, /, **params: StaffErrorValue) -> None:
        super().__init__(code, params)
        self.code = code
        self.params: dict[str, StaffErrorValue] = params


# A registrar works at one or a few polyclinics; one with no codes sees them all. The bound keeps
# the command and its answer short (800 codes once broke Telegram's message limit).
MAX_ORGANIZATION_CODES: Final = 10
# Unknown codes named back in an error: a few, each cut, whatever was typed.
_CODES_SHOWN: Final = 3
_CODE_SHOWN_LENGTH: Final = 20


def _unknown_organizations(codes: Sequence[str]) -> StaffError:
    shown = tuple(
        code if len(code) <= _CODE_SHOWN_LENGTH else f"{code[:_CODE_SHOWN_LENGTH]}…"
        for code in codes[:_CODES_SHOWN]
    )
    return StaffError("unknown-organizations", codes=shown, more=len(codes) > _CODES_SHOWN)


async def add_member(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    organization_codes: Sequence[str],
    added_by: int,
    now: datetime,
) -> StaffMember:
    known = set(await session.scalars(select(Organization.code)))
    unknown = [code for code in organization_codes if code not in known]
    if unknown:
        raise _unknown_organizations(unknown)
    member = await session.get(StaffMember, telegram_user_id)
    if member is None:
        member = StaffMember(telegram_user_id=telegram_user_id, role=StaffRole.REGISTRAR)
        session.add(member)
    member.organization_codes = list(organization_codes)
    member.added_by = added_by
    member.added_at = now
    await session.flush()
    return member


async def remove_member(session: AsyncSession, *, telegram_user_id: int) -> bool:
    result = await session.execute(
        delete(StaffMember).where(StaffMember.telegram_user_id == telegram_user_id)
    )
    return bool(getattr(result, "rowcount", 0))


async def members(session: AsyncSession) -> Sequence[StaffMember]:
    return (await session.scalars(select(StaffMember).order_by(StaffMember.added_at))).all()
