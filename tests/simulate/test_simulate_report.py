"""The simulation's HTML report: self-contained, escaped, and rendered by a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from supportflow.simulate.engine import Simulation, TicketRecord
from supportflow.simulate.report import _attainment_by_hour, to_html, write_report
from supportflow.simulate.results import Summary, summarize
from supportflow.simulate.scenario import load_scenario

HtmlTags = Callable[[str], dict[str, int]]

CHART_TITLES = (
    "First response within 1 h, by tier and hour of arrival (UTC)",
    "Open tickets at each hour",
    "Mean time per resolved ticket in each stage, by team",
    "Agent utilisation (busy share of the simulated span)",
    "CSAT by team (answers scoring 4 or 5)",
    "NPS by team (promoters minus detractors)",
)
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
CONSOLE = re.compile(r":CONSOLE[:(]|Uncaught")
"""How Chromium's ``--enable-logging=stderr`` writes a page's console messages."""


@pytest.fixture(scope="module")
def run() -> tuple[Summary, Simulation]:
    sim = Simulation(load_scenario("small")).run()
    return summarize(sim), sim


@pytest.fixture(scope="module")
def page(run: tuple[Summary, Simulation]) -> str:
    summary, sim = run
    return to_html(summary, sim)


def test_page_is_balanced_html_with_every_chart(page: str, html_tags: HtmlTags) -> None:
    seen = html_tags(page)
    assert page.startswith("<!doctype html>")
    assert seen["svg"] == len(CHART_TITLES)
    for title in CHART_TITLES:
        assert f"<title>{title}</title>" in page


def test_page_runs_and_loads_nothing(page: str) -> None:
    """No script, and no address but the SVG namespace; the CSP forbids both as well."""
    assert "<script" not in page.lower()
    assert set(re.findall(r"https?://[^\s\"'<>]*", page)) == {SVG_NAMESPACE}
    assert "Content-Security-Policy" in page
    assert "default-src 'none'" in page


def test_page_shows_the_summary_and_the_estimates(run: tuple[Summary, Simulation]) -> None:
    summary, sim = run
    page = to_html(summary, sim)
    for line in summary.lines():
        assert escape(line) in page
    assert f"Seed {summary.seed};" in page
    assert "95% interval" in page
    assert "The bottleneck: handling after the first reply" in page


def test_hostile_scenario_text_is_escaped(html_tags: HtmlTags) -> None:
    scenario = load_scenario("small").with_changes(
        name="<script>alert(1)</script>", description='<img src=x onerror="alert(2)">'
    )
    sim = Simulation(scenario).run()
    page = to_html(summarize(sim), sim)
    html_tags(page)
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in page


def test_without_the_simulation_tiers_are_bars(
    run: tuple[Summary, Simulation], html_tags: HtmlTags
) -> None:
    summary, _ = run
    page = to_html(summary)
    seen = html_tags(page)
    assert "First-response SLA met, by customer tier" in page
    assert "hour of arrival" not in page
    assert "sf-heatmap" not in page
    assert seen["svg"] == len(CHART_TITLES)


def test_attainment_by_hour_uses_the_scenario_timezone_and_misses_the_unanswered() -> None:
    zone = ZoneInfo("Europe/Berlin")

    def at(hour: int, minute: int) -> float:
        return datetime(2026, 3, 2, hour, minute, tzinfo=zone).timestamp()

    records = [
        TicketRecord(1, "a", at(9, 10), "vip", "billing", first_response=at(9, 40)),
        TicketRecord(2, "b", at(9, 20), "vip", "billing"),
        TicketRecord(3, "c", at(10, 5), "regular", "billing", first_response=at(12, 5)),
        TicketRecord(4, "d", at(10, 6), "regular", "billing", first_response=at(10, 6)),
    ]
    sim: Any = SimpleNamespace(records=records, scenario=SimpleNamespace(timezone=zone.key))
    summary: Any = SimpleNamespace(target=timedelta(hours=1))
    assert _attainment_by_hour(sim, summary) == (
        ["vip", "regular"],
        [9, 10],
        [[0.5, None], [None, 0.5]],
    )


def test_write_report_writes_utf8(tmp_path: Path, run: tuple[Summary, Simulation]) -> None:
    summary, sim = run
    path = write_report(tmp_path / "run.html", summary, sim)
    assert path == tmp_path / "run.html"
    assert path.read_bytes() == to_html(summary, sim).encode("utf-8")


# -- in a real browser ------------------------------------------------------------------

_CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    _CHROMIUM is None, reason="no chromium binary on PATH (.ci/run installs Debian's chromium)"
)


def _open(page: Path, profile: Path) -> tuple[str, list[str], Path]:
    """Chromium's DOM of ``page`` after loading, its console lines, and a screenshot."""
    assert _CHROMIUM is not None
    shot = page.with_suffix(".png")
    done = subprocess.run(
        [
            _CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            f"--user-data-dir={profile}",
            "--window-size=1000,4000",
            f"--screenshot={shot}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if CONSOLE.search(line)]
    return done.stdout, console, shot


@needs_chromium
def test_chromium_reports_console_errors(tmp_path: Path) -> None:
    """The console check can fail: a script error and a blocked load are both caught."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
        '<title>bad</title></head><body><img src="missing.png" alt=""></body></html>',
        encoding="utf-8",
    )
    _, console, _ = _open(page, tmp_path / "profile")
    assert any("Content Security Policy" in line for line in console), console


@needs_chromium
def test_chromium_renders_the_report(tmp_path: Path, run: tuple[Summary, Simulation]) -> None:
    summary, sim = run
    path = write_report(tmp_path / "report.html", summary, sim)
    dom, console, shot = _open(path, tmp_path / "profile")
    assert console == []
    assert dom.count("<svg") >= 5
    for title in CHART_TITLES:
        assert title in dom
    assert "<title>Simulation: small desk</title>" in dom
    assert shot.stat().st_size > 100_000  # a blank page this size is about 16 kB
