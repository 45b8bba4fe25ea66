from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.account import bp
from blueprints.account.forms import PreferencesForm
from blueprints.web import is_safe_next
from portal.extensions import db
from portal.services import accounts, notifications


@bp.before_request
@login_required
def require_login():
    """Everything under /account is about the logged-in user."""


@bp.route("/", methods=["GET", "POST"])
def profile():
    form = PreferencesForm(locale=current_user.locale or "")
    if form.validate_on_submit():
        accounts.set_locale(current_user, form.locale.data or None)
        db.session.commit()
        flash(_("Your preferences have been saved."), "success")
        return redirect(url_for("account.profile"))
    return render_template("account/profile.html", form=form)


@bp.route("/notifications")
def notification_list():
    items = notifications.list_for(current_user)
    return render_template("account/notifications.html", items=items)


@bp.route("/notifications/read-all", methods=["POST"])
def notifications_read_all():
    notifications.mark_all_read(current_user)
    db.session.commit()
    return redirect(url_for("account.notification_list"))


@bp.route("/notifications/<int:notification_id>", methods=["POST"])
def notification_open(notification_id: int):
    note = notifications.get_for_user(current_user, notification_id)
    if note is None:
        abort(404)
    notifications.mark_read(note)
    db.session.commit()
    if note.link and is_safe_next(note.link):
        return redirect(note.link)
    return redirect(url_for("account.notification_list"))
