"""The documentation's Python examples run.

A ``docs/*.md`` file opts in by containing the marker ``<!-- run -->``. Its ```python
blocks then run in order, in one namespace (a later block may use what an earlier one
defined), from a temporary working directory. Files without the marker are not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
MARKER = "<!-- run -->"
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```\n", re.MULTILINE | re.DOTALL)


def runnable_docs() -> list[Path]:
    """The docs that contain the marker, sorted by name."""
    return sorted(p for p in DOCS.glob("*.md") if MARKER in p.read_text(encoding="utf-8"))


def python_blocks(path: Path) -> list[tuple[int, str]]:
    """Each ```python block of ``path`` as (line number of its fence, code)."""
    text = path.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(1))
        for match in PYTHON_BLOCK.finditer(text)
    ]


def test_the_guide_opts_in() -> None:
    """At least the guide runs; an empty selection would make the test below vacuous."""
    assert DOCS / "guide.md" in runnable_docs()


@pytest.mark.parametrize("path", runnable_docs(), ids=lambda p: p.name)
def test_doc_examples_run_in_order(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = python_blocks(path)
    assert blocks, f"{path.name} has the {MARKER} marker but no ```python block"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"__docs_{path.stem}__"}
    for line, code in blocks:
        # The file name names the block, so a traceback points at the fence's line.
        exec(compile(code, f"{path.name}:{line}", "exec"), namespace)
