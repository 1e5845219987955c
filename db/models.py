from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Time,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


def _text_enum(enum_cls: type[enum.StrEnum]) -> Enum:
    """A plain string column of the enum's values: portable, and readable in the database."""
    return Enum(
        enum_cls,
        native_enum=False,
        length=16,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


def full_name(last: str, first: str, middle: str | None) -> str:
    """«Фамилия Имя Отчество», for rows read without the ORM too."""
    return " ".join(p for p in (last, first, middle) if p)


def short_name(last: str, first: str, middle: str | None) -> str:
    """«Фамилия И. О.»."""
    initials = "".join(f" {p[0]}." for p in (first, middle) if p)
    return f"{last}{initials}"


class BookingStatus(enum.StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(300))
    phone: Mapped[str] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64))

    services: Mapped[list[Service]] = relationship(back_populates="organization")
    doctors: Mapped[list[Doctor]] = relationship(back_populates="organization")


doctor_services = Table(
    "doctor_services",
    Base.metadata,
    Column("doctor_id", ForeignKey("doctors.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
)


class Service(Base):
    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))

    organization: Mapped[Organization] = relationship(back_populates="services")
    doctors: Mapped[list[Doctor]] = relationship(
        secondary=doctor_services, back_populates="services"
    )


class Doctor(Base):
    __tablename__ = "doctors"
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    code: Mapped[str] = mapped_column(String(64))
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    position: Mapped[str] = mapped_column(String(200))
    slot_minutes: Mapped[int] = mapped_column(Integer)

    organization: Mapped[Organization] = relationship(back_populates="doctors")
    services: Mapped[list[Service]] = relationship(
        secondary=doctor_services, back_populates="doctors"
    )
    hours: Mapped[list[WorkingHours]] = relationship(
        back_populates="doctor", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return full_name(self.last_name, self.first_name, self.middle_name)

    @property
    def short_name(self) -> str:
        return short_name(self.last_name, self.first_name, self.middle_name)


class WorkingHours(Base):
    """A weekly rule: on `weekday` (0 = Monday) the doctor receives from `start` to `end`."""

    __tablename__ = "working_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_time < end_time", name="start_before_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)

    doctor: Mapped[Doctor] = relationship(back_populates="hours")


class Slot(Base):
    __tablename__ = "slots"
    __table_args__ = (UniqueConstraint("doctor_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # False once the weekly rules no longer produce this slot but a booking still refers to it.
    is_open: Mapped[bool] = mapped_column(default=True, server_default=true())

    doctor: Mapped[Doctor] = relationship()


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    oms_number: Mapped[str] = mapped_column(String(16), unique=True)

    documents: Mapped[list[PatientDocument]] = relationship(
        back_populates="patient", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return full_name(self.last_name, self.first_name, self.middle_name)

    @property
    def short_name(self) -> str:
        return short_name(self.last_name, self.first_name, self.middle_name)


class PatientDocument(Base):
    __tablename__ = "patient_documents"
    __table_args__ = (
        UniqueConstraint("patient_id", "kind", "number"),
        Index("ix_patient_documents_number", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(32))

    patient: Mapped[Patient] = relationship(back_populates="documents")


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        # The database, not only the code, guarantees one active booking per slot.
        Index(
            "uq_bookings_active_slot",
            "slot_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_bookings_patient_status", "patient_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(16), unique=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    status: Mapped[BookingStatus] = mapped_column(
        _text_enum(BookingStatus),
        default=BookingStatus.ACTIVE,
    )
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger)
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    # «Подтверждаю» pressed on a reminder; staff see it.
    confirmed_at: Mapped[datetime | None]
    # After the registry cancelled this booking: the one the patient took among the offered
    # alternatives (so an offer is taken only once).
    rebooked_as_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    # Bumped on every change (the SEQUENCE of the booking's calendar event). It is also the
    # mapper's version counter: of two changes racing on one booking, the second one's UPDATE
    # finds the row changed and fails instead of overwriting it.
    revision: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    slot: Mapped[Slot] = relationship()
    patient: Mapped[Patient] = relationship()
    service: Mapped[Service] = relationship()
    reminders: Mapped[list[Reminder]] = relationship(
        back_populates="booking", cascade="all, delete-orphan"
    )

    # Declared as SQLAlchemy expects; the declarative base already types it.
    __mapper_args__ = {  # noqa: RUF012
        "version_id_col": revision,
        "version_id_generator": lambda current: 0 if current is None else current + 1,
    }


class ReminderState(enum.StrEnum):
    PLANNED = "planned"
    SENDING = "sending"  # claimed by a dispatcher; the send is in flight
    SENT = "sent"
    FAILED = "failed"  # gave up after retries; last_error says why
    DROPPED = "dropped"  # could no longer be sent before the visit
    CANCELLED = "cancelled"  # the booking was cancelled or moved


class Reminder(Base):
    """One reminder of one booking, planned when the booking is made or moved."""

    __tablename__ = "reminders"
    __table_args__ = (
        # No uniqueness on (booking, label): a move plans new rows for the same labels, and a
        # move back may land on the same moment; the old rows stay, cancelled, as history.
        Index("ix_reminders_booking", "booking_id"),
        Index("ix_reminders_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    state: Mapped[ReminderState] = mapped_column(
        _text_enum(ReminderState),
        default=ReminderState.PLANNED,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]

    booking: Mapped[Booking] = relationship(back_populates="reminders")


class TelegramChat(Base):
    """What the bot knows about a chat it writes to on its own (reminders, notifications)."""

    __tablename__ = "telegram_chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # Set on 403 (bot blocked, user deactivated): nothing more is sent there.
    unreachable_at: Mapped[datetime | None]
    # The language the account reads ("ru", "en"): Telegram's at first contact, then its
    # choice (/language). A private chat's id is its user's id.
    language: Mapped[str | None] = mapped_column(String(8))


class AccountPatient(Base):
    """A patient remembered for a Telegram account («Запомнить пациента»)."""

    __tablename__ = "account_patients"
    __table_args__ = (UniqueConstraint("telegram_user_id", "patient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]

    patient: Mapped[Patient] = relationship()


class Closure(Base):
    """A doctor's time closed by the registry (a day off sick, a meeting): no bookings there."""

    __tablename__ = "closures"
    __table_args__ = (Index("ix_closures_doctor_time", "doctor_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(300))
    closed_by: Mapped[int | None] = mapped_column(BigInteger)
    closed_at: Mapped[datetime]


class StaffRole(enum.StrEnum):
    ADMIN = "admin"
    REGISTRAR = "registrar"


class StaffMember(Base):
    """Registry staff added in the chat; admins from the config need no row."""

    __tablename__ = "staff_members"

    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    role: Mapped[StaffRole] = mapped_column(_text_enum(StaffRole))
    # Codes of the organizations the member may act on; empty means all.
    organization_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    added_by: Mapped[int | None] = mapped_column(BigInteger)
    added_at: Mapped[datetime]


class AuditEntry(Base):
    """Who did what to a booking, when, from what to what, and why."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_booking", "booking_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(16))  # patient, staff, system
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(500))

    booking: Mapped[Booking | None] = relationship()


class Consent(Base):
    """An account's agreement to one organization (the operator of the data) and text version.

    Rows from before consent was per organization have no organization: they are kept as the
    record of what was agreed, but cover no organization.
    """

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_user_version", "telegram_user_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    version: Mapped[str] = mapped_column(String(64))
    accepted_at: Mapped[datetime]

    organization: Mapped[Organization | None] = relationship()


class IdentityFailure(Base):
    """A failed identification: who, when, and whose registry record the typed OMS named.

    The typed values themselves are never stored; `patient_id` is set only when the OMS
    number belongs to a registry patient, so guesses at one patient's birth date are counted
    across all accounts.
    """

    __tablename__ = "identity_failures"
    __table_args__ = (
        Index("ix_identity_failures_user_time", "telegram_user_id", "failed_at"),
        Index("ix_identity_failures_patient_time", "patient_id", "failed_at"),
        Index("ix_identity_failures_time", "failed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    failed_at: Mapped[datetime]


class Installation(Base):
    """One row: what created this database (the bot or the sandbox) and a stable id."""

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "bot" or "sandbox": the sandbox refuses to run on anything it did not create.
    purpose: Mapped[str] = mapped_column(String(16))
    installation_id: Mapped[str] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime]


class FsmRecord(Base):
    """aiogram FSM state and data, so a restart loses no dialogue."""

    __tablename__ = "fsm_states"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(index=True)


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
    "IdentityFailure",
    "Installation",
    "Organization",
    "Patient",
    "PatientDocument",
    "Reminder",
    "ReminderState",
    "Service",
    "Slot",
    "StaffMember",
    "StaffRole",
    "TelegramChat",
    "WorkingHours",
    "doctor_services",
]
