"""Demo data: what a new user sees first, with real Chongqing schools and realistic content.

`seed_demo()` runs the seeders below in order; each area adds its own module and one
line to SEEDERS. Every seeder takes and extends the shared `DemoContext`.
"""

from __future__ import annotations

from portal.demo import accounts as accounts_demo
from portal.demo import activities as activities_demo
from portal.demo import bookings as bookings_demo
from portal.demo import feeds as feeds_demo
from portal.demo import lectures as lectures_demo
from portal.demo import transition as transition_demo
from portal.demo.context import DEMO_PASSWORD, DemoContext

SEEDERS = [
    accounts_demo.seed,
    bookings_demo.seed,
    lectures_demo.seed,
    activities_demo.seed,
    transition_demo.seed,
    # Last: feeds only read what the other areas seeded.
    feeds_demo.seed,
]


def seed_demo() -> DemoContext:
    ctx = DemoContext()
    for seeder in SEEDERS:
        seeder(ctx)
    return ctx


__all__ = ["DEMO_PASSWORD", "DemoContext", "seed_demo"]
