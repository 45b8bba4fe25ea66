"""Column helpers shared by every model module."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum
from sqlalchemy.orm import Mapped, mapped_column

from portal.timeutil import UTCDateTime, utcnow


def enum_type(enum_cls: type[enum.Enum], length: int = 24) -> Enum:
    """A portable string enum: the value (not the name) is stored, checked by the database."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
        name=enum_cls.__name__.lower(),
    )


class TimestampMixin:
    """`updated_at` drives feed DTSTAMPs and ETags, so it changes on every write."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)
