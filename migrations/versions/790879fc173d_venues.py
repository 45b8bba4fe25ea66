"""venues: activity sessions held at a portal resource, holding its slot as a booking

Revision ID: 790879fc173d
Revises: cf8b67956010
Create Date: 2026-12-03 18:59:12.691280

"""

import sqlalchemy as sa
from alembic import op

import portal.timeutil  # noqa: F401  (UTCDateTime columns)

# revision identifiers, used by Alembic.
revision = "790879fc173d"
down_revision = "cf8b67956010"
branch_labels = None
depends_on = None

VENUE_KINDS_BEFORE = "venue_kind IN ('school', 'place')"
VENUE_KINDS_AFTER = "venue_kind IN ('school', 'place', 'resource')"


def upgrade():
    with op.batch_alter_table("activity_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("venue_resource_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_activity_session_venue_resource_id"), ["venue_resource_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_activity_session_venue_resource_id_resource"),
            "resource",
            ["venue_resource_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        # The enum's CHECK learns the new kind.
        batch_op.drop_constraint(batch_op.f("ck_activity_session_venuekind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_activity_session_venuekind"), VENUE_KINDS_AFTER)

    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(sa.Column("activity_session_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_booking_activity_session_id"), ["activity_session_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_booking_activity_session_id_activity_session"),
            "activity_session",
            ["activity_session_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade():
    # Sessions held at a resource have no venue without it: their holds go with the column.
    op.execute("DELETE FROM booking WHERE activity_session_id IS NOT NULL")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_booking_activity_session_id_activity_session"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_booking_activity_session_id"), type_="unique")
        batch_op.drop_column("activity_session_id")

    op.execute(
        "UPDATE activity_session SET venue_kind = 'school', venue_school_id = "
        "(SELECT university_id FROM resource WHERE resource.id = activity_session.venue_resource_id) "
        "WHERE venue_kind = 'resource'"
    )
    with op.batch_alter_table("activity_session", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_activity_session_venuekind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_activity_session_venuekind"), VENUE_KINDS_BEFORE)
        batch_op.drop_constraint(batch_op.f("fk_activity_session_venue_resource_id_resource"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_activity_session_venue_resource_id"))
        batch_op.drop_column("venue_resource_id")
