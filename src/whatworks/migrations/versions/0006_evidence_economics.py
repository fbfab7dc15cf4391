"""evidence economics: an intervention's economic case and its savings claims

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "economic_case",
        sa.Column("intervention_id", sa.String(length=80), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("value_unit", sa.Text(), nullable=False),
        sa.Column("value_per_unit", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("value_source", sa.Text(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("baseline_source", sa.Text(), nullable=False),
        sa.Column("horizon_years", sa.Integer(), nullable=False),
        sa.Column("cost_per_child", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("cost_uncertainty", sa.Float(), nullable=False),
        sa.Column("discount_rate", sa.Float(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["intervention_id"],
            ["intervention.id"],
            name=op.f("fk_economic_case_intervention_id_intervention"),
        ),
        sa.PrimaryKeyConstraint("intervention_id", name=op.f("pk_economic_case")),
    )
    op.create_table(
        "claimed_saving",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intervention_id", sa.String(length=80), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("entered_by", sa.String(length=120), nullable=False),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["intervention_id"],
            ["intervention.id"],
            name=op.f("fk_claimed_saving_intervention_id_intervention"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claimed_saving")),
    )
    with op.batch_alter_table("claimed_saving", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_claimed_saving_intervention_id"), ["intervention_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("claimed_saving", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claimed_saving_intervention_id"))
    op.drop_table("claimed_saving")
    op.drop_table("economic_case")
