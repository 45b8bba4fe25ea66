"""Keep personal feed tokens out of every log line.

The token is the last path segment of `/feeds/personal/<token>.ics`. Access logs (the
Werkzeug development server, gunicorn's access and error logs) and the app's own error
log would otherwise write it in clear text, and a log file would then open the feed.
A filter on those loggers rewrites the formatted message with the token masked.
Production runs gunicorn with `--logger-class blueprints.feeds.logmask.MaskingGunicornLogger`
as well, which masks the request line, path and query atoms before any format sees them.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

TOKEN_IN_PATH = re.compile(r"(/feeds/personal/)[^/\s?#\"'.]+")
MASK = r"\1[token]"
MASKED_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "blueprints.web", "flask.app")


def mask_tokens(text: str) -> str:
    return TOKEN_IN_PATH.sub(MASK, text)


class MaskFeedTokens(logging.Filter):
    """Rewrite a record whose formatted message holds a feed token."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix; let it through unchanged
            return True
        masked = mask_tokens(message)
        if masked != message:
            record.msg = masked
            record.args = ()
        return True


_FILTER = MaskFeedTokens()


def install_log_masking(app: Flask | None = None) -> None:
    for name in MASKED_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    if app is not None and _FILTER not in app.logger.filters:
        app.logger.addFilter(_FILTER)


try:  # gunicorn is a runtime dependency, but keep the web layer importable without it
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = None


if _GunicornLogger is not None:

    class MaskingGunicornLogger(_GunicornLogger):
        """gunicorn logger whose access-log atoms never carry a feed token."""

        def atoms(self, resp, req, environ, request_time):
            atoms = super().atoms(resp, req, environ, request_time)
            for key in ("r", "U", "q", "{raw_uri}e", "{path_info}e", "{request_uri}e"):
                value = atoms.get(key)
                if isinstance(value, str):
                    atoms[key] = mask_tokens(value)
            return atoms
