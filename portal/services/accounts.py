"""Users and schools: creation, edits, deactivation, passwords and sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from portal.districts import DISTRICTS
from portal.errors import NotAllowed, ValidationFailed
from portal.extensions import db
from portal.models import Role, School, SchoolLevel, User
from portal.services import audit

MIN_PASSWORD_LENGTH = 8
# Compared against when the email is unknown, so both failures cost the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")

UNIVERSITY_ROLES = {Role.MENTOR, Role.RESOURCE_MANAGER}
SCHOOL_ROLES = {Role.TEACHER}


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def _require_admin(actor: User | None) -> None:
    if actor is None or not actor.is_admin:
        raise NotAllowed(_l("Only an administrator may do this."))


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None; unknown email and wrong password look alike."""
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not user.check_password(password or "") or not user.active:
        return None
    return user


@dataclass
class UserData:
    email: str
    display_name: str
    role: Role
    school_id: int | None = None
    locale: str | None = None
    birth_date: date | None = None
    grade: str | None = None
    phone: str | None = None


def _validate_user(data: UserData, existing: User | None = None) -> tuple[str, School | None]:
    errors = {}
    try:
        email = validate_email(data.email or "", check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        errors["email"] = _l("Enter a valid email address.")
        email = normalize_email(data.email)
    else:
        clash = find_user_by_email(email)
        if clash is not None and clash is not existing:
            errors["email"] = _l("Another account already uses this email address.")
    if not (data.display_name or "").strip():
        errors["display_name"] = _l("Enter a name.")
    elif len(data.display_name.strip()) > 80:
        errors["display_name"] = _l("The name is too long (at most 80 characters).")
    school = db.session.get(School, data.school_id) if data.school_id else None
    if data.school_id and school is None:
        errors["school_id"] = _l("Choose a school from the list.")
    elif data.role in UNIVERSITY_ROLES and (school is None or not school.is_university):
        errors["school_id"] = _l("Mentors and resource managers belong to a university.")
    elif data.role in SCHOOL_ROLES and (school is None or school.is_university):
        errors["school_id"] = _l("A teacher belongs to a primary, junior-high or senior-high school.")
    elif data.role is Role.STUDENT and school is None:
        errors["school_id"] = _l("A student belongs to a school.")
    if data.birth_date and data.birth_date >= date.today():
        errors["birth_date"] = _l("The birth date must be in the past.")
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors=errors)
    return email, school


def check_password_strength(password: str, field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field=field)


def create_user(actor: User | None, data: UserData, password: str) -> User:
    """Create an account. `actor` None is the command line (create-admin, imports)."""
    if actor is not None:
        _require_admin(actor)
    email, school = _validate_user(data)
    check_password_strength(password)
    user = User(
        email=email,
        display_name=data.display_name.strip(),
        role=data.role,
        school=school,
        locale=data.locale or None,
        birth_date=data.birth_date,
        grade=(data.grade or None),
        phone=(data.phone or None),
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", "user", user.id)
    return user


def update_user(actor: User, user: User, data: UserData) -> User:
    _require_admin(actor)
    email, school = _validate_user(data, existing=user)
    if user.id == actor.id and data.role is not Role.ADMIN:
        raise ValidationFailed(_l("You cannot remove your own administrator role."), field="role")
    user.email = email
    user.display_name = data.display_name.strip()
    if user.role is not data.role:
        user.session_version += 1
    user.role = data.role
    user.school = school
    user.locale = data.locale or None
    user.birth_date = data.birth_date
    user.grade = data.grade or None
    user.phone = data.phone or None
    audit.record(actor, "user.update", "user", user.id)
    return user


def set_active(actor: User, user: User, active: bool) -> User:
    """Deactivation ends every session of that user at once (session version bump)."""
    _require_admin(actor)
    if user.id == actor.id and not active:
        raise ValidationFailed(_l("You cannot deactivate your own account."))
    if user.active != active:
        user.active = active
        user.session_version += 1
        audit.record(actor, "user.activate" if active else "user.deactivate", "user", user.id)
    return user


def admin_set_password(actor: User, user: User, password: str) -> None:
    _require_admin(actor)
    check_password_strength(password)
    user.set_password(password)
    user.session_version += 1
    audit.record(actor, "user.set_password", "user", user.id)


def change_password(user: User, current: str, new: str) -> None:
    """Own password change; every other session of the user ends."""
    if not user.check_password(current or ""):
        raise ValidationFailed(_l("The current password is not correct."), field="current_password")
    check_password_strength(new, field="new_password")
    user.set_password(new)
    user.session_version += 1


def end_all_sessions(user: User) -> None:
    user.session_version += 1


def set_locale(user: User, locale: str | None) -> None:
    user.locale = locale


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: '<id>:<session version>'; stale versions and inactive users fail."""
    user_id, _, version = (session_id or "").partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


# Schools -------------------------------------------------------------------------


@dataclass
class SchoolData:
    name_zh: str
    level: SchoolLevel
    district: str
    name_en: str | None = None
    under_resourced: bool = False
    address: str | None = None


def _validate_school(data: SchoolData, existing: School | None = None) -> None:
    errors = {}
    name = (data.name_zh or "").strip()
    if not name:
        errors["name_zh"] = _l("Enter the school's Chinese name.")
    elif len(name) > 120:
        errors["name_zh"] = _l("The name is too long (at most 120 characters).")
    else:
        clash = db.session.scalar(select(School).where(School.name_zh == name))
        if clash is not None and clash is not existing:
            errors["name_zh"] = _l("A school with this name already exists.")
    if data.district not in DISTRICTS:
        errors["district"] = _l("Choose a Chongqing district or county.")
    if not isinstance(data.level, SchoolLevel):
        errors["level"] = _l("Choose a level.")
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors=errors)


def create_school(actor: User | None, data: SchoolData) -> School:
    if actor is not None:
        _require_admin(actor)
    _validate_school(data)
    school = School(
        name_zh=data.name_zh.strip(),
        name_en=(data.name_en or "").strip() or None,
        level=data.level,
        district=data.district,
        under_resourced=bool(data.under_resourced),
        address=(data.address or "").strip() or None,
    )
    db.session.add(school)
    db.session.flush()
    audit.record(actor, "school.create", "school", school.id)
    return school


def update_school(actor: User, school: School, data: SchoolData) -> School:
    _require_admin(actor)
    _validate_school(data, existing=school)
    school.name_zh = data.name_zh.strip()
    school.name_en = (data.name_en or "").strip() or None
    school.level = data.level
    school.district = data.district
    school.under_resourced = bool(data.under_resourced)
    school.address = (data.address or "").strip() or None
    audit.record(actor, "school.update", "school", school.id)
    return school


def set_school_active(actor: User, school: School, active: bool) -> School:
    _require_admin(actor)
    school.active = active
    audit.record(actor, "school.activate" if active else "school.deactivate", "school", school.id)
    return school


def count_users_by_role() -> dict[Role, int]:
    rows = db.session.execute(select(User.role, func.count(User.id)).group_by(User.role))
    return {role: n for role, n in rows}
