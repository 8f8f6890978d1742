"""The house rules a reader relies on (docs/architecture.md): kernels take at most 15
parameters (records carry the rest), no module imports itself back through others, and a
module over 400 lines holds one idea (the list below says which and why)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_PARAMETERS = 15
MAX_LINES = 400
#: Modules over MAX_LINES that each hold one idea.
ONE_IDEA = {
    "kernels/sfi_local.py": "the play of some categories from a given period (one kernel)",
    "kernels/network_decode.py": "the network decoder, one particle to a plan",
    "engine/models/sfi/instance.py": "the SFI instance: its format, fields and their checks",
    "engine/models/sfi/milp.py": "the SFI model's exact formulation",
}


def _modules() -> dict[str, Path]:
    mods = {}
    for top in ("engine", "kernels"):
        for path in (ROOT / top).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(["invswarm", *parts])] = path
    return mods


def _imports(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    """The modules of ``mods`` that ``name`` imports (a package's ``from . import sub``
    counts as the submodule only)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in mods]
            out.update(subs if len(subs) == len(node.names) else [target, *subs])
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m in mods and m != name}


def test_no_kernel_takes_more_than_15_parameters():
    wide = []
    for path in sorted((ROOT / "kernels").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and len(node.args.args) > MAX_PARAMETERS:
                wide.append(f"{path.name}: {node.name} ({len(node.args.args)})")
    assert wide == []


def test_no_import_circle():
    mods = _modules()
    graph = {m: _imports(m, p, mods) for m, p in mods.items()}
    circles = []
    for start in graph:
        # a path back to ``start``, depth first
        seen, todo = set(), [(start, (start,))]
        while todo:
            node, trail = todo.pop()
            for nxt in graph[node]:
                if nxt == start:
                    circles.append(" -> ".join((*trail, start)))
                elif nxt not in seen:
                    seen.add(nxt)
                    todo.append((nxt, (*trail, nxt)))
    assert circles == []


def test_a_long_module_holds_one_idea():
    long = {str(p.relative_to(ROOT)) for p in _modules().values()
            if len(p.read_text().splitlines()) > MAX_LINES}
    assert long <= set(ONE_IDEA), sorted(long - set(ONE_IDEA))
