"""Domain errors raised by services; the web layer turns them into messages or status codes.

Messages are (lazy) strings in the user's language; `field` names the form field the
message belongs beside, or None for a message about the whole form.
"""

from __future__ import annotations


class DomainError(Exception):
    status_code = 422

    def __init__(self, message, field: str | None = None, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        # Several field messages at once: {field: message}
        self.errors = dict(errors or {})
        if field and field not in self.errors:
            self.errors[field] = message

    def __str__(self) -> str:
        return str(self.message)


class ValidationFailed(DomainError):
    status_code = 422


class NotAllowed(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class QuotaExceeded(Conflict):
    pass
