"""The API's request and response bodies.

Every request body is strict: unknown fields, wrong types (a string for a number, a boolean
for an integer), NaN and infinities, and numbers outside the instance format's ranges
(``engine/limits.py``) are refused with 422 naming the field.
"""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ..limits import MAX_MONEY, MAX_PERIODS, MAX_QUANTITY

Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]
Money = Annotated[float, Field(ge=0, le=MAX_MONEY)]
Quantity = Annotated[float, Field(ge=0, le=MAX_QUANTITY)]
Periods = Annotated[int, Field(ge=1, le=MAX_PERIODS)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]
Reason = Annotated[str, Field(max_length=1000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


T = TypeVar("T")


class Page(Out, Generic[T]):
    """One page of a list: ``items`` from ``offset`` on, ``total`` in all."""

    items: list[T]
    total: int
    limit: int
    offset: int


class Problem(Out):
    """An error: what went wrong, in a sentence (or the refusal's details)."""

    detail: str | dict


# ---------------------------------------------------------------- parties
class FirmIn(Strict):
    name: Name


class FirmOut(Out):
    id: int
    name: str
    token_active: bool
    version: int


class TokenOut(Out):
    """A new bearer token: shown once, stored only as its hash."""

    firm_id: int
    name: str
    token: str


class Me(Out):
    role: Literal["operator", "firm"]
    firm_id: int | None
    name: str


# ---------------------------------------------------------------- shared data
class MaterialIn(Strict):
    name: Name
    life: Periods | None = None
    value: Money
    price: Money | None = Field(None, description="default: value")


class MaterialPatch(Strict):
    name: Name | None = None
    life: Periods | None = None
    value: Money | None = None
    price: Money | None = None
    version: Version


class MaterialOut(Out):
    id: int
    name: str
    life: int | None
    value: float
    price: float
    version: int


class LinkIn(Strict):
    from_firm: Id
    to_firm: Id
    lead_time: Periods
    unit_cost: Money
    unit_costs: dict[Name, Money] = Field(default_factory=dict,
                                          description="per material name, over unit_cost")
    fixed_cost: Money = 0.0


class LinkOut(Out):
    id: int
    from_firm: int
    to_firm: int
    lead_time: int
    unit_cost: float
    unit_costs: dict[str, float]
    fixed_cost: float
    version: int


class SettingsIn(Strict):
    periods: Periods
    loan_durations: Annotated[list[Periods], Field(max_length=100)] = Field(default_factory=list)
    loan_fee: Money = 0.0
    version: Version


class SettingsOut(Out):
    periods: int
    current_period: int
    loan_durations: list[int]
    loan_fee: float
    version: int


class AdvanceIn(Strict):
    current_period: Annotated[int, Field(ge=1, le=2**31 - 1,
                                         description="the period the caller believes is "
                                                     "current (a stale one gets 409)")]


# ---------------------------------------------------------------- a firm's own data
class LotIn(Strict):
    qty: Quantity
    last_period: Annotated[int, Field(ge=1, le=MAX_PERIODS)] | None = None


Series = Annotated[list[Quantity], Field(max_length=MAX_PERIODS)]
Lots = Annotated[list[LotIn], Field(max_length=10_000)]


class StockIn(Strict):
    """A firm's data for one material, as a ``stock`` entry of the network instance format
    (periods relative to the current one). ``version``: the stored version when replacing,
    none when creating."""

    lots: Lots = Field(default_factory=list)
    receipts: Series | None = None
    requirements: Series | None = None
    protected: Quantity = 0.0
    hold: Money
    shortage: Money
    version: Version | None = None


class StockPatch(Strict):
    lots: Lots | None = None
    receipts: Series | None = None
    requirements: Series | None = None
    protected: Quantity | None = None
    hold: Money | None = None
    shortage: Money | None = None
    version: Version


class LotOut(Out):
    qty: float
    last_period: int | None


class StockOut(Out):
    material_id: int
    material: str
    lots: list[LotOut]
    receipts: list[float]
    requirements: list[float]
    protected: float
    hold: float
    shortage: float
    version: int


class Figures(Out):
    """A firm's own figures in the latest plan (money in currency units)."""

    run_id: int | None
    cost_change: float | None = Field(description="own cost + transfer costs + payments "
                                                  "minus its cost without sharing")
    own_cost: float | None
    transfer_paid: float | None
    payments_net: float | None
    delays_avoided: float | None
    waste_avoided: float | None
    money_paid: float
    money_received: float


# ---------------------------------------------------------------- transfers
class TransferIn(Strict):
    """A transfer proposed by hand (the planner proposes its own)."""

    donor: Id
    receiver: Id
    material_id: Id
    period: Annotated[int, Field(ge=1, le=2**31 - 1, description="absolute departure period")]
    qty: Annotated[float, Field(gt=0, le=MAX_QUANTITY)]
    kind: Literal["permanent", "loan"] = "permanent"
    return_period: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


class StepIn(Strict):
    version: Version
    reason: Reason | None = None


class TransferOut(Out):
    id: int
    donor: str
    receiver: str
    material: str
    kind: str
    qty: float
    period: int
    arrival: int
    return_period: int | None
    price: float
    state: str
    payback: str | None
    reason: str | None
    version: int


class AuditOut(Out):
    id: int
    at: str
    actor: str
    action: str
    resource: str
    before: dict | None
    after: dict | None


# ---------------------------------------------------------------- planning
class RunOut(Out):
    id: int
    trigger: str
    audit_seq: int
    current_period: int
    method: str
    seed: int
    time_limit: float
    max_iter: int | None
    status: str
    cost: float | None
    bound: float | None
    wall_s: float | None
    replay_of: int | None
    warm_started: bool
    pinned: int


class RunDetail(RunOut):
    instance: dict
    index: dict
    plan: dict | None
    error: str | None
