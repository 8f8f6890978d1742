"""One sub-package per model: its instance, plan, evaluation, cases and exact formulation."""
