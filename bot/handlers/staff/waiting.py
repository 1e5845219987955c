"""Staff /waiting: where patients wait. Per service of the staff member's organizations: how
many accounts are on the waitlist, and the cases of the last week in which a patient found no
OMS time within the state's guaranteed waiting time, so the registry can open extra time."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Count, t
from bot.services import catalog
from bot.services.clock import Clock
from bot.services.dates import local_when
from bot.services.guarantee import recent_breaches
from bot.services.staff.access import StaffAccess
from bot.services.waitlist import waiting_counts
from bot.texts import esc

# The registry looks back a week: long enough to see a pattern, short enough to be current.
LOOK_BACK = timedelta(days=7)


async def cmd_waiting(
    message: Message, session: AsyncSession, access: StaffAccess, clock: Clock
) -> None:
    now = clock.now()
    services = {
        service.id: service
        for org in await catalog.list_organizations(session)
        if access.may_see(org.code)
        for service in await catalog.list_services(session, organization_id=org.id)
    }
    waiting = await waiting_counts(session, now=now)
    breaches = await recent_breaches(session, service_ids=list(services), since=now - LOOK_BACK)
    lines = [t("staff-waiting-title")]
    for service_id, cases, first_free, limit in breaches:
        service = services[service_id]
        first = (
            local_when(first_free, service.organization.timezone)
            if first_free is not None
            else t("guarantee-none")
        )
        lines.append(
            t(
                "staff-waiting-breach",
                org=esc(service.organization.short_name),
                service=esc(service.name),
                cases=Count(cases),
                limit=esc(limit),
                first=first,
            )
        )
    for service_id, count in sorted(waiting.items()):
        if service_id in services:
            service = services[service_id]
            lines.append(
                t(
                    "staff-waiting-line",
                    org=esc(service.organization.short_name),
                    service=esc(service.name),
                    count=Count(count),
                )
            )
    if len(lines) == 1:
        lines.append(t("staff-waiting-none"))
    await message.answer("\n".join(lines))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_waiting, Command("waiting"))
    return router
