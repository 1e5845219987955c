"""The stamp of the reference data (organizations, services, doctors and their hours)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Integer
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base


class ReferenceStamp(Base):
    """One row whose version an import increments in its own transaction.

    Running bots cache the reference data in memory (bot/services/catalog.py) and read this
    version with every update's other facts: a changed version reloads the cache, whichever
    process ran the import.
    """

    __tablename__ = "reference_stamp"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
