"""Documents with one field changed, for the validation tests."""

from __future__ import annotations

import copy


def mutated(doc: dict, path: tuple, value) -> dict:
    """A copy of ``doc`` with ``doc[path...] = value`` (``None``: the field deleted)."""
    doc = copy.deepcopy(doc)
    obj = doc
    for key in path[:-1]:
        obj = obj[key]
    if value is None:
        del obj[path[-1]]
    else:
        obj[path[-1]] = value
    return doc
