"""Routes of the shared data the operator keeps: materials, links, settings, the period."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import or_, select

from ..errors import InputError
from ..fields import join
from .api_common import ERRORS, IdPath, Limit, Offset, nudge, page_of
from .assemble import settings, settings_out
from .audit import record
from .context import Ctx, ctx, operator
from .period import advance_period as end_period
from .schemas import (
    AdvanceIn,
    LinkIn,
    LinkOut,
    MaterialIn,
    MaterialOut,
    MaterialPatch,
    Page,
    SettingsIn,
    SettingsOut,
)
from .tables import Firm, Link, Material

router = APIRouter(tags=["shared data"], responses=ERRORS)


def material_out(m: Material) -> dict:
    return {"id": m.id, "name": m.name, "life": m.life, "value": m.value, "price": m.price,
            "version": m.version}


def link_out(ln: Link) -> dict:
    return {"id": ln.id, "from_firm": ln.from_firm_id, "to_firm": ln.to_firm_id,
            "lead_time": ln.lead_time, "unit_cost": ln.unit_cost,
            "unit_costs": dict(ln.unit_costs), "fixed_cost": ln.fixed_cost,
            "version": ln.version}


# ---------------------------------------------------------------- materials
@router.get("/materials", response_model=Page[MaterialOut])
def list_materials(limit: Limit = 100, offset: Offset = 0, c: Ctx = Depends(ctx)):
    """Every party reads the materials: they are the shared vocabulary of the firms' data."""
    return page_of(c.session, select(Material), Material.id, limit, offset, material_out)


@router.get("/materials/{material_id}", response_model=MaterialOut)
def get_material(material_id: IdPath, c: Ctx = Depends(ctx)):
    m = c.session.get(Material, material_id)
    if m is None:
        raise HTTPException(404, "no such material")
    return material_out(m)


@router.post("/materials", response_model=MaterialOut, status_code=201)
def create_material(body: MaterialIn, c: Ctx = Depends(operator)):
    def change(s):
        if s.scalar(select(Material).where(Material.name == body.name)) is not None:
            raise HTTPException(409, f"a material named {body.name!r} exists")
        m = Material(name=body.name, life=body.life, value=body.value,
                     price=body.value if body.price is None else body.price)
        s.add(m)
        s.flush()
        record(s, c.party.actor, "material.create", f"materials/{m.id}", None,
               material_out(m))
        return material_out(m)
    return c.write(change, 201, nudge(c.request, "material"))


@router.patch("/materials/{material_id}", response_model=MaterialOut)
def patch_material(material_id: IdPath, body: MaterialPatch, c: Ctx = Depends(operator)):
    def change(s):
        m = s.get(Material, material_id)
        if m is None:
            raise HTTPException(404, "no such material")
        if body.version != m.version:
            raise HTTPException(409, f"stale version {body.version}: the material is at "
                                     f"version {m.version}")
        before = material_out(m)
        for key in body.model_fields_set - {"version"}:
            value = getattr(body, key)
            if value is None and key != "life":
                raise InputError(key, "must not be null")
            setattr(m, key, value)
        if body.name is not None and s.scalar(select(Material).where(
                Material.name == body.name, Material.id != m.id)) is not None:
            raise HTTPException(409, f"a material named {body.name!r} exists")
        s.flush()
        record(s, c.party.actor, "material.update", f"materials/{m.id}", before,
               material_out(m))
        return material_out(m)
    return c.write(change, 200, nudge(c.request, "material"))


# ---------------------------------------------------------------- links
@router.get("/links", response_model=Page[LinkOut])
def list_links(limit: Limit = 100, offset: Offset = 0, c: Ctx = Depends(ctx)):
    """The operator reads every link; a firm the links that start or end at it."""
    s = c.session
    q = select(Link)
    if not c.party.is_operator:
        q = q.where(or_(Link.from_firm_id == c.party.firm_id,
                        Link.to_firm_id == c.party.firm_id))
    return page_of(s, q, Link.id, limit, offset, link_out)


@router.post("/links", response_model=LinkOut, status_code=201)
def create_link(body: LinkIn, c: Ctx = Depends(operator)):
    def change(s):
        for key in ("from_firm", "to_firm"):
            if s.get(Firm, getattr(body, key)) is None:
                raise InputError(key, f"unknown firm {getattr(body, key)}")
        if body.from_firm == body.to_firm:
            raise InputError("to_firm", "a link from a firm to itself")
        known = set(s.scalars(select(Material.name)))
        for name in body.unit_costs:
            if name not in known:
                raise InputError(join("unit_costs", name), "unknown material")
        if s.scalar(select(Link).where(Link.from_firm_id == body.from_firm,
                                       Link.to_firm_id == body.to_firm)) is not None:
            raise HTTPException(409, "this link exists")
        ln = Link(from_firm_id=body.from_firm, to_firm_id=body.to_firm,
                  lead_time=body.lead_time, unit_cost=body.unit_cost,
                  unit_costs=dict(body.unit_costs), fixed_cost=body.fixed_cost)
        s.add(ln)
        s.flush()
        record(s, c.party.actor, "link.create", f"links/{ln.id}", None, link_out(ln))
        return link_out(ln)
    return c.write(change, 201, nudge(c.request, "link"))


# ---------------------------------------------------------------- settings and time
@router.get("/settings", response_model=SettingsOut)
def get_settings(c: Ctx = Depends(ctx)):
    return settings_out(settings(c.session))


@router.put("/settings", response_model=SettingsOut)
def put_settings(body: SettingsIn, c: Ctx = Depends(operator)):
    """The horizon's length and the loan rules (the current period moves only by advancing).
    Series of the firms' data are cut or padded with zeros to a new horizon."""
    def change(s):
        st = settings(s)
        if body.version != st.version:
            raise HTTPException(409, f"stale version {body.version}: the settings are at "
                                     f"version {st.version}")
        before = settings_out(st)
        st.periods = body.periods
        st.loan_durations = sorted(set(body.loan_durations))
        st.loan_fee = body.loan_fee
        s.flush()
        record(s, c.party.actor, "settings.update", "settings/1", before, settings_out(st))
        return settings_out(st)
    return c.write(change, 200, nudge(c.request, "settings"))


@router.post("/period/advance", response_model=SettingsOut)
def advance_period(body: AdvanceIn, c: Ctx = Depends(operator)):
    """End the current period: each firm's receipt of the period arrives and its requirement
    is consumed first-expiry-first, what expires is wasted, the series move on by one;
    proposals not committed by their departure period expire. Then the planner re-plans."""
    def change(s):
        st = settings(s)
        if body.current_period != st.current_period:
            raise HTTPException(409, f"stale: the current period is {st.current_period}")
        end_period(s, c.party.actor)
        return settings_out(st)
    return c.write(change, 200, nudge(c.request, "period advanced"))
