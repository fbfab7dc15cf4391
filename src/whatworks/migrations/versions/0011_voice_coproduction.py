"""voice: co-production on projects: who took part (children, young people, families,
staff, partners, communities), at which stage (design, delivery, evaluation) and how

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 23:28:03

Each activity suggests a rating of "sustained engagement with children and families"
(docs/voice.md, "Co-production").
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voice_coproduction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("group", sa.String(length=20), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=60), nullable=False),
        sa.Column("people", sa.Integer(), nullable=True),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_voice_coproduction_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_voice_coproduction_project_id_project"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_coproduction")),
    )
    with op.batch_alter_table("voice_coproduction", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_coproduction_project_id"), ["project_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("voice_coproduction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_coproduction_project_id"))
    op.drop_table("voice_coproduction")
