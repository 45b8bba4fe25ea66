"""Feed routes. Feeds answer 404 for anything they cannot serve (unknown, malformed or
revoked token; unknown or private scope object; an event the viewer may not see), the
same response whichever it was, and never a 500."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, flash, jsonify, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.feeds import bp
from blueprints.feeds.forms import FeedLinkForm, RevokeFeedLinkForm
from blueprints.web import safe_next
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.services import calendar, feeds, ical
from portal.timeutil import to_local

MAX_ID = 2**31 - 1  # ids beyond a 32-bit integer cannot exist (and would overflow PostgreSQL)


def _calendar_response(document: feeds.FeedDocument, *, private: bool):
    response = Response(document.body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="{document.filename}"'
    response.set_etag(document.etag)
    response.last_modified = document.last_modified
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "private, no-cache" if private else "public, max-age=300"
    if private:
        response.headers["Referrer-Policy"] = "no-referrer"
    return response.make_conditional(request)


def _missing():
    """The one answer for a feed that cannot be served: plain text, the same bytes whatever
    the reason (and without echoing the path, which may hold a token)."""
    response = Response("Not found\n", status=404, mimetype="text/plain")
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    abort(response)


def _check_id(object_id: int) -> int:
    if object_id < 1 or object_id > MAX_ID:
        _missing()
    return object_id


@bp.route("/personal/<token>.ics")
def personal_feed(token: str):
    """The personal feed: the token in the path is the only credential (masked in logs)."""
    owner = feeds.feed_owner_of_token(token)
    if owner is None:
        _missing()
    document = feeds.personal_feed(owner)
    db.session.commit()
    return _calendar_response(document, private=True)


def _public_feed(scope: str, object_id: int):
    _check_id(object_id)
    try:
        document = feeds.public_feed(scope, object_id, request.args.get("lang"))
    except NotFound:
        _missing()
    db.session.commit()
    return _calendar_response(document, private=False)


@bp.route("/series/<int:object_id>.ics")
def public_series_feed(object_id: int):
    return _public_feed("series", object_id)


@bp.route("/school/<int:object_id>.ics")
def public_school_feed(object_id: int):
    return _public_feed("school", object_id)


@bp.route("/resource/<int:object_id>.ics")
def public_resource_feed(object_id: int):
    return _public_feed("resource", object_id)


def _viewer():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _request_locale() -> str:
    return str(get_locale())


@bp.route("/event/<kind>/<int:record_id>.ics")
def public_event(kind: str, record_id: int):
    """One booking, lecture, session or check-in as a file, as the viewer may see it."""
    _check_id(record_id)
    try:
        document = feeds.single_event(kind, record_id, _viewer(), _request_locale())
    except NotFound:
        _missing()
    response = _calendar_response(document, private=True)
    response.headers["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    return response


def _json_filter() -> feeds.EntryFilter:
    return feeds.parse_filter(
        request.args.get("start"),
        request.args.get("end"),
        request.args.getlist("kind"),
        request.args.getlist("status"),
    )


def _invalid(error: ValidationFailed):
    return jsonify(error=str(error.message), errors={k: str(v) for k, v in error.errors.items()}), 422


@bp.route("/entries.json")
@login_required
def my_entries_json():
    """The logged-in user's own entries in a date range (`start`, `end` inclusive, `kind`, `status`)."""
    try:
        wanted = _json_filter()
    except ValidationFailed as error:
        return _invalid(error)
    entries = feeds.my_entries(current_user, wanted)
    response = jsonify(entries=[feeds.entry_as_json(e) for e in entries])
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/public/<scope>/<int:object_id>/entries.json")
def public_entries_json(scope: str, object_id: int):
    """Public entries of a series, school or resource in a date range, for calendar views."""
    _check_id(object_id)
    if scope not in calendar.PUBLIC_SCOPES:
        abort(404)
    try:
        wanted = _json_filter()
        entries = feeds.public_scope_entries(scope, object_id, wanted)
    except ValidationFailed as error:
        return _invalid(error)
    except NotFound:
        abort(404)
    return jsonify(entries=[feeds.entry_as_json(e) for e in entries])


@bp.route("/")
def public_index():
    """Public calendars anyone may subscribe to, and how."""
    schools = feeds.public_schools()
    return render_template("feeds/index.html", schools=schools)


@bp.route("/my")
@login_required
def my_calendar():
    """The user's upcoming entries (the same source as their feed), with the subscribe panel."""
    kinds = request.args.getlist("kind")
    try:
        wanted = feeds.parse_filter(request.args.get("start"), request.args.get("end"), kinds)
    except ValidationFailed as error:
        flash(str(error.message), "danger")
        wanted = feeds.parse_filter(None, None, kinds)
    entries = feeds.my_entries(current_user, wanted)
    return render_template(
        "feeds/my_calendar.html",
        entries=entries,
        wanted=wanted,
        last_day=(to_local(wanted.end) - timedelta(days=1)).date(),
        entry_title=ical.marked_title,
    )


@bp.route("/link", methods=["POST"])
@login_required
def issue_link():
    """Make the personal feed link, or replace it (the old link stops working at once)."""
    form = FeedLinkForm()
    if form.validate_on_submit():
        had_link = feeds.token_status(current_user).exists
        feeds.issue_token(current_user, current_user)
        db.session.commit()
        if had_link:
            flash(_("Your new calendar link is ready. The old link no longer works."), "success")
        else:
            flash(_("Your calendar link is ready."), "success")
    return redirect(_back())


@bp.route("/link/revoke", methods=["POST"])
@login_required
def revoke_link():
    form = RevokeFeedLinkForm()
    if form.validate_on_submit():
        feeds.revoke_token(current_user, current_user)
        db.session.commit()
        flash(_("Your calendar link is turned off. Subscribed calendars will stop updating."), "success")
    return redirect(_back())


def _back() -> str:
    return safe_next(request.form.get("next"), "account.profile")
