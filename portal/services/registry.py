"""Import every area's service module once, so their calendar and commitment
providers are registered before the first request. One line per area."""

from __future__ import annotations


def load_area_services() -> None:
    from portal.services import (
        commitments,  # noqa: F401
        transition,  # noqa: F401
    )
