"""Subscription links for the subscribe panel (`templates/feeds/_subscribe.html`)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import current_app, url_for

from portal.models import User
from portal.services import feeds


def subscription_links(path: str, title: str = "") -> dict:
    """The https URL, the webcal:// URL and the add-by-URL links of Google and Outlook."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    url = base + path
    parts = urlsplit(url)
    webcal = "webcal://" + parts.netloc + parts.path + (f"?{parts.query}" if parts.query else "")
    return {
        "url": url,
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/render?cid=" + quote(webcal, safe=""),
        "outlook": "https://outlook.live.com/calendar/0/addfromweb?url="
        + quote(url, safe="")
        + "&name="
        + quote(title or "", safe=""),
        "title": title,
    }


def feed_subscription(endpoint: str, title: str = "", **values) -> dict:
    """Links for a feed endpoint, e.g. `feed_subscription('feeds.public_series_feed', object_id=3)`."""
    return subscription_links(url_for(endpoint, **values), title)


def personal_feed_subscription(user: User) -> dict:
    """The personal feed panel's state: whether a link exists, and its links when readable."""
    status = feeds.token_status(user)
    links = None
    if status.token:
        links = subscription_links(url_for("feeds.personal_feed", token=status.token))
    return {"exists": status.exists, "links": links, "created_at": status.created_at}
