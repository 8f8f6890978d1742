"""The SFI model: multi-period delayed production with semi-finished inventory."""

from .cases import generate, load_steel, steel_case
from .evaluate import COMPONENTS, KPIS, Evaluation, batch_costs, evaluate, plan_use
from .instance import Instance
from .plan import Plan, check_feasible, violations

__all__ = [
    "COMPONENTS", "KPIS", "Evaluation", "Instance", "Plan", "batch_costs", "check_feasible",
    "evaluate", "generate", "load_steel", "plan_use", "steel_case", "violations",
]
