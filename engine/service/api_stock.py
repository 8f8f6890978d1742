"""Routes of a firm's own data: its stock entry per material, and its figures."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import or_, select

from ..errors import InputError
from ..models.network import Instance, Plan
from .api_common import ERRORS, IdPath, Limit, Offset, nudge, page_of
from .assemble import settings
from .audit import record
from .context import Ctx, own_firm
from .figures import firm_figures
from .firmdata import fit, validate_entry
from .schemas import Figures, Page, StockIn, StockOut, StockPatch
from .tables import Firm, Material, PlanningRun, Stock, Transfer
from .workflow import stock_view

router = APIRouter(tags=["firm data"], responses=ERRORS)
FIELDS = ("lots", "receipts", "requirements", "protected", "hold", "shortage")


def stock_out(st: Stock, material: Material, periods: int) -> dict:
    return {"material_id": st.material_id, "material": material.name, "lots": st.lots,
            "receipts": fit(st.receipts, periods),
            "requirements": fit(st.requirements, periods), "protected": st.protected,
            "hold": st.hold, "shortage": st.shortage, "version": st.version}


def _firm(c: Ctx, firm_id: int) -> Firm:
    f = c.session.get(Firm, firm_id)
    if f is None:
        raise HTTPException(404, "no such firm")
    return f


def _pair(c: Ctx, firm_id: int, material_id: int) -> Stock | None:
    return c.session.scalar(select(Stock).where(Stock.firm_id == firm_id,
                                                Stock.material_id == material_id))


@router.get("/firms/{firm_id}/stock", response_model=Page[StockOut])
def list_stock(firm_id: IdPath, limit: Limit = 100, offset: Offset = 0,
               c: Ctx = Depends(own_firm)):
    _firm(c, firm_id)
    s = c.session
    T = settings(s).periods
    mats = {m.id: m for m in s.scalars(select(Material))}
    q = select(Stock).where(Stock.firm_id == firm_id)
    return page_of(s, q, Stock.material_id, limit, offset,
                   lambda st: stock_out(st, mats[st.material_id], T))


@router.get("/firms/{firm_id}/stock/{material_id}", response_model=StockOut)
def get_stock(firm_id: IdPath, material_id: IdPath, c: Ctx = Depends(own_firm)):
    _firm(c, firm_id)
    st = _pair(c, firm_id, material_id)
    if st is None:
        raise HTTPException(404, "no data for this material")
    return stock_out(st, c.session.get(Material, material_id), settings(c.session).periods)


def _write(c: Ctx, firm_id: int, material_id: int, fields: dict, version: int | None,
           patch: bool):
    def change(s):
        _firm(c, firm_id)
        mat = s.get(Material, material_id)
        if mat is None:
            raise HTTPException(404, "no such material")
        T = settings(s).periods
        st = _pair(c, firm_id, material_id)
        if st is None and patch:
            raise HTTPException(404, "no data for this material (PUT creates it)")
        if st is not None and version is None:
            raise HTTPException(409, f"the data exist (version {st.version}): send their "
                                     f"version to replace them")
        if st is None and version is not None:
            raise HTTPException(409, f"stale version {version}: there are no data yet")
        if st is not None and version != st.version:
            raise HTTPException(409, f"stale version {version}: the data are at version "
                                     f"{st.version}")
        # a null series is all zeros (as in the instance format), not "leave it"
        entry = {k: v for k, v in fields.items()
                 if v is not None or k in ("receipts", "requirements")}
        if patch:
            entry = {**{k: getattr(st, k) for k in FIELDS}, **entry}
        entry = validate_entry(entry, mat, T)
        before = None if st is None else stock_view(st)
        if st is None:
            st = Stock(firm_id=firm_id, material_id=material_id)
            s.add(st)
        for k in FIELDS:
            setattr(st, k, entry.get(k, 0.0 if k == "protected" else getattr(st, k)))
        s.flush()
        record(s, c.party.actor, "stock.patch" if patch else "stock.put",
               f"stock/{firm_id}/{material_id}", before, stock_view(st), (firm_id,))
        return stock_out(st, mat, T)
    return c.write(change, 200, nudge(c.request, "firm data"))


@router.put("/firms/{firm_id}/stock/{material_id}", response_model=StockOut)
def put_stock(firm_id: IdPath, material_id: IdPath, body: StockIn, c: Ctx = Depends(own_firm)):
    """Create (no ``version``) or replace (the stored ``version``) the firm's data for one
    material. Series are per period of the horizon from the current period on."""
    fields = body.model_dump(exclude={"version"})
    return _write(c, firm_id, material_id, fields, body.version, patch=False)


@router.patch("/firms/{firm_id}/stock/{material_id}", response_model=StockOut)
def patch_stock(firm_id: IdPath, material_id: IdPath, body: StockPatch,
                c: Ctx = Depends(own_firm)):
    """Change some fields of the firm's data for one material (``version`` required)."""
    fields = body.model_dump(include=body.model_fields_set - {"version"})
    for key, value in fields.items():
        if value is None and key not in ("receipts", "requirements"):
            raise InputError(key, "must not be null")
    return _write(c, firm_id, material_id, fields, body.version, patch=True)


@router.get("/firms/{firm_id}/figures", response_model=Figures)
def figures(firm_id: IdPath, c: Ctx = Depends(own_firm)):
    """The firm's own figures in the latest plan: its cost change against no sharing, the
    delays and waste its pairs avoid, and the money it paid and received for transfers."""
    _firm(c, firm_id)
    s = c.session
    paid = received = 0.0
    for tr in s.scalars(select(Transfer).where(
            Transfer.state == "received",
            or_(Transfer.donor_id == firm_id, Transfer.receiver_id == firm_id))):
        amount = tr.qty * tr.price * (1 if tr.kind == "permanent"
                                      else tr.return_period - tr.period)
        if tr.receiver_id == firm_id:
            paid += amount
        else:
            received += amount
    out = {"run_id": None, "cost_change": None, "own_cost": None, "transfer_paid": None,
           "payments_net": None, "delays_avoided": None, "waste_avoided": None,
           "money_paid": paid, "money_received": received}
    run = s.scalar(select(PlanningRun).where(PlanningRun.plan.is_not(None),
                                             PlanningRun.replay_of.is_(None))
                   .order_by(PlanningRun.id.desc()).limit(1))
    if run is None or firm_id not in run.index["firms"]:
        return out
    inst = Instance.from_json(run.instance)
    f = run.index["firms"].index(firm_id)
    out.update(run_id=run.id, **firm_figures(inst, Plan.from_json(run.plan, inst), f))
    return out
