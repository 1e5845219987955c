"""The ORM models, one module per concern; import them from here.

Every module is imported below, so all tables are on ``Base.metadata`` (which Alembic and the
schema test read) and every relationship target is in the registry before mappers configure.

* ``base``: the declarative base, its naming convention and shared helpers;
* ``catalog``: organizations, services, doctors, working hours, slots, closures;
* ``patients``: patients and their documents;
* ``bookings``: bookings, reminders and the audit trail;
* ``accounts``: Telegram chats and accounts, consents, identification failures, staff,
  FSM storage and the installation record;
* ``instances``: the running bot processes and when each was last seen;
* ``outbox``: messages owed with a change, and the updates already handled;
* ``reference``: the stamp an import increments, so running bots reload their cache.
"""

from __future__ import annotations

from db.models.accounts import (
    AccountPatient,
    Consent,
    FsmRecord,
    IdentityFailure,
    Installation,
    StaffMember,
    StaffRole,
    TelegramChat,
)
from db.models.base import NAMING_CONVENTION as NAMING_CONVENTION
from db.models.base import Base
from db.models.base import full_name as full_name
from db.models.base import short_name as short_name
from db.models.bookings import AuditEntry, Booking, BookingStatus, Reminder, ReminderState
from db.models.catalog import (
    Closure,
    Doctor,
    Organization,
    Service,
    Slot,
    WorkingHours,
    doctor_services,
    room_on,
)
from db.models.instances import Instance
from db.models.outbox import HandledUpdate, OutboxMessage, OutboxState
from db.models.patients import Patient, PatientDocument
from db.models.reference import ReferenceStamp
from db.models.waitlist import (
    OfferState,
    SlotOffer,
    WaitBreach,
    WaitlistEntry,
    WaitlistState,
)

__all__ = [
    "AccountPatient",
    "AuditEntry",
    "Base",
    "Booking",
    "BookingStatus",
    "Closure",
    "Consent",
    "Doctor",
    "FsmRecord",
    "HandledUpdate",
    "IdentityFailure",
    "Installation",
    "Instance",
    "OfferState",
    "Organization",
    "OutboxMessage",
    "OutboxState",
    "Patient",
    "PatientDocument",
    "ReferenceStamp",
    "Reminder",
    "ReminderState",
    "Service",
    "Slot",
    "SlotOffer",
    "StaffMember",
    "StaffRole",
    "TelegramChat",
    "WaitBreach",
    "WaitlistEntry",
    "WaitlistState",
    "WorkingHours",
    "doctor_services",
    "room_on",
]
