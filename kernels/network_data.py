"""The records the network kernels take: named tuples of arrays, built once per instance.

As for the SFI kernels (``kernels/sfi_data.py``): Numba passes a named tuple as one argument
and reads its fields at compile time. The engine builds them
(``engine/models/network/evaluate.py: KernelData``, ``problem.py``).
"""

from __future__ import annotations

from collections import namedtuple

#: What the simulation of one material (:func:`invswarm.kernels.network.material`) reads:
#: ``lots`` (N, M, T + 1), units on hand by expiry bucket; ``receipts`` and ``requirements``
#: (N, M, T), units; ``receipt_bucket`` (M, T), the expiry bucket of a receipt; per link,
#: shape (L,): ``link_from``, ``link_to``, ``lead`` (periods); ``hold`` and ``shortage``
#: (N, M), per unit and period; ``value`` (M,), lost per expired unit; donor protection,
#: ``floor`` and ``base_backlog`` (N, M, T): the least end stock and the most backlog a donor
#: may have. Apart from :data:`Costs`, because a function called in a hot loop takes a
#: reference to every array of a record it is given (and a record of records cannot cross
#: into a parallel loop).
Stock = namedtuple("Stock", (
    "lots", "receipts", "requirements", "receipt_bucket", "link_from", "link_to", "lead",
    "hold", "shortage", "value", "floor", "base_backlog"))

#: What the cost of a plan adds to the simulation's: ``unit_cost`` (L, M) and ``fixed_cost``
#: (L,), money; ``price`` (M,), per unit; ``loan_fee`` (float, per unit and period); the
#: baseline's accumulators per pair, ``base_pair`` (N, M, N_ACC), and per firm,
#: ``base_firm`` (N, N_ACC); ``tol`` (float, units), the feasibility tolerance.
Costs = namedtuple("Costs", ("unit_cost", "fixed_cost", "price", "loan_fee", "base_pair",
                             "base_firm", "tol"))

#: Moves (shape (K,) each) in kernel order: ``link``, ``material``, ``departure`` (period),
#: ``quantity`` (units), ``kind`` (SHIP, LOAN, PAYBACK) and a loan's ``duration`` (periods).
MoveArrays = namedtuple("MoveArrays", ("link", "material", "departure", "quantity", "kind",
                                       "duration"))

#: What the decoder chooses among (``engine/models/network/problem.py``): ``materials``, those
#: with a receiver, rescue arc or kept shipment; receivers of material ``m``,
#: ``receiver_ptr[m]:receiver_ptr[m + 1]`` of ``receiver_firm`` (R,); arcs of receiver ``r``,
#: ``arc_ptr[r]:arc_ptr[r + 1]`` of ``arc_link`` and ``arc_donor`` (A,); ``n_receivers``
#: (R); the ``covers`` a receiver may choose (periods); rescue arcs of ``m``,
#: ``rescue_ptr[m]:rescue_ptr[m + 1]`` of ``rescue_link`` (RA,); ``forbidden``, the sorted
#: codes ``(link * M + material) * T + period`` no shipment may take; ``reverse`` (L,), the
#: way back of each link (-1 if none); the loan ``durations``; ``start`` (N, M, T, 4), the
#: trajectories under the kept shipments alone; ``n_bisect``, the halvings of an amount
#: search; ``capacity``, the room in the outputs (moves); ``halt`` (1,) int8, set (1) from
#: outside to end every decode at its next material (a stop, which a kernel cannot ask for).
Choices = namedtuple("Choices", (
    "materials", "receiver_ptr", "receiver_firm", "arc_ptr", "arc_link", "arc_donor",
    "n_receivers", "covers", "rescue_ptr", "rescue_link", "forbidden", "reverse", "durations",
    "start", "n_bisect", "capacity", "halt"))

#: Shipments every decoded plan keeps: those of material ``m`` are ``ptr[m]:ptr[m + 1]`` of
#: ``link``, ``departure``, ``quantity``, ``kind`` and ``duration`` (a loan's).
Kept = namedtuple("Kept", ("ptr", "link", "departure", "quantity", "kind", "duration"))

#: One material's moves while it is decoded (``link``, ``departure``, ``quantity``, ``kind``,
#: ``duration``; room for more than it holds).
MoveList = namedtuple("MoveList", ("link", "departure", "quantity", "kind", "duration"))

#: A shipment on trial: ``link`` and ``departure``, ``kind`` and ``duration``; a loan's way
#: back ``return_link`` and ``return_departure`` (-1 when not a loan).
Offer = namedtuple("Offer", ("link", "departure", "kind", "duration", "return_link",
                             "return_departure"))
