"""The declarative base every model shares, and the helpers of more than one model."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Enum, MetaData
from sqlalchemy.orm import DeclarativeBase

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
