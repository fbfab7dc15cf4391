"""voice: children's and families' panels, their meetings and points ("you said"), each
point's commitment ("we did / we will") and the history of its status

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 22:40:00

Every status change is kept as a history row and in the audit log (docs/voice.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voice_panel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("audience", sa.String(length=40), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_voice_panel_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_panel")),
    )
    with op.batch_alter_table("voice_panel", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_panel_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "voice_panel_meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("panel_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["panel_id"],
            ["voice_panel.id"],
            name=op.f("fk_voice_panel_meeting_panel_id_voice_panel"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_panel_meeting")),
    )
    with op.batch_alter_table("voice_panel_meeting", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_panel_meeting_panel_id"), ["panel_id"], unique=False
        )

    op.create_table(
        "voice_panel_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("said", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["voice_panel_meeting.id"],
            name=op.f("fk_voice_panel_point_meeting_id_voice_panel_meeting"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_panel_point")),
    )
    with op.batch_alter_table("voice_panel_point", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_panel_point_meeting_id"), ["meeting_id"], unique=False
        )

    op.create_table(
        "voice_commitment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["voice_panel_point.id"],
            name=op.f("fk_voice_commitment_point_id_voice_panel_point"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_commitment")),
        sa.UniqueConstraint("point_id", name=op.f("uq_voice_commitment_point_id")),
    )

    op.create_table(
        "voice_commitment_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.String(length=120), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["voice_commitment.id"],
            name=op.f("fk_voice_commitment_change_commitment_id_voice_commitment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_commitment_change")),
    )
    with op.batch_alter_table("voice_commitment_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_commitment_change_commitment_id"), ["commitment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("voice_commitment_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_commitment_change_commitment_id"))
    op.drop_table("voice_commitment_change")
    op.drop_table("voice_commitment")
    with op.batch_alter_table("voice_panel_point", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_panel_point_meeting_id"))
    op.drop_table("voice_panel_point")
    with op.batch_alter_table("voice_panel_meeting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_panel_meeting_panel_id"))
    op.drop_table("voice_panel_meeting")
    with op.batch_alter_table("voice_panel", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_panel_organisation_id"))
    op.drop_table("voice_panel")
