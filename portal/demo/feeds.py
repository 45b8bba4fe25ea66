"""Every demo user gets a personal calendar link, so the profile page shows a live feed URL."""

from __future__ import annotations

from portal.demo.context import DemoContext
from portal.services import feeds


def seed(ctx: DemoContext) -> None:
    ctx.extra["feed_tokens"] = {key: feeds.store_new_token(user) for key, user in ctx.users.items()}
