"""Calendar feeds: personal token feeds, public feeds, single-event files, calendar JSON."""

from flask import Blueprint

bp = Blueprint("feeds", __name__)


@bp.record_once
def _setup(state) -> None:
    from blueprints.feeds.links import feed_subscription, personal_feed_subscription
    from blueprints.feeds.logmask import install_log_masking

    install_log_masking(state.app)
    state.app.jinja_env.globals.update(
        feed_subscription=feed_subscription, personal_feed_subscription=personal_feed_subscription
    )


from blueprints.feeds import routes  # noqa: E402,F401
