"""The service's tables (SQLAlchemy 2). The schema itself is made by the migrations.

Periods: ``Setting.current_period`` counts from 1 and never goes back; a firm's series
(``receipts``, ``requirements``) and its lots' ``last_period`` are relative to the current
period, as in the network instance format (period 1 is the current one). Transfers keep
absolute periods, so they stay true when the period advances.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Versioned:
    """A row with a version that every change increments (optimistic concurrency: the
    mapper's ``UPDATE ... WHERE version = v`` finds no row when another writer was first)."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class Firm(Versioned, Base):
    __tablename__ = "firms"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    #: sha256 of the bearer token; None when revoked.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    __mapper_args__ = {"version_id_col": Versioned.version}


class Material(Versioned, Base):
    __tablename__ = "materials"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    life: Mapped[int | None] = mapped_column(Integer, nullable=True)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    price: Mapped[float] = mapped_column(Float, nullable=False)
    __mapper_args__ = {"version_id_col": Versioned.version}


class Link(Versioned, Base):
    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("from_firm_id", "to_firm_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    from_firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), nullable=False)
    to_firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), nullable=False)
    lead_time: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_cost: Mapped[float] = mapped_column(Float, nullable=False)
    #: Per-material unit costs by material name, overriding ``unit_cost``.
    unit_costs: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    fixed_cost: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    __mapper_args__ = {"version_id_col": Versioned.version}


class Setting(Versioned, Base):
    """The one row of shared settings: the horizon, the current period, the loan rules."""

    __tablename__ = "settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    periods: Mapped[int] = mapped_column(Integer, nullable=False)
    current_period: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    loan_durations: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    loan_fee: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    __mapper_args__ = {"version_id_col": Versioned.version}


class Stock(Versioned, Base):
    """A firm's own data for one material (a pair of the network model)."""

    __tablename__ = "stock"
    __table_args__ = (UniqueConstraint("firm_id", "material_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), nullable=False, index=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"), nullable=False)
    lots: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    receipts: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    requirements: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    protected: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    hold: Mapped[float] = mapped_column(Float, nullable=False)
    shortage: Mapped[float] = mapped_column(Float, nullable=False)
    __mapper_args__ = {"version_id_col": Versioned.version}


class Transfer(Versioned, Base):
    __tablename__ = "transfers"
    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), nullable=False, index=True)
    receiver_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), nullable=False,
                                             index=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    qty: Mapped[float] = mapped_column(Float, nullable=False)
    #: Absolute departure and arrival periods; a loan's return period (payback arrives).
    period: Mapped[int] = mapped_column(Integer, nullable=False)
    arrival: Mapped[int] = mapped_column(Integer, nullable=False)
    return_period: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: Money per unit (permanent: the material's price) or per unit and period (loan: fee).
    price: Mapped[float] = mapped_column(Float, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    #: A loan's payback: None (not yet owed), owed, shipped, returned.
    payback: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The lots the shipment took (qty, absolute last period), handed to the receiver.
    carried: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    payback_carried: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("planning_runs.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    __mapper_args__ = {"version_id_col": Versioned.version}


class AuditEntry(Base):
    """One state change. Append-only: nothing updates or deletes a row."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, nullable=False)
    #: "operator", "firm:<id>" or "planner".
    actor: Mapped[str] = mapped_column(String(40), nullable=False)
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    #: "<table>/<id>"
    resource: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    #: The firms whose records this is (they may read it); None: the operator's only.
    firm_a: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    firm_b: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class PlanningRun(Base):
    __tablename__ = "planning_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    trigger: Mapped[str] = mapped_column(String(60), nullable=False)
    #: The audit sequence number the instance was assembled at: the inputs' version.
    audit_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    current_period: Mapped[int] = mapped_column(Integer, nullable=False)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    seed: Mapped[int] = mapped_column(Integer, nullable=False)
    time_limit: Mapped[float] = mapped_column(Float, nullable=False)
    max_iter: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: The assembled instance document and the firm and material ids of its indices.
    instance: Mapped[dict] = mapped_column(JSON, nullable=False)
    index: Mapped[dict] = mapped_column(JSON, nullable=False)
    warm_start: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    pins: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(40), nullable=False)
    cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    bound: Mapped[float | None] = mapped_column(Float, nullable=True)
    wall_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    plan: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    replay_of: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                         nullable=True)


class IdempotentResponse(Base):
    """The response of a write sent with an ``Idempotency-Key``, returned again on a retry."""

    __tablename__ = "idempotency"
    party: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    body: Mapped[dict | list | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
