"""The notification service: in-app bell, email outbox, recipient's language."""

from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.models import Notification, OutboxEmail, OutboxStatus, Role
from portal.services import notifications


def test_notify_stores_in_app_and_queues_email_in_recipients_language(app, db, create_user):
    english = create_user(Role.TEACHER, locale="en")
    chinese = create_user(Role.TEACHER, locale="zh_Hans_CN")
    with app.test_request_context():
        notifications.notify(english, "test", _l("Page not found"), _l("Not allowed"), link="/account/")
        notifications.notify(chinese, "test", _l("Page not found"), _l("Not allowed"))
    db.session.commit()
    subjects = {n.user_id: n.subject for n in db.session.scalars(select(Notification))}
    assert subjects[english.id] == "Page not found"
    assert subjects[chinese.id] == "页面不存在"
    emails = list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
    assert [e.to_address for e in emails] == [english.email, chinese.email]
    assert emails[0].body.endswith("http://portal.test/account/")


def test_bell_counts_unread_and_opening_marks_read(client, db, create_user, login_as, count_queries):
    user = create_user(Role.STUDENT)
    for _ in range(3):
        notifications.notify(user, "test", "消息", link="/account/")
    db.session.commit()
    login_as(user)
    html = client.get("/").get_data(as_text=True)
    assert 'data-testid="unread-count">3<' in html
    first = db.session.scalars(select(Notification).where(Notification.user_id == user.id)).first()
    response = client.post(f"/account/notifications/{first.id}")
    assert response.headers["Location"] == "/account/"
    assert 'data-testid="unread-count">2<' in client.get("/").get_data(as_text=True)
    client.post("/account/notifications/read-all")
    assert 'data-testid="unread-count"' not in client.get("/").get_data(as_text=True)
    with count_queries() as counter:
        client.get("/account/notifications")
    assert counter.count <= 6


def test_someone_elses_notification_is_404(client, db, create_user, login_as):
    owner = create_user(Role.STUDENT)
    note = notifications.notify(owner, "test", "私人消息")
    db.session.commit()
    login_as(create_user(Role.STUDENT))
    assert client.post(f"/account/notifications/{note.id}").status_code == 404


def test_outbox_without_mail_server_logs_without_subject(app, db, create_user, caplog):
    user = create_user(Role.TEACHER)
    notifications.notify(user, "test", "敏感主题不应出现在日志")
    db.session.commit()
    with caplog.at_level(logging.INFO, logger="portal.services.notifications"):
        sent, failed = notifications.deliver_outbox()
    db.session.commit()
    assert (sent, failed) == (1, 0)
    assert "敏感主题" not in caplog.text and "outbox email #" in caplog.text
    assert db.session.scalar(select(OutboxEmail)).status is OutboxStatus.SENT


def test_outbox_failure_is_retried_then_marked_failed(app, db, create_user):
    user = create_user(Role.TEACHER)
    notifications.notify(user, "test", "主题")
    db.session.commit()
    app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = "127.0.0.1", 1  # nothing listens on port 1
    try:
        for _ in range(notifications.MAX_ATTEMPTS):
            notifications.deliver_outbox()
            db.session.commit()
    finally:
        app.config["MAIL_SERVER"] = ""
    email = db.session.scalar(select(OutboxEmail))
    assert email.status is OutboxStatus.FAILED and email.attempts == notifications.MAX_ATTEMPTS
