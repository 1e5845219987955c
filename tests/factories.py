"""Test data made through the real models, with sensible defaults."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.booking import new_ticket_number
from bot.services.visits import VisitRecord
from db.models import (
    AccountPatient,
    Booking,
    BookingStatus,
    Consent,
    Doctor,
    Organization,
    Patient,
    PatientDocument,
    Service,
    Slot,
    WorkingHours,
    full_name,
    short_name,
)

_seq = itertools.count(1)
T = TypeVar("T")


class Factory:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _save(self, obj: T) -> T:
        self.session.add(obj)
        await self.session.commit()
        return obj

    async def organization(self, **fields: object) -> Organization:
        n = next(_seq)
        defaults: dict[str, object] = {
            "code": f"org{n}",
            "name": f"Городская поликлиника № {n}",
            "short_name": f"Поликлиника № {n}",
            "address": "г. Москва, ул. Примерная, д. 1",
            "phone": "+7 (495) 000-00-00",
            "timezone": "Europe/Moscow",
        }
        return await self._save(Organization(**{**defaults, **fields}))

    async def service(self, org: Organization, **fields: object) -> Service:
        n = next(_seq)
        defaults: dict[str, object] = {"code": f"svc{n}", "name": f"Приём врача {n}"}
        return await self._save(Service(organization_id=org.id, **{**defaults, **fields}))

    async def doctor(
        self,
        org: Organization,
        *,
        hours: dict[int, tuple[time, time]],
        slot_minutes: int = 20,
        services: list[Service] | None = None,
        **fields: object,
    ) -> Doctor:
        n = next(_seq)
        defaults: dict[str, object] = {
            "code": f"doc{n}",
            "last_name": "Иванова",
            "first_name": "Анна",
            "middle_name": "Петровна",
            "position": "Врач-терапевт",
        }
        doctor = Doctor(organization_id=org.id, slot_minutes=slot_minutes, **{**defaults, **fields})
        doctor.hours = [
            WorkingHours(weekday=d, start_time=s, end_time=e) for d, (s, e) in hours.items()
        ]
        doctor.services = services if services is not None else [await self.service(org)]
        return await self._save(doctor)

    async def patient(
        self,
        *,
        oms: str = "7788899730000765",
        passport: str = "123456",
        birth_date: date = date(1985, 3, 14),
        **fields: object,
    ) -> Patient:
        defaults: dict[str, object] = {
            "last_name": "Петров",
            "first_name": "Пётр",
            "middle_name": "Петрович",
        }
        patient = Patient(oms_number=oms, birth_date=birth_date, **{**defaults, **fields})
        patient.documents = [PatientDocument(kind="passport", number=passport)]
        return await self._save(patient)

    async def booking(
        self,
        *,
        slot: Slot | None = None,
        slot_id: int | None = None,
        patient: Patient | None = None,
        status: BookingStatus = BookingStatus.ACTIVE,
    ) -> Booking:
        target = slot if slot is not None else await self.session.get(Slot, slot_id)
        assert target is not None
        doctor = await self.session.get(Doctor, target.doctor_id)
        assert doctor is not None
        await self.session.refresh(doctor, ["services"])
        if patient is None:
            n = next(_seq)
            patient = await self.patient(oms=f"{n:09d}", passport=f"{n:06d}")
        now = datetime.now(UTC)
        return await self._save(
            Booking(
                ticket_number=new_ticket_number(),
                slot_id=target.id,
                patient_id=patient.id,
                service_id=doctor.services[0].id,
                status=status,
                created_at=now,
                updated_at=now,
            )
        )

    async def remembered_accounts(
        self,
        *,
        user_ids: Sequence[int],
        organization_ids: Sequence[int],
        consent_version: str,
        now: datetime | None = None,
    ) -> dict[int, int]:
        """Accounts that book in one press: each with a registry patient of its own (made-up
        identity values, no document), remembered for it, and its consent to each of the
        organizations in `consent_version`. In bulk, for hundreds of accounts at once.
        Returns {user id: patient id}."""
        at = now if now is not None else datetime.now(UTC)
        first = next(_seq)
        patient_ids = (
            await self.session.scalars(
                insert(Patient).returning(Patient.id, sort_by_parameter_order=True),
                [
                    {
                        "last_name": "Пациентов",
                        "first_name": f"Пациент{n}",
                        "middle_name": None,
                        "birth_date": date(1970, 1, 1) + timedelta(days=n % 15_000),
                        "oms_number": f"9{first:07d}{n:08d}",
                    }
                    for n in range(len(user_ids))
                ],
            )
        ).all()
        pairs = dict(zip(user_ids, patient_ids, strict=True))
        await self.session.execute(
            insert(AccountPatient),
            [{"telegram_user_id": u, "patient_id": p, "created_at": at} for u, p in pairs.items()],
        )
        await self.session.execute(
            insert(Consent),
            [
                {
                    "telegram_user_id": u,
                    "organization_id": org,
                    "version": consent_version,
                    "accepted_at": at,
                }
                for u in user_ids
                for org in organization_ids
            ],
        )
        await self.session.commit()
        return pairs


def visit_record(**overrides: Any) -> VisitRecord:
    """A visit as `load_visit` reads it, without a database: an active booking in Moscow.

    Times are tz-aware UTC; `ends_at` follows an overridden `starts_at` (a 20-minute visit)
    unless given too. An unknown field name raises TypeError, so a typo cannot pass unnoticed.
    """
    starts_at: datetime = overrides.get("starts_at", datetime(2026, 12, 3, 5, 20, tzinfo=UTC))
    doctor = ("Иванова", "Анна", "Петровна")
    patient = ("Петров", "Пётр", "Петрович")
    defaults: dict[str, Any] = {
        "booking_id": 1,
        "ticket_number": "K7M2-QX9P",
        "status": BookingStatus.ACTIVE,
        "revision": 0,
        "confirmed_at": None,
        "slot_id": 1,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=20),
        "timezone": "Europe/Moscow",
        "organization_id": 1,
        "organization_code": "org1",
        "organization_name": "Городская поликлиника № 1",
        "organization_short_name": "Поликлиника № 1",
        "organization_address": "г. Москва, ул. Примерная, д. 1",
        "organization_phone": "+7 (495) 000-00-00",
        "doctor_id": 1,
        "doctor_full_name": full_name(*doctor),
        "doctor_short_name": short_name(*doctor),
        "doctor_position": "Врач-терапевт",
        "service_id": 1,
        "service_name": "Приём врача-терапевта",
        "patient_id": 1,
        "patient_full_name": full_name(*patient),
        "patient_short_name": short_name(*patient),
        "patient_oms_masked": "••••••••••••0765",
        "telegram_user_id": 1001,
        "telegram_chat_id": 1001,
    }
    return VisitRecord(**{**defaults, **overrides})
