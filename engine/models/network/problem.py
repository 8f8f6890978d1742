"""The network model as an optimisation problem over the unit cube (decoder in
``kernels/network_decode.py``)."""

from __future__ import annotations

import numpy as np

from ....kernels import network as knet
from ....kernels import network_decode as kdec
from ....kernels.network_data import Choices, Kept
from ...encoding import Block, Encoding, choice_to_unit
from .evaluate import FEAS_TOL, BatchCosts, KernelData, batch_costs, detail
from .instance import Instance
from .pins import Pins
from .plan import LOAN, Plan

#: Candidate donors kept per receiver (the cheapest by unit cost).
ARCS_PER_RECEIVER = 8
#: Cover horizons a receiver may choose (periods of future backlog one shipment covers; the
#: last, the rest of the horizon).
COVERS = (0, 1, 2, 3, 4, 5, 6, 8)


class NetworkProblem:
    """Decode and evaluate swarms of network plans.

    Receivers are the (firm, material) pairs with a backlog when nobody shares; donors are the
    pairs with stock above their protected level or stock that expires unused. A pair may be
    both a candidate receiver and a candidate donor (surplus early, shortage late): the decoder
    gives it the role its first shipment gives it. A particle holds ``2 R + 2 A + 3 RA``
    variables for ``R`` receivers, ``A`` arcs and ``RA`` rescue arcs (see
    ``kernels/network_decode.py``); every particle decodes to a feasible plan.

    With ``pins``, every decoded plan has the kept shipments, and no other shipment leaves
    on a forbidden link, material and period; receivers and donors are read from the
    trajectories under the kept shipments (the protection floors stay the baseline's).

    Parameters
    ----------
    inst : Instance
    n_bisect : int
        Halvings the decoder spends on an amount it cannot bound in closed form.
    data : KernelData, optional
    pins : Pins, optional
        Kept and forbidden shipments (the kept ones may be carried out on their own:
        :meth:`Pins.from_json` checks it).
    """

    #: Particles decoded between two looks at the run's end (:func:`invswarm.engine.pso.
    #: evaluate_until`): on large networks a whole swarm's decode outlasts a stop's latency
    #: and a time limit's tolerance.
    slice = 4

    #: Set (``halt[0] = 1``) to end the swarm's decodes at their next material, from another
    #: thread (:meth:`invswarm.engine.termination.StopToken.also_sets`): a particle's decode
    #: on a large network outlasts a stop's latency. A halted problem evaluates every swarm to
    #: inf; :meth:`decode` of one particle is not halted.
    halt: np.ndarray

    def __init__(self, inst: Instance, n_bisect: int = 12, data: KernelData | None = None,
                 pins: Pins | None = None):
        self.inst = inst
        self.data = data or KernelData(inst)
        self.pins = pins or Pins.none()
        self.n_bisect = int(n_bisect)
        self.halt = np.zeros(1, np.int8)
        base = self.data.base
        N, M, T = inst.requirements.shape
        keep = self.pins.keep
        start = detail(self.data, keep).traj if keep.n_shipments else base.traj
        back = start[:, :, :, knet.TR_BACKLOG]
        stock = start[:, :, :, knet.TR_STOCK]
        is_recv = inst.listed & (back > FEAS_TOL).any(axis=2)
        surplus = (stock > inst.protected[:, :, None] + FEAS_TOL).any(axis=2)
        wastes = start[:, :, :, knet.TR_WASTE].sum(axis=2) > FEAS_TOL
        is_donor = inst.listed & (surplus | wastes)
        recv_firm, recv_mat, arc_ptr, arc_link, arc_donor = [], [], [0], [], []
        mat_ptr = np.zeros(M + 1, np.int64)
        for m in range(M):
            for j in np.flatnonzero(is_recv[:, m]):
                links = [lk for lk in np.flatnonzero(inst.link_to == j)
                         if is_donor[inst.link_from[lk], m] and inst.link_from[lk] != j]
                links.sort(key=lambda lk: (inst.unit_cost[lk, m], lk))
                links = links[:ARCS_PER_RECEIVER]
                if not links:
                    continue
                recv_firm.append(int(j))
                recv_mat.append(m)
                arc_link.extend(int(lk) for lk in links)
                arc_donor.extend(int(inst.link_from[lk]) for lk in links)
                arc_ptr.append(len(arc_link))
            mat_ptr[m + 1] = len(recv_firm)
        # Rescue arcs: from a pair whose stock expires unused to a linked pair that uses m.
        res_link, res_ptr = [], np.zeros(M + 1, np.int64)
        uses = inst.listed & (inst.requirements.sum(axis=2) > 0)
        for m in range(M):
            for i in np.flatnonzero(inst.listed[:, m] & wastes[:, m]):
                links = [lk for lk in np.flatnonzero(inst.link_from == i)
                         if uses[inst.link_to[lk], m]]
                links.sort(key=lambda lk: (inst.unit_cost[lk, m], lk))
                res_link.extend(int(lk) for lk in links[:ARCS_PER_RECEIVER])
            res_ptr[m + 1] = len(res_link)
        self.res_link = np.array(res_link, np.int64)
        self.mat_res_ptr = res_ptr
        self.recv_firm = np.array(recv_firm, np.int64)
        self.recv_mat = np.array(recv_mat, np.int64)
        self.recv_arc_ptr = np.array(arc_ptr, np.int64)
        self.arc_link = np.array(arc_link, np.int64)
        self.arc_donor = np.array(arc_donor, np.int64)
        self.mat_recv_ptr = mat_ptr
        order = np.lexsort((keep.period, keep.material))
        kept_ptr = np.zeros(M + 1, np.int64)
        kept_ptr[1:] = np.cumsum(np.bincount(keep.material, minlength=M))
        self._kept = Kept(kept_ptr, *(np.ascontiguousarray(a[order], np.int64) for a in (
            keep.link, keep.period)), np.ascontiguousarray(keep.qty[order]),
            np.ascontiguousarray(keep.kind[order], np.int64),
            np.ascontiguousarray(np.where(keep.kind == LOAN, keep.ret - keep.period, 0)[order],
                                 np.int64))
        self.m_list = np.flatnonzero((np.diff(mat_ptr) > 0) | (np.diff(res_ptr) > 0)
                                     | (np.diff(kept_ptr) > 0)).astype(np.int64)
        R, A, RA = self.recv_firm.size, self.arc_link.size, self.res_link.size
        # off, permanent, and per loan duration: permanent then loan, or loan only
        self.n_kind = 2 + 2 * inst.durations.size
        self.covers = np.array(COVERS + (T,), np.int64)
        self.encoding = Encoding((Block("receiver_priority", "continuous", R),
                                  Block("receiver_cover", "categorical", R),
                                  Block("arc_priority", "continuous", A),
                                  Block("arc_kind", "categorical", A),
                                  Block("rescue_priority", "continuous", RA),
                                  Block("rescue_kind", "categorical", RA),
                                  Block("rescue_advance", "categorical", RA)))
        self.n_var = self.encoding.n_var
        # Each receiver and period yields a shipment or two, and a loan a payback.
        self.cap = max(16, 3 * (R + RA) * T) + 2 * keep.n_shipments
        self._choices = Choices(
            self.m_list, self.mat_recv_ptr, self.recv_firm, self.recv_arc_ptr, self.arc_link,
            self.arc_donor, R, self.covers, self.mat_res_ptr, self.res_link,
            self.pins.forbidden_codes(inst), inst.reverse, inst.durations,
            np.ascontiguousarray(start), self.n_bisect, self.cap, self.halt)
        self.refused = 0

    def _check(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_var:
            raise ValueError(f"X: expected shape (particles, {self.n_var}), got {X.shape}")
        return X

    def decode(self, x: np.ndarray, materials: list[int] | None = None) -> Plan:
        """The feasible plan of one particle (of some materials only, when given)."""
        x = self._check(np.asarray(x)[None, :])[0]
        mv = np.zeros((self.cap, 5), np.int64)
        mq = np.zeros(self.cap)
        ship = np.zeros((self.cap, 5), np.int64)
        sq = np.zeros(self.cap)
        choices = self._choices._replace(halt=np.zeros(1, np.int8))
        if materials is not None:
            choices = choices._replace(
                materials=np.intersect1d(self.m_list, np.asarray(materials, np.int64)))
        _, ns = kdec.decode_one(x, choices, self._kept, self.data.stock, FEAS_TOL, mv, mq,
                                ship, sq)
        s = ship[:ns]
        return Plan.from_arrays(s[:, 0], s[:, 1], s[:, 2], sq[:ns], s[:, 3], s[:, 4])

    def batch(self, X: np.ndarray) -> BatchCosts | None:
        """Decode a swarm ``X`` (P, n_var) and run the batch kernel on the plans; None when
        :attr:`halt` was set meanwhile."""
        X = self._check(X)
        P = X.shape[0]
        mv = np.zeros((P, self.cap, 5), np.int64)
        mq = np.zeros((P, self.cap))
        nmv = np.zeros(P, np.int64)
        kdec.decode_swarm(X, self._choices, self._kept, self.data.stock, FEAS_TOL, mv, mq, nmv)
        if (nmv < 0).any():
            return None
        ptr = np.zeros(P + 1, np.int64)
        ptr[1:] = np.cumsum(nmv)
        keep = np.arange(self.cap)[None, :] < nmv[:, None]
        flat = mv[keep]
        return batch_costs(self.data, ptr, *(np.ascontiguousarray(flat[:, c]) for c in (0, 1, 2)),
                           np.ascontiguousarray(mq[keep]),
                           *(np.ascontiguousarray(flat[:, c]) for c in (3, 4)))

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        """Network cost of each particle's plan, shape (P,) (inf for all when halted)."""
        out = self.batch(X)
        if out is None:
            return np.full(len(X), np.inf)
        cost = out.cost.copy()
        bad = out.flags != 0
        if bad.any():
            # a decoder bug must not be chosen as a best plan
            self.refused += int(bad.sum())
            cost[bad] = np.inf
        return cost

    def greedy_particle(self) -> np.ndarray:
        """The particle that decodes to the greedy hold-back plan: shortages earliest first,
        receivers in listing order, each from its cheapest feasible donor, permanently, as
        much as the donor's protection allows."""
        R, A = self.recv_firm.size, self.arc_link.size
        x = np.empty(self.n_var)
        x[:R] = 1.0 - (np.arange(R) + 0.5) / max(R, 1)
        x[R:2 * R] = choice_to_unit(0, self.covers.size)
        for r in range(R):
            a0, a1 = self.recv_arc_ptr[r], self.recv_arc_ptr[r + 1]
            # arcs are stored cheapest first
            x[2 * R + a0:2 * R + a1] = 1.0 - (np.arange(a1 - a0) + 0.5) / (a1 - a0)
        x[2 * R + A:2 * R + 2 * A] = choice_to_unit(1, self.n_kind)
        # the greedy rule fills shortages only: no rescue
        x[2 * R + 2 * A:] = 0.0
        return x


def warmup() -> None:
    """Compile the network kernels on a tiny instance (before timing, before workers)."""
    from .cases import generate

    inst = generate(firms=3, materials=1, periods=4, density=1.0, seed=1)
    prob = NetworkProblem(inst)
    X = np.vstack([prob.greedy_particle(), np.full(prob.n_var, 0.7)])
    prob.evaluate(X)
    prob.decode(X[0])
