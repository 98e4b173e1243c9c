"""Every script in examples/ runs as ``__main__`` and prints what it is meant to show."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

EXPECTED = {
    "intake_webhook.py": [
        "duplicate of delivery #1: same ticket",
        "duplicate of delivery #2: same ticket",
        "422   refused: invalid input: channel:",
        "422   refused: invalid input: received_at: must be timezone-aware",
        "400   refused: not JSON",
        "9 deliveries, 6 accepted, 3 tickets stored (3 duplicates absorbed)",
    ],
    "assignment_plugin.py": [
        "mei      service_attitude    I asked for a refund and your agent was rude to me",
        "queued: no agent with senior for a complaint, language en, on shift, room on phone",
        "4 complaints: 3 to seniors, 1 queued, 0 to anyone else",
    ],
    "custom_assignment.py": [
        "mixed     ana                      wei ",
        "Tickets given to someone who cannot read them: default 4, custom 0",
    ],
    "kb_help_center.py": [
        "export.json  4 articles imported, 1 as drafts",
        "export.csv   4 articles imported, 0 as drafts",
        "markdown     3 articles imported, 0 as drafts",
        "cant log in, forgot pasword  ->  I can't log in to my account  (",
        "upgade my plan  ->  How do I upgrade or downgrade my plan?  (",
        "退款多久到账  ->  退款多久能到账？  (",
        "年付可以退款吗  ->  年付套餐可以退款吗？  (",
        "  1. Account locked after too many login attempts  (",
        "marked solved: 'Account locked after too many login attempts', helpful votes 1",
        "ticket events: ticket.created, kb.suggested, kb.article_linked",
    ],
}
"""What each example must print; an example missing here fails the test below."""


def example_scripts() -> list[Path]:
    return sorted(EXAMPLES.glob("*.py"))


def test_every_example_has_expectations() -> None:
    assert {p.name for p in example_scripts()} == set(EXPECTED)


@pytest.mark.parametrize("script", example_scripts(), ids=lambda p: p.name)
def test_example_runs_as_main(
    script: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(script), run_name="__main__")
    captured = capsys.readouterr()
    assert captured.err == ""
    for expected in EXPECTED.get(script.name, ["(no expectations: add some to EXPECTED)"]):
        assert expected in captured.out
