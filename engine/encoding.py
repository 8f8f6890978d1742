"""Mixed encodings: a particle is a point of the unit cube split into named blocks.

A categorical block of ``size`` variables picks one of ``choices`` options per variable by
equal slices of [0, 1); a continuous block scales [0, 1] to a quantity. Repair (not penalty)
is the decoder's job: every point of the cube decodes to a feasible plan.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    """A run of variables of one kind.

    Attributes
    ----------
    name : str
    kind : {"categorical", "continuous"}
    size : int
        Number of variables.
    """

    name: str
    kind: str
    size: int

    def __post_init__(self):
        if self.kind not in ("categorical", "continuous"):
            raise ValueError(f"kind: must be 'categorical' or 'continuous', got {self.kind!r}")
        if self.size < 0:
            raise ValueError(f"size: must be >= 0, got {self.size}")


@dataclass(frozen=True)
class Encoding:
    """Blocks laid end to end."""

    blocks: tuple[Block, ...]

    @property
    def n_var(self) -> int:
        return sum(b.size for b in self.blocks)

    def slice(self, name: str) -> slice:
        """Where block ``name`` lies in a particle."""
        start = 0
        for b in self.blocks:
            if b.name == name:
                return slice(start, start + b.size)
            start += b.size
        raise KeyError(name)


def choice_to_unit(index: int, n_choices: int) -> float:
    """The middle of the slice of [0, 1) that decodes to ``index``."""
    return (index + 0.5) / n_choices
