"""Bulk import of schools and users from CSV.

Each row goes in on its own savepoint: a good row is kept, a bad row leaves nothing,
and a row whose key (school name, email) already exists is skipped, so running the
same file twice creates no duplicates.
"""

from __future__ import annotations

import csv
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.districts import district_code
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import Role, School, SchoolLevel
from portal.services import accounts

TRUE_WORDS = {"1", "true", "yes", "y", "是", "t"}


@dataclass
class ImportReport:
    created: int = 0
    skipped: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.skipped + len(self.rejected)


def read_csv(path: str) -> list[dict[str, str]]:
    """Rows of a UTF-8 CSV (a BOM from Excel is accepted), keys stripped and lower-cased."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        return [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()} for row in reader]


def _reason(exc: ValidationFailed) -> str:
    if exc.errors:
        return "; ".join(f"{name}: {message}" for name, message in exc.errors.items())
    return str(exc.message)


def _run(
    rows: Iterable[dict[str, str]],
    exists: Callable[[dict[str, str]], bool],
    create: Callable[[dict[str, str]], object],
    progress: Callable[[int], None] | None,
) -> ImportReport:
    report = ImportReport()
    # Line 1 is the header, so data starts on line 2.
    for line, row in enumerate(rows, start=2):
        try:
            if exists(row):
                report.skipped += 1
            else:
                with db.session.begin_nested():
                    create(row)
                report.created += 1
        except ValidationFailed as exc:
            report.rejected.append((line, _reason(exc)))
        if progress:
            progress(1)
    return report


def _school_data(row: dict[str, str]) -> accounts.SchoolData:
    errors = {}
    try:
        level = SchoolLevel((row.get("level") or "").lower())
    except ValueError:
        level = None
        errors["level"] = _l("Unknown level (use primary, junior_high, senior_high, university or vocational).")
    district = district_code(row.get("district", ""))
    if district is None:
        errors["district"] = _l("Unknown Chongqing district or county.")
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors=errors)
    return accounts.SchoolData(
        name_zh=row.get("name_zh", ""),
        name_en=row.get("name_en") or None,
        level=level,
        district=district,
        under_resourced=(row.get("under_resourced", "").lower() in TRUE_WORDS),
        address=row.get("address") or None,
    )


def import_schools(rows: Iterable[dict[str, str]], progress=None) -> ImportReport:
    def exists(row):
        name = (row.get("name_zh") or "").strip()
        return bool(name) and db.session.scalar(select(School.id).where(School.name_zh == name))

    return _run(rows, exists, lambda row: accounts.create_school(None, _school_data(row)), progress)


def _user_data(row: dict[str, str]) -> tuple[accounts.UserData, str]:
    errors = {}
    try:
        role = Role((row.get("role") or "").lower())
    except ValueError:
        role = None
        errors["role"] = _l("Unknown role (use admin, teacher, mentor, resource_manager or student).")
    school_id = None
    school_name = row.get("school") or ""
    if school_name:
        school_id = db.session.scalar(
            select(School.id).where((School.name_zh == school_name) | (School.name_en == school_name))
        )
        if school_id is None:
            errors["school"] = _l("Unknown school.")
    birth = None
    if row.get("birth_date"):
        try:
            birth = date.fromisoformat(row["birth_date"])
        except ValueError:
            errors["birth_date"] = _l("Use the date format YYYY-MM-DD.")
    locale = row.get("locale") or None
    if locale and locale not in ("zh_Hans_CN", "en"):
        errors["locale"] = _l("Unknown language (use zh_Hans_CN or en).")
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors=errors)
    data = accounts.UserData(
        email=row.get("email", ""),
        display_name=row.get("display_name", ""),
        role=role,
        school_id=school_id,
        locale=locale,
        birth_date=birth,
        grade=row.get("grade") or None,
        phone=row.get("phone") or None,
    )
    # Without a password column the account gets an unguessable one; an admin sets a real one.
    return data, row.get("password") or secrets.token_urlsafe(24)


def import_users(rows: Iterable[dict[str, str]], progress=None) -> ImportReport:
    def exists(row):
        email = accounts.normalize_email(row.get("email", ""))
        return bool(email) and accounts.find_user_by_email(email) is not None

    def create(row):
        data, password = _user_data(row)
        accounts.create_user(None, data, password)

    return _run(rows, exists, create, progress)
