"""Calendar feeds: each user's secret feed token, and each feed's last change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import TimestampMixin
from portal.models.users import User
from portal.timeutil import UTCDateTime


class FeedToken(TimestampMixin, db.Model):
    """The secret in a user's personal feed URL; one per user, replaced on regeneration.

    Only the SHA-256 of the token is used to find it (so a copy of the database opens
    no feed). `token_sealed` holds the token encrypted under a key derived from the
    app's SECRET_KEY, so that its owner can see their URL again on the profile page.
    """

    __tablename__ = "feed_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    token_sealed: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<FeedToken user={self.user_id}>"


class FeedState(db.Model):
    """When a feed's content last changed (its ETag), so Last-Modified stays truthful
    even when an entry disappears (a withdrawn registration has no later timestamp)."""

    __tablename__ = "feed_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_key: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    etag: Mapped[str] = mapped_column(String(80), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
