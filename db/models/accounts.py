"""Telegram accounts and chats, their consents and identification attempts, registry staff,
and the bot's own state (dialogue storage, installation record)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, _text_enum
from db.models.catalog import Organization
from db.models.patients import Patient


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
