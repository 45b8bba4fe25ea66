"""One way to tell someone something: an in-app notification plus an email in the outbox.

Text is rendered in the recipient's language, not the actor's: pass lazy strings
(`lazy_gettext("...", **values)`) and they are evaluated under the recipient's locale.
Subjects must never carry sensitive content (notes, risk levels, scores).
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, select, update

from portal.extensions import db
from portal.models import Notification, OutboxEmail, OutboxStatus, User
from portal.timeutil import utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def recipient_locale(user: User) -> str:
    return user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]


def notify(
    recipient: User,
    kind: str,
    subject,
    body="",
    *,
    link: str | None = None,
    email: bool = True,
) -> Notification:
    """Store a notification for `recipient` and queue an email, in the caller's transaction."""
    with force_locale(recipient_locale(recipient)):
        subject_text = str(subject)[:200]
        body_text = str(body)
    note = Notification(user_id=recipient.id, kind=kind, subject=subject_text, body=body_text, link=link)
    db.session.add(note)
    if email and recipient.active and recipient.email:
        text = body_text
        if link:
            text = f"{body_text}\n\n{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}{link}"
        db.session.add(OutboxEmail(user_id=recipient.id, to_address=recipient.email, subject=subject_text, body=text))
    return note


def unread_count(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def list_for(user: User, limit: int = 50) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount or 0


def get_for_user(user: User, notification_id: int) -> Notification | None:
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != user.id:
        return None
    return note


def deliver_outbox(limit: int = 100) -> tuple[int, int]:
    """Send queued emails; SMTP when MAIL_SERVER is set, otherwise only log that one is due.

    Returns (sent, failed). The log line names the message id and recipient only: a
    subject can still say more than a log should.
    """
    config = current_app.config
    queued = list(
        db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.status == OutboxStatus.QUEUED).order_by(OutboxEmail.id).limit(limit)
        )
    )
    sent = failed = 0
    for item in queued:
        item.attempts += 1
        try:
            if config.get("MAIL_SERVER"):
                _send_smtp(config, item)
            else:
                log.info("outbox email #%s to user #%s (no MAIL_SERVER: logged only)", item.id, item.user_id)
            item.status = OutboxStatus.SENT
            item.sent_at = utcnow()
            sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            item.last_error = type(exc).__name__
            if item.attempts >= MAX_ATTEMPTS:
                item.status = OutboxStatus.FAILED
            failed += 1
            log.warning("outbox email #%s failed (%s)", item.id, type(exc).__name__)
    return sent, failed


def _send_smtp(config, item: OutboxEmail) -> None:
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = item.to_address
    message["Subject"] = item.subject
    message.set_content(item.body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def mark_read(note: Notification) -> None:
    if note.read_at is None:
        note.read_at = utcnow()
