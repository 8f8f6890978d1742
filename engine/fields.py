"""Typed reads from parsed JSON that fail with an :class:`InputError` naming the field.

Every reader takes the value and its path (``products[2].lead_time``) and returns a plain
Python value of the checked type, so that model loaders read like a list of fields.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .errors import InputError

_MISSING = object()


def field(obj: Any, key: str, path: str, default: Any = _MISSING) -> Any:
    """``obj[key]``; a missing key raises unless a default is given."""
    if not isinstance(obj, dict):
        raise InputError(path or "document", f"must be an object, got {_kind(obj)}")
    if key not in obj:
        if default is _MISSING:
            raise InputError(join(path, key), "missing required field")
        return default
    return obj[key]


def join(path: str, key: str | int) -> str:
    """Extend a path by an object key or a list index (a key that is not a plain name, say
    an empty one, in brackets and quotes: ``products[0]["lead time"]``)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not key.isidentifier():
        return f"{path}[{json.dumps(key)}]"
    return f"{path}.{key}" if path else key


@contextmanager
def inside(prefix: str) -> Iterator[None]:
    """Errors raised within name their fields as paths of a document that holds the checked
    one at ``prefix`` (``shipments[0].qty`` becomes ``plan.shipments[0].qty``)."""
    if not prefix:
        yield
        return
    try:
        yield
    except InputError as exc:
        where = exc.field
        if where == "document":
            where = prefix
        elif not (where == prefix or where.startswith((prefix + ".", prefix + "["))):
            where = f"{prefix}{where}" if where.startswith("[") else f"{prefix}.{where}"
        raise InputError(where, exc.problem) from None


def number(
    value: Any,
    path: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> float:
    """A finite real number in ``[low, high]`` (``(low, high]`` when ``low_open``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(path, f"must be a number, got {_kind(value)}")
    if isinstance(value, int) and abs(value) > sys.float_info.max:  # float() would overflow
        bound, sign = (high, "<=") if value > 0 else (low, ">=")
        raise InputError(path, f"must be {sign} {bound:g}, got {_show(value)}"
                         if bound is not None else f"must be finite, got {_show(value)}")
    x = float(value)
    if math.isnan(x):
        raise InputError(path, "must be a number, got NaN")
    if math.isinf(x):
        raise InputError(path, "must be finite, got infinity")
    if low is not None and (x <= low if low_open else x < low):
        raise InputError(path, f"must be {'>' if low_open else '>='} {low:g}, got {x:g}")
    if high is not None and x > high:
        raise InputError(path, f"must be <= {high:g}, got {x:g}")
    return x


def integer(value: Any, path: str, *, low: int | None = None, high: int | None = None) -> int:
    """A whole number in ``[low, high]`` (a float with no fractional part is accepted)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(path, f"must be an integer, got {_kind(value)}")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise InputError(path, f"must be an integer, got {value!r}")
    k = int(value)
    if low is not None and k < low:
        raise InputError(path, f"must be >= {low}, got {_show(k)}")
    if high is not None and k > high:
        raise InputError(path, f"must be <= {high}, got {_show(k)}")
    return k


def _show(x: int | float) -> str:
    """A number for a message; an integer of more than 20 digits by its length (printed
    whole it could fill the screen, or fail beyond Python's limit of 4,300 digits)."""
    if isinstance(x, int) and abs(x) >= 10**20:
        return f"an integer of about {int(x.bit_length() * math.log10(2)) + 1} digits"
    return repr(x)


def array(value: Any, path: str, *, length: int | None = None, nonempty: bool = False,
          most: int | None = None) -> list:
    """A JSON list, of the given length when one is given, of at most ``most`` entries."""
    if not isinstance(value, list):
        raise InputError(path, f"must be a list, got {_kind(value)}")
    if length is not None and len(value) != length:
        raise InputError(path, f"must have length {length}, got {len(value)}")
    if nonempty and not value:
        raise InputError(path, "must not be empty")
    if most is not None and len(value) > most:
        raise InputError(path, f"must have at most {most:,} entries, got {len(value):,}")
    return value


def text(value: Any, path: str) -> str:
    """A JSON string of Unicode text (a lone surrogate, which JSON's escapes allow, could not
    be written to a file or a terminal)."""
    if not isinstance(value, str):
        raise InputError(path, f"must be a string, got {_kind(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(path, f"must be Unicode text, got a lone surrogate at character "
                               f"{exc.start}") from None
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {_show(value)}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def unique_names(names: list[str], path: str) -> None:
    """Raise :class:`InputError` on the second entry of ``path`` that repeats a name."""
    seen: dict[str, int] = {}
    for k, n in enumerate(names):
        if n in seen:
            raise InputError(join(join(path, k), "name"),
                             f"duplicate name {n!r} (also {path}[{seen[n]}])")
        seen[n] = k


def only(obj: Any, path: str, allowed: tuple[str, ...]) -> None:
    """Reject keys outside ``allowed`` (a misspelt optional field would otherwise be ignored)."""
    if not isinstance(obj, dict):
        raise InputError(path or "document", f"must be an object, got {_kind(obj)}")
    for key in obj:
        if key not in allowed:
            raise InputError(join(path, key), f"unknown field (allowed: {', '.join(allowed)})")
