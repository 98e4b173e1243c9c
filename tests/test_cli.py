"""The ``supportflow`` command: the scripted demo shows every feature it promises."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from supportflow import Channel, SupportDesk
from supportflow.cli import DEMO_DELIVERIES, DEMO_START, main
from supportflow.storage import SqliteStore


@pytest.fixture
def demo(capsys: pytest.CaptureFixture[str]) -> str:
    """The demo's output with line wraps undone (every run of whitespace is one space)."""
    assert main(["demo"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return " ".join(captured.out.split())


def test_demo_exits_zero_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert captured.out.startswith("supportflow demo: a scripted day at a small support desk")


def test_demo_shows_the_duplicate_delivery_returned_the_same_ticket(demo: str) -> None:
    assert "email mail-5521 delivered again. DUPLICATE ABSORBED: returned the same ticket" in demo
    assert "Duplicates absorbed 2" in demo
    assert "NOT ABSORBED" not in demo


def test_demo_shows_a_reopen_by_the_customer_and_by_an_agent(demo: str) -> None:
    assert "REOPENED (resolved → in_progress)" in demo
    assert "Ana Lima reopened it (reopen 1)" in demo


def test_demo_shows_an_escalation_handed_over_to_a_senior(demo: str) -> None:
    assert "ESCALATED to level 1: Ana Lima handed it over to senior Sam Park" in demo
    assert "Sam Park acknowledged it" in demo


def test_demo_prints_the_refused_transitions_message(demo: str) -> None:
    assert "REFUSED: 王伟 Wang Wei tried to resolve." in demo
    assert "cannot resolve while assigned; allowed: reassign, acknowledge" in demo
    assert "Refused transitions 1" in demo


def test_demo_shows_a_follow_up_on_a_closed_ticket(demo: str) -> None:
    assert "is closed: FOLLOW-UP" in demo
    assert "follow-up of sf-0001" in demo
    assert "Re: Cannot log in after password reset" in demo


def test_demo_prints_each_tickets_path(demo: str) -> None:
    tickets = len(DEMO_DELIVERIES) + 1  # the follow-up
    assert "Ticket paths" in demo
    assert demo.count(" new → assigned") == tickets - 1  # one ticket is never assigned
    assert "new → assigned → in_progress → assigned → in_progress → on_hold" in demo


def test_demo_summary_counts_by_status_channel_and_language(demo: str) -> None:
    summary = demo[demo.index("Summary") :]
    for heading in ("Tickets by status", "Tickets by channel", "Tickets by language"):
        assert heading in summary
    for channel in Channel:
        assert f" {channel.value} " in summary
    assert " en 7 " in summary
    assert " zh 6 " in summary
    assert f"Tickets {len(DEMO_DELIVERIES) + 1} " in summary
    assert "Events recorded" in summary
    assert "Auto-closed by run_due_jobs 7" in summary


def test_demo_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    """Two runs print the same day (the temporary database's path aside)."""
    runs = []
    for _ in range(2):
        assert main(["demo"]) == 0
        lines = capsys.readouterr().out.splitlines()
        runs.append([line for line in lines if "store:" not in line])
    assert runs[0] == runs[1]


def test_demo_db_option_keeps_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.db"
    assert main(["demo", "--db", str(path)]) == 0
    assert str(path) in capsys.readouterr().out
    store = SqliteStore(path)
    try:
        desk = SupportDesk(store)
        tickets = desk.list_tickets()
        assert len(tickets) == len(DEMO_DELIVERIES) + 1
        assert all(desk.history(t.id) for t in tickets)
    finally:
        store.close()


def test_demo_refuses_to_overwrite_an_existing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(b"keep me")
    assert main(["demo", "--db", str(path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert path.read_bytes() == b"keep me"


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_help_lists_the_demo_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    assert "demo" in capsys.readouterr().out


def test_demo_runs_the_default_sla_policy(demo: str) -> None:
    """The ticket nobody picks up breaches its first response; alerts are counted."""
    never_assigned = demo[demo.index("试用版能升级到专业版吗？") :].split("\n")[:3]
    assert any("SLA breached: first_response" in line for line in never_assigned)
    summary = demo[demo.index("Summary") :]
    for label in ("SLA warnings recorded", "SLA breaches recorded", "SLA escalations recorded"):
        count = re.search(rf"{label} (\d+)", summary)
        assert count is not None
        assert int(count[1]) > 0


def test_report_renders_the_demo_days_month(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.db"
    assert main(["demo", "--db", str(path)]) == 0
    capsys.readouterr()
    month = f"{DEMO_START:%Y-%m}"
    assert main(["report", str(path), "--month", month]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith(f"# Support report: {month} (UTC)")
    volume = len(DEMO_DELIVERIES) + 1
    assert f"| Tickets created | {volume} |" in markdown
    page = tmp_path / "report.html"
    assert (
        main(["report", str(path), "--month", month, "--format", "html", "--out", str(page)]) == 0
    )
    assert str(page) in capsys.readouterr().out
    assert page.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert main(["report", str(path), "--month", month, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["total"]["volume"] == volume


def test_report_refuses_a_missing_file_and_a_bad_month(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.db"
    assert main(["report", str(missing), "--month", "2026-03"]) == 2
    assert "no such database file" in capsys.readouterr().err
    assert not missing.exists()
    path = tmp_path / "x.db"
    assert main(["demo", "--db", str(path)]) == 0
    capsys.readouterr()
    assert main(["report", str(path), "--month", "March"]) == 1
    assert "month: must be 'YYYY-MM'" in capsys.readouterr().err


def test_simulate_writes_the_database_summary_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "small", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "supportflow simulate: small desk, seed 3, sqlite store" in out
    assert "first response within 1 h:" in out
    stem = tmp_path / "small-desk-seed3"
    summary = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
    assert summary["tickets"] > 50
    assert stem.with_suffix(".html").read_text(encoding="utf-8").startswith("<!doctype html>")
    store = SqliteStore(stem.with_suffix(".db"))
    try:
        assert len(SupportDesk(store).list_tickets()) == summary["tickets"]
    finally:
        store.close()
    again = tmp_path / "again"
    assert main(["simulate", "small", "--store", "memory", "--out", str(again)]) == 0
    rerun = json.loads((again / "small-desk-seed3.json").read_text(encoding="utf-8"))
    assert rerun["within_target"] == summary["within_target"]  # the seed fixes the run
    assert not (again / "small-desk-seed3.db").exists()


def test_simulate_refuses_an_unreadable_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", str(tmp_path / "nope.toml"), "--out", str(tmp_path)]) == 1
    assert "scenario: cannot read" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nstart = 2026-03-02T00:00:00Z\nduration = "1h"\n')
    assert main(["simulate", str(bad), "--out", str(tmp_path)]) == 1
    assert "teams" in capsys.readouterr().err


def test_staff_finds_the_smallest_team_and_prints_erlang_c_beside_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["staff", "small", "--group", "agent", "--target", "80%", "--within", "1h"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "the smallest 'agent' group answering 80% within 1 h" in out
    assert "smallest team meeting the target:" in out
    assert "Erlang C:" in out


def test_compare_runs_both_scenarios_on_the_same_customers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["compare", "small", "small", "--seeds", "1,2"]) == 0
    out = capsys.readouterr().out
    assert "A = small desk, B = small desk, seeds 1,2" in out
    assert main(["compare", "small", "small", "--seeds", "one"]) == 2
    assert "--seeds: not whole numbers" in capsys.readouterr().err


def test_staff_refuses_an_unknown_group(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staff", "small", "--group", "wizards"]) == 1
    assert "group" in capsys.readouterr().err


def test_report_renders_a_kept_simulation_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "small", "--out", str(tmp_path)]) == 0
    first = capsys.readouterr().out
    stem = tmp_path / "small-desk-seed3"
    again = tmp_path / "again.html"
    assert main(["report", str(stem.with_suffix(".db")), "--simulation", "--out", str(again)]) == 0
    out = capsys.readouterr().out
    assert f"written to {again}" in out
    # The same figures as the run printed (the time it took aside).
    lines = [line for line in out.splitlines() if "within 1 h" in line or "waited" in line]
    assert lines
    assert all(line in first for line in lines)
    assert again.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_report_of_a_desk_without_a_simulation_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.db"
    assert main(["demo", "--db", str(path)]) == 0
    capsys.readouterr()
    assert main(["report", str(path), "--simulation"]) == 1
    assert "holds no simulation run" in capsys.readouterr().err
