"""Demo data: what a new user sees first, with real Chongqing schools and realistic content.

`seed_demo()` runs the seeders below in order; each area adds its own module and one
line to SEEDERS. Every seeder takes and extends the shared `DemoContext`.
"""

from __future__ import annotations

from portal.demo import accounts as accounts_demo
from portal.demo import transition as transition_demo
from portal.demo.context import DEMO_PASSWORD, DemoContext

SEEDERS = [
    accounts_demo.seed,
    transition_demo.seed,
]


def seed_demo() -> DemoContext:
    ctx = DemoContext()
    for seeder in SEEDERS:
        seeder(ctx)
    return ctx


__all__ = ["DEMO_PASSWORD", "DemoContext", "seed_demo"]
