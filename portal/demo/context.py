from __future__ import annotations

from dataclasses import dataclass, field

from portal.models import School, User

DEMO_PASSWORD = "demo1234"


@dataclass
class DemoContext:
    """Objects created so far, by short key, so later seeders can refer to them."""

    schools: dict[str, School] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)
