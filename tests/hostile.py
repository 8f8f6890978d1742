"""Hostile documents for the validation tests: drawn from the published JSON Schemas, and valid
documents mutated.

Both take a ``random.Random`` and are plain loops, fast enough for tens of thousands of
documents a test. :class:`SchemaDraw` follows a schema (the subset the published ones use:
``$ref`` into ``$defs``, ``type``, ``const``, ``enum``, ``oneOf``, ``properties``, ``required``,
``additionalProperties``, ``items``, ``minItems``, ``maxItems``, ``minimum``, ``maximum``,
``exclusiveMinimum``) and puts a hostile value at some of its nodes; :func:`mutant` changes one
to three nodes of a valid document: a hostile value, a value the schema allows there, a number
at or just past the schema's bounds, a key dropped or added, a list shortened, lengthened or
made huge.
"""

from __future__ import annotations

import math
import random
from typing import Any

#: Values that are wrong almost anywhere, or right only by chance: wrong types, numbers at the
#: edges of floats and integers, NaN and infinity (Python's parser reads them), integers too
#: large for a float or a C long, a lone surrogate, nested lists.
HOSTILE = (
    None, True, False, 0, -1, 1, 2, 3, 0.5, 1.5, -0.0, 1.0, 5e-324, 1e-300, 2**31, 2**53 + 1,
    2**63, 2**64, 10**30, -(10**30), 10**400, -(10**400), 1e308, -1e308, math.nan, math.inf,
    -math.inf, "", "1", "NaN", "\ud800", "Ω" * 3, [], [1], [[]], [None], {}, {"a": 1},
)

#: Every kind of mutation, and how often :func:`mutant` draws it (a huge list seldom: it
#: takes a hundred times longer to build and read than the rest).
KINDS = {"hostile": 20, "schema": 20, "bound": 20, "drop": 10, "add": 8, "shorten": 8,
         "lengthen": 8, "nest": 5, "huge": 1}


def hostile(rng: random.Random) -> Any:
    """One of :data:`HOSTILE`, a copy (the lists and objects among them get changed)."""
    return copy_json(rng.choice(HOSTILE))


def copy_json(x: Any) -> Any:
    """A deep copy of a JSON tree (faster than :func:`copy.deepcopy`)."""
    if isinstance(x, dict):
        return {k: copy_json(v) for k, v in x.items()}
    if isinstance(x, list):
        return [copy_json(v) for v in x]
    return x


class SchemaDraw:
    """Draws documents from a JSON Schema, each node hostile with probability ``hostility``.

    Numbers are drawn near the ends of their range or small, lists short (``max_items`` past
    their minimum), so that a drawn document is now and then consistent beyond what the
    schema says (lengths, indices).
    """

    def __init__(self, schema: dict, rng: random.Random, hostility: float = 0.03,
                 max_items: int = 4):
        self.schema = schema
        self.rng = rng
        self.hostility = hostility
        self.max_items = max_items

    def resolve(self, s: dict) -> dict:
        while "$ref" in s:
            ref = s["$ref"]
            if not ref.startswith("#/$defs/"):
                raise ValueError(f"unsupported $ref {ref!r}")
            extra = {k: v for k, v in s.items() if k not in ("$ref", "description")}
            s = {**self.schema["$defs"][ref[len("#/$defs/"):]], **extra}
        return s

    def draw(self, s: dict | None = None) -> Any:
        rng = self.rng
        s = self.resolve(self.schema if s is None else s)
        if rng.random() < self.hostility:
            return hostile(rng)
        if "const" in s:
            return s["const"]
        if "enum" in s:
            return rng.choice(s["enum"])
        if "oneOf" in s:
            return self.draw(rng.choice(s["oneOf"]))
        kind = s.get("type")
        if isinstance(kind, list):
            kind = rng.choice(kind)
        if kind == "object":
            out = {}
            for key, sub in s.get("properties", {}).items():
                if key in s.get("required", ()) or rng.random() < 0.5:
                    out[key] = self.draw(sub)
            return out
        if kind == "array":
            low = s.get("minItems", 0)
            high = min(s.get("maxItems", low + self.max_items), low + self.max_items)
            return [self.draw(s.get("items", {})) for _ in range(rng.randint(low, high))]
        if kind == "integer":
            return rng.choice(_integers(s, rng))
        if kind == "number":
            return rng.choice(_numbers(s, rng))
        if kind == "string":
            return rng.choice(("", "a", "firm A", "Ω"))
        if kind == "null":
            return None
        return hostile(rng)

    def at(self, doc: Any, path: tuple) -> dict | None:
        """The schema of the node at ``path`` of ``doc`` (``oneOf``: the branch whose type
        fits the value there), or None where the schema has none."""
        s = self.resolve(self.schema)
        node = doc
        for key in path:
            s = self._branch(s, node)
            if s is None:
                return None
            if isinstance(key, int):
                s = s.get("items")
            else:
                s = s.get("properties", {}).get(key)
            if s is None:
                return None
            s = self.resolve(s)
            node = node[key]
        return self._branch(s, node)

    def _branch(self, s: dict, value: Any) -> dict | None:
        if "oneOf" not in s:
            return s
        for option in s["oneOf"]:
            option = self.resolve(option)
            if _fits(option, value):
                return option
        return None


