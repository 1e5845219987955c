"""Patients of the registry and their identity documents."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, full_name, short_name


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    oms_number: Mapped[str] = mapped_column(String(16), unique=True)
    # Attachment (прикрепление): the organization responsible for the patient, and the
    # district (участок) within it. District services are booked only there.
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    district: Mapped[str | None] = mapped_column(String(32))

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
