"""The contracts model: supply contracts between competing manufacturers and retailers, then
order-up-to replenishment under demand noise and disruptions (seed 002)."""

from .cases import generate, seed_case, seed_case_doc
from .instance import MODES, Instance
from .plan import Plan

__all__ = ["MODES", "Instance", "Plan", "generate", "seed_case", "seed_case_doc"]