def _fits(s: dict, value: Any) -> bool:
    kind = s.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any({"object": isinstance(value, dict), "array": isinstance(value, list),
                "null": value is None,
                "integer": isinstance(value, int) and not isinstance(value, bool),
                "number": isinstance(value, (int, float)) and not isinstance(value, bool),
                "string": isinstance(value, str)}.get(k, False) for k in kinds)


def _integers(s: dict, rng: random.Random) -> list[int]:
    """Integers a schema node allows: its ends, and small ones."""
    low = s.get("minimum", -(2**31))
    high = s.get("maximum", 2**31)
    return [low, high, min(high, low + 1), rng.randint(low, min(high, low + 12))]


def _numbers(s: dict, rng: random.Random) -> list[float]:
    """Numbers a schema node allows: its ends, and small ones."""
    low = s.get("minimum", s.get("exclusiveMinimum", -1e12))
    high = s.get("maximum", 1e12)
    if "exclusiveMinimum" in s:
        low = math.nextafter(low, math.inf)
    return [low, high, rng.uniform(low, min(high, low + 100)), round(rng.uniform(low, high), 3)]


def _outside(s: dict, rng: random.Random) -> list:
    """Numbers at a schema node's bounds and just past them (the past ones it rejects)."""
    out = []
    integral = s.get("type") == "integer"
    for key, direction in (("minimum", -1), ("exclusiveMinimum", 0), ("maximum", 1)):
        if key not in s:
            continue
        b = s[key]
        out.append(b)
        if integral:
            out.append(b + direction)
        else:
            out.append(math.nextafter(b, direction * math.inf) if direction else b)
            out.append(b * 10 if direction > 0 else b - 1)
    if integral:
        out.append(rng.choice((1.5, 2.0, True)))
    return out or [hostile(rng)]


def paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every node's path in ``doc`` (the root's is ``()``)."""
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += paths(v, prefix + (i,))
    return out


def _parent(doc: Any, path: tuple) -> Any:
    node = doc
    for key in path[:-1]:
        node = node[key]
    return node


def mutant(doc: Any, draw: SchemaDraw) -> tuple[Any, list[str]]:
    """A copy of ``doc`` with one to three nodes changed; returns it and what was done."""
    rng = draw.rng
    out = copy_json(doc)
    done = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        kind = rng.choices(tuple(KINDS), weights=tuple(KINDS.values()))[0]
        path = rng.choice(paths(out))
        out = _apply(out, path, kind, draw)
        done.append(f"{kind} at {'/'.join(map(str, path)) or 'root'}")
        if kind == "huge":
            break  # a huge list is not walked again
    return out, done


def _apply(doc: Any, path: tuple, kind: str, draw: SchemaDraw) -> Any:
    rng = draw.rng
    node = doc
    for key in path:
        node = node[key]

    def put(value):
        if not path:
            return value
        _parent(doc, path)[path[-1]] = value
        return doc

    if kind == "hostile":
        return put(hostile(rng))
    if kind == "schema":
        s = draw.at(doc, path)
        return put(draw.draw(s) if s is not None else hostile(rng))
    if kind == "bound":
        s = draw.at(doc, path)
        return put(rng.choice(_outside(s, rng)) if s is not None else hostile(rng))
    if kind == "drop":
        if path:
            del _parent(doc, path)[path[-1]]
        return doc
    if kind == "add":
        if isinstance(node, dict):
            node[rng.choice(("extra", "lead_tme", "Name", ""))] = hostile(rng)
        elif isinstance(node, list):
            node.append(copy_json(node[-1]) if node else hostile(rng))
        return doc
    if kind == "shorten":
        if isinstance(node, list) and node:
            del node[rng.randrange(len(node)):]
        return doc
    if kind == "lengthen":
        if isinstance(node, list) and node:
            node.extend(copy_json(node[rng.randrange(len(node))])
                        for _ in range(rng.randint(1, 3)))
        return doc
    if kind == "nest":
        value: Any = node
        for _ in range(rng.choice((1, 2, 50))):
            value = [value]
        return put(value)
    # huge: a list longer than any list of an instance may be, of a value already there
    return put([copy_json(node) if not isinstance(node, (dict, list)) else 0] * 200_001)

