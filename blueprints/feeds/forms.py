from flask_babel import lazy_gettext as _l
from wtforms import SubmitField

from blueprints.forms import Form


class FeedLinkForm(Form):
    """Make (or replace) the personal calendar link; only CSRF protects it."""

    submit = SubmitField(_l("Make a new link"))


class RevokeFeedLinkForm(Form):
    submit = SubmitField(_l("Turn off my calendar link"))
