"""Import every area's service module once, so their calendar and commitment
providers are registered before the first request. One line per area."""

from __future__ import annotations


def load_area_services() -> None:
    import portal.services.feeds  # noqa: F401
    import portal.services.lectures  # noqa: F401
    from portal.services import commitments  # noqa: F401
