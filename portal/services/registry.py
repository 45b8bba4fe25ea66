"""Import every area's service module once, so their calendar and commitment
providers are registered before the first request. One name per area."""

from __future__ import annotations


def load_area_services() -> None:
    from portal.services import (  # noqa: F401
        activities,
        bookings,
        commitments,
        feeds,
        lectures,
        transition,
    )
