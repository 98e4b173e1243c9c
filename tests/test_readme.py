"""The README's Python examples run, and print what the README says they print.

Every ```python block runs on its own, in a fresh namespace, from a temporary working
directory. When the prose after a block ends with "prints:" and a ```text block follows,
the block's output must be exactly that text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(?P<lang>\w*)\n(?P<code>.*?)^```\n", re.MULTILINE | re.DOTALL)


def python_examples() -> list[tuple[int, str, str | None]]:
    """Each ```python block as (line number, code, expected output or None)."""
    text = README.read_text(encoding="utf-8")
    fences = list(FENCE.finditer(text))
    examples = []
    for fence, following in zip(fences, [*fences[1:], None], strict=True):
        if fence["lang"] != "python":
            continue
        expected = None
        if following is not None and following["lang"] == "text":
            between = text[fence.end() : following.start()].strip()
            if between.endswith("prints:"):
                expected = following["code"]
        line = text.count("\n", 0, fence.start()) + 1
        examples.append((line, fence["code"], expected))
    return examples


def test_readme_has_a_python_example() -> None:
    """The quickstart exists: a README without one would make the tests below vacuous."""
    assert python_examples(), "README.md has no ```python block"


@pytest.mark.parametrize(
    ("line", "code", "expected"),
    python_examples(),
    ids=[f"README.md:{line}" for line, _, _ in python_examples()],
)
def test_readme_example_runs(
    line: int,
    code: str,
    expected: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The block runs without error (and prints its documented output, when given)."""
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__readme__"})
    if expected is not None:
        assert capsys.readouterr().out == expected
