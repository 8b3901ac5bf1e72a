"""Tables in the docs that come from committed JSON records are exactly what their renderer makes
of the record: a block ``<!-- NAME: RECORD -->`` ... ``<!-- /NAME -->`` holds the output of that
benchmark's table function for the record file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"<!-- (\w+): (\S+) -->\n(.*?)\n<!-- /\1 -->", re.S)


def _renderers() -> dict:
    from benchmarks import folder_pipeline, gpu_check, image_sizes, stacked

    return {
        "gpu_check": gpu_check.format_table,
        "image_sizes": image_sizes.format_table,
        "folder_pipeline": folder_pipeline.format_table,
        "stacked": stacked.format_table,
    }


def _blocks() -> list[tuple[str, str, str, str]]:
    found = []
    for page in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]:
        for name, record, body in BLOCK.findall(page.read_text(encoding="utf-8")):
            found.append((page.name, name, record, body))
    return found


def test_there_is_a_recorded_table():
    assert any(name == "gpu_check" for _, name, _, _ in _blocks())


@pytest.mark.parametrize(("page", "name", "record", "body"), _blocks())
def test_recorded_table_matches_its_record(page, name, record, body):
    path = ROOT / record
    assert path.is_file(), f"{page}: {record} is not committed"
    rendered = _renderers()[name](json.loads(path.read_text(encoding="utf-8")))
    assert body == rendered, f"{page}: the {name} table differs from {record}; paste its --table"
