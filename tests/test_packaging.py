"""What the built distribution holds: the package list of ``pyproject.toml`` is the source tree.

``export/`` and ``serving/`` install as ``keras_gan.export`` and ``keras_gan.serving``, so the
packages are listed by hand; these tests keep the list equal to the tree and the version in one
place. ``.ci/run`` then builds the wheel, installs it and runs every command from it
(``scripts/check_wheel.py``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import keras_gan

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _tree_packages(package_dirs: dict[str, str]) -> set[str]:
    """Every directory with an ``__init__.py`` under the roots, by its installed name."""
    roots = {"keras_gan": ROOT / "keras_gan"}
    roots.update({name: ROOT / folder for name, folder in package_dirs.items()})
    found = set()
    for name, root in roots.items():
        for init in root.rglob("__init__.py"):
            parts = init.parent.relative_to(root).parts
            if "__pycache__" not in parts:
                found.add(".".join([name, *parts]))
    return found


def test_package_list_is_the_tree() -> None:
    setuptools = _pyproject()["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    in_tree = _tree_packages(setuptools["package-dir"])
    assert listed == in_tree, (
        f"pyproject.toml lists {sorted(listed - in_tree)} that are not packages and leaves out "
        f"{sorted(in_tree - listed)}"
    )


def test_package_data_patterns_match_files() -> None:
    """Each package-data pattern names files that exist (a renamed folder would drop them)."""
    setuptools = _pyproject()["tool"]["setuptools"]
    folders = {"keras_gan": "keras_gan", **setuptools["package-dir"]}
    for package, patterns in setuptools.get("package-data", {}).items():
        for pattern in patterns:
            assert list((ROOT / folders[package]).glob(pattern)), (package, pattern)


def test_version_has_one_owner() -> None:
    project = _pyproject()["project"]
    assert "version" not in project and "version" in project["dynamic"]
    dynamic = _pyproject()["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "keras_gan.__version__"}


def test_cli_prints_the_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "keras_gan.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert result.stdout.strip() == f"keras-gan {keras_gan.__version__}"
