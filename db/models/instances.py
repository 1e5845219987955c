"""The running bot processes, so that one never takes over another live one's work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base


class Instance(Base):
    """A bot process: it claims reminders and outbox rows under its id and renews `seen_at`
    while it runs. Its claims are taken back only once it has not been seen for the lease
    (bot/services/instances.py): a live instance's sends are never repeated by another."""

    __tablename__ = "instances"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]
