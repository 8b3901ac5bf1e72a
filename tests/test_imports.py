"""The import rules of the package: arrows point one way, and the light packages stay light.

The layers, bottom to top (``docs/architecture.md``): the dependency-free helpers
(``_atomic``, ``_cache``, ``_checks``, ``_lazy``), ``serving`` and ``metrics`` (numpy only);
``data``, ``networks``, ``losses``, ``distribute``, ``plotting``, ``mixture``; ``callbacks``;
``models``; ``export`` (takes any ``keras.Model``, never ``models``); ``runs`` and
``evaluation``; ``cli`` on top. Each test reads the source with ``ast`` (every import, also
those inside functions) or imports a package in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Import name -> source directory (``export`` and ``serving`` install as subpackages).
PACKAGES = {
    "keras_gan": ROOT / "keras_gan",
    "keras_gan.export": ROOT / "export",
    "keras_gan.serving": ROOT / "serving",
}
#: Groups every module but the metrics may import: the dependency-free helpers and the package
#: root (``keras_gan.__version__``; the root hands its names on lazily).
LEAVES = {"_atomic", "_cache", "_checks", "_lazy", "__init__"}
#: Group -> the other groups it may import (besides :data:`LEAVES`); the package root and
#: ``cli`` may import anything.
ALLOWED: dict[str, set[str]] = {
    "_atomic": set(),
    "_checks": set(),
    "_lazy": set(),
    "_cache": set(),
    "serving": set(),
    "metrics": set(),
    "data": set(),
    "networks": set(),
    "losses": set(),
    "distribute": set(),
    "plotting": set(),
    "mixture": {"data", "serving"},
    "callbacks": {"plotting", "serving"},
    "models": {"networks", "losses", "distribute", "serving"},
    "export": {"serving"},
    "runs": {
        "data",
        "networks",
        "losses",
        "distribute",
        "plotting",
        "mixture",
        "callbacks",
        "models",
        "metrics",
        "serving",
    },
    "evaluation": {"data", "plotting", "callbacks", "models", "metrics", "runs", "serving"},
}


def _module_name(package: str, root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts])


def _modules() -> list[tuple[str, Path]]:
    found = []
    for package, root in PACKAGES.items():
        for path in sorted(root.rglob("*.py")):
            found.append((_module_name(package, root, path), path))
    return found


def _imports(module: str, path: Path) -> set[str]:
    """Every ``keras_gan`` module ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "keras_gan" or (node.level and not node.module):
                names.update(f"{target}.{alias.name}" for alias in node.names)
            else:
                names.add(target)
    return {name for name in names if name.split(".")[0] == "keras_gan"}


def _group(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _edges() -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = {}
    for module, path in _modules():
        for target in _imports(module, path):
            source_group, target_group = _group(module), _group(target)
            if source_group != target_group:
                edges.setdefault((source_group, target_group), []).append(f"{module} -> {target}")
    return edges


def test_every_group_is_known() -> None:
    groups = {_group(module) for module, _ in _modules()} - {"__init__", "cli"}
    assert groups <= set(ALLOWED), f"add the new package to ALLOWED: {groups - set(ALLOWED)}"


def test_no_module_imports_upward() -> None:
    wrong = []
    for (source, target), where in sorted(_edges().items()):
        if source in ("__init__", "cli"):
            continue
        allowed = ALLOWED[source] | (LEAVES if source != "metrics" else set())
        if target not in allowed:
            wrong.extend(where)
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_the_rules_catch_an_upward_import(tmp_path: Path) -> None:
    path = tmp_path / "frechet.py"
    path.write_text("from keras_gan.models import GAN\nfrom ..runs import train\n")
    found = _imports("keras_gan.metrics.frechet", path)
    assert found == {"keras_gan.models", "keras_gan.runs"}
    assert not {_group(name) for name in found} & ALLOWED["metrics"]


def test_nothing_imports_the_cli_or_unittest() -> None:
    offenders = []
    for module, path in _modules():
        if _group(module) in ("cli", "__init__"):
            continue
        if any(_group(name) == "cli" for name in _imports(module, path)):
            offenders.append(f"{module} imports keras_gan.cli")
        if "unittest" in path.read_text(encoding="utf-8"):
            offenders.append(f"{module} mentions unittest")
    assert not offenders


def test_no_import_cycle_between_modules() -> None:
    graph = {module: _imports(module, path) for module, path in _modules()}
    # A package's __init__ re-exports its modules; the cycle that matters is between modules.
    graph = {
        m: {t for t in targets if t in graph and not t.endswith("__init__")}
        for m, targets in graph.items()
    }
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue  # a package and its own modules
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    lazy = {"keras_gan", "keras_gan.runs", "keras_gan.evaluation"}  # hand names on lazily
    cycles = [c for c in cycles if not set(c) & lazy]
    assert not cycles, cycles


@pytest.mark.parametrize(
    "statement",
    [
        "import keras_gan.serving, keras_gan.serving.server, keras_gan.serving.client",
        "import keras_gan.metrics",
        "import keras_gan.runs.settings, keras_gan.runs.directory",
        "from keras_gan.cli import build_parser; build_parser()",
    ],
)
def test_light_packages_import_no_tensorflow(statement: str) -> None:
    code = (
        f"{statement}\nimport sys\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == ""
