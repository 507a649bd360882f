"""The package's shape: layers that import downwards only, no circles, thin commands.

See docs/ARCHITECTURE.md. Every module of ``forecast/`` belongs to one layer; a module
may import from its own layer and the layers below, never above. The import graph of
the package's modules (module-level and in-function imports alike) has no cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "forecast"

#: Layer of each top-level part of the package, lowest first.
LAYERS = {
    "forecast": 0,
    "forecast.config": 0,
    "forecast.errors": 0,
    "forecast.fileio": 0,
    "forecast.sources": 1,
    "forecast.stores": 2,
    "forecast.features": 3,
    "forecast.model": 4,
    "forecast.evaluation": 5,
    "forecast.products": 6,
    "forecast.commands": 7,
    "forecast.cli": 8,
    "forecast.__main__": 9,
}

#: Function-level imports allowed, with the reason (module, imported name).
LAZY_ALLOWED = {
    # scikit-learn's private bin mapper, guarded with a tested fallback (model speed)
    ("forecast.model.crossing", "sklearn.ensemble._hist_gradient_boosting.binning"),
}


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text(), str(p)) for p in sorted(PKG.rglob("*.py"))}


def layer(name: str) -> int:
    best = ""
    for key in LAYERS:
        if (name == key or name.startswith(key + ".")) and len(key) > len(best):
            best = key
    if not best:
        raise AssertionError(f"module {name} is in no layer: add it to LAYERS and the docs")
    return LAYERS[best]


def imports(name: str, tree: ast.Module, known: set[str]):
    """(imported module, imported names, line, in a function?) of forecast modules."""
    is_pkg = (PKG / Path(*name.split(".")[1:]) / "__init__.py").exists() if "." in name else True
    func_lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import | ast.ImportFrom):
                    func_lines.add(sub.lineno)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, [], node.lineno, node.lineno in func_lines
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = name if is_pkg else name.rsplit(".", 1)[0]
                for _ in range(node.level - 1):
                    pkg = pkg.rsplit(".", 1)[0]
                base = f"{pkg}.{base}" if base else pkg
            names = [a.name for a in node.names]
            # "from forecast.x import y" where y is a module counts as importing forecast.x.y
            for n in names:
                if f"{base}.{n}" in known:
                    yield f"{base}.{n}", [], node.lineno, node.lineno in func_lines
            yield (
                base,
                [n for n in names if f"{base}.{n}" not in known],
                node.lineno,
                (node.lineno in func_lines),
            )


@pytest.fixture(scope="module")
def graph():
    mods = modules()
    known = set(mods)
    edges = {m: [] for m in mods}
    for m, tree in mods.items():
        for target, names, line, lazy in imports(m, tree, known):
            if target.split(".")[0] != "forecast" and not lazy:
                continue
            edges[m].append((target, names, line, lazy))
    return mods, edges


def test_every_module_is_in_a_layer(graph):
    mods, _ = graph
    for m in mods:
        layer(m)


def test_imports_point_down(graph):
    _, edges = graph
    bad = [
        f"{m} (layer {layer(m)}) imports {t} (layer {layer(t)}) at line {line}"
        for m, es in edges.items()
        for t, _, line, _ in es
        if t.startswith("forecast") and layer(t) > layer(m)
    ]
    assert bad == []


def test_no_import_circle(graph):
    mods, edges = graph
    adj = {m: {t for t, _, _, _ in es if t in mods and t != m} for m, es in edges.items()}
    # a package's __init__ importing its own submodules is not a circle of meaning
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(adj[m]):
            if state.get(t) == 1:
                cycles.append(stack[stack.index(t) :] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(adj):
        if m not in state:
            visit(m)
    assert cycles == []


def test_no_private_names_across_modules(graph):
    """No module imports another module's ``_private`` name (commands least of all)."""
    _, edges = graph
    bad = [
        f"{m} imports {n} from {t} (line {line})"
        for m, es in edges.items()
        for t, names, line, _ in es
        if t.startswith("forecast") and t != m
        for n in names
        if n.startswith("_") and not n.startswith("__")
    ]
    assert bad == []


def test_no_private_attribute_access_across_modules(graph):
    """``module._name`` on an imported forecast module is a private name too."""
    mods, edges = graph
    bad = []
    for m, tree in mods.items():
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("forecast"):
                for a in node.names:
                    if f"{node.module}.{a.name}" in mods:
                        aliases[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in mods and a.asname:
                        aliases[a.asname] = a.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                bad.append(f"{m}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert bad == []


def test_no_imports_inside_functions(graph):
    """Start-up speed comes from module boundaries, not imports hidden in functions."""
    _, edges = graph
    bad = [
        f"{m}:{line} imports {t} inside a function"
        for m, es in edges.items()
        for t, _, line, lazy in es
        if lazy and (m, t) not in LAZY_ALLOWED
    ]
    assert bad == []


def test_commands_are_thin():
    """Command modules parse and print: each well under 300 lines."""
    sizes = {p.name: len(p.read_text().splitlines()) for p in (PKG / "commands").glob("*.py")}
    assert {k: v for k, v in sizes.items() if v >= 300} == {}


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["tides", "--station", "dover", "--start", "2026-11-01", "--end", "2026-11-02"],
        ["sky", "--start", "2026-11-01", "--end", "2026-11-02"],
        ["arrivals", "show"],
    ],
)
def test_light_commands_do_not_import_the_modelling_stack(argv, data_home):
    code = (
        "import sys\n"
        "from forecast.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('sklearn', 'matplotlib', 'skops', 'xarray') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "HEAVY []"


def test_help_imports_no_command_module():
    code = (
        "import sys\n"
        "from forecast.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('LOADED', sorted(m for m in sys.modules if m.startswith('forecast.commands.')))\n"
        "print('PANDAS', 'pandas' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout.splitlines()
    assert out[-2:] == ["LOADED []", "PANDAS False"]
