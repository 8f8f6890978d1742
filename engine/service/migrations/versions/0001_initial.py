"""The first schema: parties, shared data, firms' data, transfers, audit, planning runs.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "firms",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
        _ts("created_at"),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "materials",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("life", sa.Integer, nullable=True),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("price", sa.Float, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("from_firm_id", sa.Integer, sa.ForeignKey("firms.id"), nullable=False),
        sa.Column("to_firm_id", sa.Integer, sa.ForeignKey("firms.id"), nullable=False),
        sa.Column("lead_time", sa.Integer, nullable=False),
        sa.Column("unit_cost", sa.Float, nullable=False),
        sa.Column("unit_costs", sa.JSON, nullable=False),
        sa.Column("fixed_cost", sa.Float, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("from_firm_id", "to_firm_id"),
    )
    op.create_table(
        "settings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("periods", sa.Integer, nullable=False),
        sa.Column("current_period", sa.Integer, nullable=False),
        sa.Column("loan_durations", sa.JSON, nullable=False),
        sa.Column("loan_fee", sa.Float, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "stock",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("firm_id", sa.Integer, sa.ForeignKey("firms.id"), nullable=False,
                  index=True),
        sa.Column("material_id", sa.Integer, sa.ForeignKey("materials.id"), nullable=False),
        sa.Column("lots", sa.JSON, nullable=False),
        sa.Column("receipts", sa.JSON, nullable=False),
        sa.Column("requirements", sa.JSON, nullable=False),
        sa.Column("protected", sa.Float, nullable=False),
        sa.Column("hold", sa.Float, nullable=False),
        sa.Column("shortage", sa.Float, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("firm_id", "material_id"),
    )
    op.create_table(
        "planning_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("trigger", sa.String(60), nullable=False),
        sa.Column("audit_seq", sa.Integer, nullable=False),
        sa.Column("current_period", sa.Integer, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("time_limit", sa.Float, nullable=False),
        sa.Column("max_iter", sa.Integer, nullable=True),
        sa.Column("instance", sa.JSON, nullable=False),
        sa.Column("index", sa.JSON, nullable=False),
        sa.Column("warm_start", sa.JSON, nullable=True),
        sa.Column("pins", sa.JSON, nullable=True),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("cost", sa.Float, nullable=True),
        sa.Column("bound", sa.Float, nullable=True),
        sa.Column("wall_s", sa.Float, nullable=True),
        sa.Column("plan", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("replay_of", sa.Integer, nullable=True),
        _ts("created_at"),
        _ts("finished_at"),
    )
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("donor_id", sa.Integer, sa.ForeignKey("firms.id"), nullable=False,
                  index=True),
        sa.Column("receiver_id", sa.Integer, sa.ForeignKey("firms.id"), nullable=False,
                  index=True),
        sa.Column("material_id", sa.Integer, sa.ForeignKey("materials.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("qty", sa.Float, nullable=False),
        sa.Column("period", sa.Integer, nullable=False),
        sa.Column("arrival", sa.Integer, nullable=False),
        sa.Column("return_period", sa.Integer, nullable=True),
        sa.Column("price", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("payback", sa.String(16), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("carried", sa.JSON, nullable=False),
        sa.Column("payback_carried", sa.JSON, nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("planning_runs.id"), nullable=True),
        _ts("created_at"),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        _ts("at", nullable=False),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("resource", sa.String(80), nullable=False, index=True),
        sa.Column("firm_a", sa.Integer, nullable=True, index=True),
        sa.Column("firm_b", sa.Integer, nullable=True, index=True),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("after", sa.JSON, nullable=True),
    )
    op.create_table(
        "idempotency",
        sa.Column("party", sa.String(40), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("body", sa.JSON, nullable=True),
        _ts("created_at"),
    )


def downgrade() -> None:
    for name in ("idempotency", "audit", "transfers", "planning_runs", "stock", "settings",
                 "links", "materials", "firms"):
        op.drop_table(name)
