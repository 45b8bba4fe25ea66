"""Schools and universities: every user and resource belongs to one."""

from __future__ import annotations

import enum

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.districts import district_name
from portal.extensions import db
from portal.models.base import TimestampMixin, enum_type


class SchoolLevel(enum.Enum):
    PRIMARY = "primary"
    JUNIOR_HIGH = "junior_high"
    SENIOR_HIGH = "senior_high"
    UNIVERSITY = "university"
    VOCATIONAL = "vocational"

    @property
    def label(self) -> str:
        return str(LEVEL_LABELS[self])


LEVEL_LABELS = {
    SchoolLevel.PRIMARY: _l("Primary school"),
    SchoolLevel.JUNIOR_HIGH: _l("Junior high school"),
    SchoolLevel.SENIOR_HIGH: _l("Senior high school"),
    SchoolLevel.UNIVERSITY: _l("University"),
    SchoolLevel.VOCATIONAL: _l("Vocational college"),
}


class School(TimestampMixin, db.Model):
    __tablename__ = "school"
    __table_args__ = (UniqueConstraint("name_zh"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(120), nullable=False)
    name_en: Mapped[str | None] = mapped_column(String(160))
    level: Mapped[SchoolLevel] = mapped_column(enum_type(SchoolLevel), nullable=False)
    district: Mapped[str] = mapped_column(String(24), nullable=False)
    under_resourced: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    address: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    @property
    def is_university(self) -> bool:
        return self.level in (SchoolLevel.UNIVERSITY, SchoolLevel.VOCATIONAL)

    def display_name(self, locale: str | None = None) -> str:
        locale = str(locale or get_locale() or "zh")
        if not locale.startswith("zh") and self.name_en:
            return self.name_en
        return self.name_zh

    @property
    def name(self) -> str:
        return self.display_name()

    def district_label(self, locale: str | None = None) -> str:
        return district_name(self.district, str(locale or get_locale() or "zh"))

    def __repr__(self) -> str:
        return f"<School {self.id} {self.name_zh}>"
