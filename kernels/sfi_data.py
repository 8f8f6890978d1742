"""The records the SFI kernels take: named tuples of arrays, built once per instance.

Numba passes a named tuple as one argument and reads a field at compile time, and a field's
name says what it holds. A helper called in a hot loop takes the few arrays it reads instead
(docs/architecture.md, "Records"). The engine builds them
(``engine/models/sfi/evaluate.py: kernel_data``, ``problem.py``, ``scoring.py``); the kernels
allocate their scratch with :func:`play_state`.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

#: The instance, as the cost kernels read it (fields named as ``Instance``'s attributes).
#: Per stage, shape (S + 1,): ``remaining`` processing time (h), unit ``value``, ``hold``
#: (per unit-hour), ``setup_generic``, ``setup_dedicated``, ``setup_reuse``;
#: ``disposal_rate`` (float); per product, shape (P,): ``category``, ``lead_time`` (h),
#: ``delay_penalty`` (per unit-hour), ``service_level``, ``service_penalty`` and
#: ``lost_penalty`` (per unit); ``order``, shape (P,): the products in service order; per
#: period, shape (T,): ``prep`` and ``fulfil`` (phase lengths, h), ``mto_capacity`` (units);
#: ``orders`` (NS, P, T) and ``weights`` (NS,); the initial state: ``init_generic_stage``,
#: ``init_generic_qty`` (C,), ``init_dedicated_stage``, ``init_dedicated_qty``,
#: ``init_backlog`` (P,).
Model = namedtuple("Model", (
    "remaining", "value", "hold", "setup_generic", "setup_dedicated", "setup_reuse",
    "disposal_rate", "category", "order", "lead_time", "delay_penalty", "service_level",
    "service_penalty", "lost_penalty", "prep", "fulfil", "mto_capacity", "orders", "weights",
    "init_generic_stage", "init_generic_qty", "init_dedicated_stage", "init_dedicated_qty",
    "init_backlog"))

#: The decoder's tables (:func:`invswarm.kernels.sfi_decode.decode_one`): ``usable_pdp`` (C, maxKG)
#: and ``n_usable_pdp`` (C,), the usable PDP candidates, ascending, padded;
#: ``codp_candidates`` (P, maxKD) and ``n_codp_candidates`` (P,); ``first_codp`` (P, S + 1),
#: the index of the first CODP candidate at or after each stage; ``category`` (P,);
#: ``most_generic`` (C, T) and ``most_dedicated`` (P, T), the most a buffer is worth making
#: (units); ``snap_generic``, ``snap_dedicated`` (C or P, T, m), the snap points (units), and
#: ``window_generic``, ``window_dedicated`` their half-widths (units, -1 where padded);
#: ``capacity`` (T,).
Decoding = namedtuple("Decoding", (
    "usable_pdp", "n_usable_pdp", "codp_candidates", "n_codp_candidates", "first_codp",
    "category", "most_generic", "most_dedicated", "snap_generic", "window_generic",
    "snap_dedicated", "window_dedicated", "capacity"))

#: The products of each category and the service order, for plays of some categories:
#: category ``c``'s products are ``members[ptr[c]:ptr[c + 1]]`` (shapes (C + 1,), (P,));
#: ``rank`` (P,) is each product's place in the service order.
Groups = namedtuple("Groups", ("ptr", "members", "rank"))

#: A plan's trajectory under every scenario (:func:`invswarm.kernels.sfi_local.trajectory`):
#: the carried state at the start of each period, ``generic_stage``, ``generic_qty``
#: (NS, T + 1, C), ``dedicated_stage``, ``dedicated_qty``, ``backlog`` (NS, T + 1, P); the
#: cost of each period (NS, T), of each category's part of it (NS, T, C), the make-to-order
#: capacity left after each product in service order (NS, T, P + 1), and the parts of each
#: product's cost that later plays reuse (NS, T, P, 3).
Trajectory = namedtuple("Trajectory", (
    "generic_stage", "generic_qty", "dedicated_stage", "dedicated_qty", "backlog", "cost",
    "category_cost", "mto", "rest"))

#: The scratch state of one play: the carried generic buffers' stage and units and the new
#: ones' stage (C,), the carried dedicated buffers' stage and units and the new ones' stage
#: (P,), what is left of each carried and new buffer in the period, the backlog and the next
#: period's; for plays of some categories also each category's cost in the period (C,),
#: which products' backlog changed (P,, all False between plays) and the places of the
#: played products (P,).
PlayState = namedtuple("PlayState", (
    "generic_stage", "generic_qty", "dedicated_stage", "dedicated_qty", "new_generic_stage",
    "new_dedicated_stage", "left_generic", "left_new_generic", "left_dedicated",
    "left_new_dedicated", "backlog", "next_backlog", "category_cost", "changed", "places"))


@njit(cache=True)
def play_state(C, P):
    """A :data:`PlayState` for ``C`` categories and ``P`` products (``changed`` all False)."""
    return PlayState(np.empty(C, np.int64), np.empty(C), np.empty(P, np.int64), np.empty(P),
                     np.empty(C, np.int64), np.empty(P, np.int64), np.empty(C), np.empty(C),
                     np.empty(P), np.empty(P), np.empty(P), np.empty(P), np.empty(C),
                     np.zeros(P, dtype=np.bool_), np.empty(P, np.int64))
