"""People and their one role on the platform."""

from __future__ import annotations

import enum
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.models.base import TimestampMixin, enum_type
from portal.models.schools import School
from portal.timeutil import local_today


class Role(enum.Enum):
    ADMIN = "admin"
    TEACHER = "teacher"
    MENTOR = "mentor"
    RESOURCE_MANAGER = "resource_manager"
    STUDENT = "student"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.TEACHER: _l("Teacher"),
    Role.MENTOR: _l("Party-member mentor"),
    Role.RESOURCE_MANAGER: _l("Resource manager"),
    Role.STUDENT: _l("Student"),
}


class User(TimestampMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored normalised (trimmed, lower case), so the unique index is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    display_name: Mapped[str] = mapped_column(String(80), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[Role] = mapped_column(enum_type(Role), nullable=False)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # Bumped on password change, logout-everywhere and deactivation: old sessions stop.
    session_version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    birth_date: Mapped[date | None] = mapped_column(Date)
    grade: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(32))

    school: Mapped[School | None] = relationship(lazy="joined")

    # Flask-Login protocol -------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    # Passwords -------------------------------------------------------------
    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # Roles -------------------------------------------------------------------
    def has_role(self, *roles: Role | str) -> bool:
        wanted = {r if isinstance(r, Role) else Role(r) for r in roles}
        return self.role in wanted

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def age_on(self, day: date | None = None) -> int | None:
        if self.birth_date is None:
            return None
        day = day or local_today()
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years

    @property
    def is_minor(self) -> bool:
        """Unknown age counts as a minor: the cautious default for a school platform."""
        age = self.age_on()
        return age is None or age < 18

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"
