"""The network model: redeployment of stock between independent manufacturers."""

from .cases import electronics_case, electronics_doc, generate
from .evaluate import (
                       BREAKDOWN,
                       KPIS,
                       Authorization,
                       Evaluation,
                       KernelData,
                       Refusal,
                       authorize,
                       batch_costs,
                       evaluate,
                       plan_costs,
)
from .instance import Instance
from .plan import Plan

__all__ = [
    "BREAKDOWN", "KPIS", "Authorization", "Evaluation", "Instance", "KernelData", "Plan",
    "Refusal", "authorize", "batch_costs", "electronics_case", "electronics_doc", "evaluate",
    "generate", "plan_costs",
]
