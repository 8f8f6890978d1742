"""Random makers as Hypothesis strategies: a stand-in for numpy's Generator whose every number
Hypothesis draws.

The random instance and plan makers (``tests/sfi_random.py``) take a Generator. Given a
:class:`DrawnRng` instead, what they make is a strategy's example: a failure shrinks to a
smaller instance (the sizes are drawn first and shrink towards their least: fewer stages,
categories, products, periods, scenarios) with simpler numbers (towards the low end of each
range, the first of each choice), not to another seed; and a derandomized run draws the same
examples every time.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st


class DrawnRng:
    """The part of :class:`numpy.random.Generator` the makers use: ``integers``, ``uniform``,
    ``random`` and ``choice``, with numpy's arguments and return types (a ``size`` gives an
    array of that shape). Ranges are numpy's, but ``uniform`` may return its upper end.

    Parameters
    ----------
    draw : callable
        The ``draw`` of an :func:`hypothesis.strategies.composite` strategy or of
        :func:`hypothesis.strategies.data`.
    """

    def __init__(self, draw):
        self._draw = draw

    def _many(self, size, one, dtype):
        if size is None:
            return one()
        shape = (int(size),) if np.isscalar(size) else tuple(int(s) for s in size)
        return np.array([one() for _ in range(int(np.prod(shape)))], dtype=dtype).reshape(shape)

    def integers(self, low, high=None, size=None):
        if high is None:
            low, high = 0, low
        values = st.integers(int(low), int(high) - 1)
        return self._many(size, lambda: np.int64(self._draw(values)), np.int64)

    def uniform(self, low=0.0, high=1.0, size=None):
        values = st.floats(float(low), float(high), allow_nan=False, allow_subnormal=False) \
            if high > low else st.just(float(low))
        return self._many(size, lambda: np.float64(self._draw(values)), np.float64)

    def random(self, size=None):
        return self.uniform(0.0, 1.0, size)

    def choice(self, a, size=None, replace=True):
        pool = np.arange(a) if np.isscalar(a) else np.asarray(a)
        index = st.integers(0, len(pool) - 1)
        if size is None:
            return pool[self._draw(index)]
        shape = (int(size),) if np.isscalar(size) else tuple(int(s) for s in size)
        n = int(np.prod(shape))
        if replace:
            picked = [self._draw(index) for _ in range(n)]
        else:
            picked = self._draw(st.lists(index, min_size=n, max_size=n, unique=True))
        return pool[np.array(picked, dtype=np.int64)].reshape(shape)
