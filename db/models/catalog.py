"""What can be booked: organizations, their services and doctors, the doctors' hours and slots."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Time,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, full_name, short_name


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(300))
    phone: Mapped[str] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64))
    # What to bring and where to enter: printed on the ticket and told before the visit.
    visit_notes: Mapped[str | None] = mapped_column(String(1000))

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
    # Paid services are not covered by the OMS policy: the patient must see it before booking.
    paid: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Whole roubles; set exactly when `paid`.
    price: Mapped[int | None] = mapped_column(Integer)
    # A district service (участковый терапевт, педиатр): only the patients attached to the
    # organization, each to the doctors of their own district.
    by_district: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The state's guarantee (Программа госгарантий, regional figures differ): a free OMS time
    # within so many hours (a district therapist: 24) or working days (a specialist: 14).
    max_wait_hours: Mapped[int | None] = mapped_column(Integer)
    max_wait_working_days: Mapped[int | None] = mapped_column(Integer)

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
    # Where the doctor receives («каб. 214, 2 этаж»); `rooms` overrides it on some weekdays
    # (keys "0".."6", 0 = Monday), for a doctor who works in another building on Saturdays.
    room: Mapped[str | None] = mapped_column(String(100))
    rooms: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # The district (участок) the doctor serves, e.g. "5" or "12А"; None for specialists.
    district: Mapped[str | None] = mapped_column(String(32))

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

    def room_on(self, weekday: int) -> str | None:
        """The room on a weekday (0 = Monday) of the organization's calendar."""
        return room_on(self.room, self.rooms, weekday)


def room_on(room: str | None, rooms: dict[str, str] | None, weekday: int) -> str | None:
    """The weekday's own room if there is one, else the doctor's usual room."""
    return (rooms or {}).get(str(weekday)) or room


class WorkingHours(Base):
    """A weekly rule: on `weekday` (0 = Monday) the doctor receives from `start` to `end`."""

    __tablename__ = "working_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_time < end_time", name="start_before_end"),
        # The day grid reads one doctor's week (and SQLite checks the foreign key here).
        Index("ix_working_hours_doctor_id", "doctor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)

    doctor: Mapped[Doctor] = relationship(back_populates="hours")


class Slot(Base):
    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("doctor_id", "starts_at"),
        # The day and time grids read a doctor's open slots from this index alone (the id is
        # in every SQLite index), without a look-up in the table for each.
        Index("ix_slots_doctor_open_start", "doctor_id", "is_open", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # False once the weekly rules no longer produce this slot but a booking still refers to it.
    is_open: Mapped[bool] = mapped_column(default=True, server_default=true())

    doctor: Mapped[Doctor] = relationship()


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
