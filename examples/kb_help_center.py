"""Bring an existing help center into supportflow, search it, and let it answer tickets.

The export in ``tests/kb/data/help_center/`` is what help desks typically hand over: a
Zendesk-style JSON file with HTML bodies, a spreadsheet of FAQs (CSV) and a folder of
Markdown pages, in English and Chinese. The script imports all three, searches the result
the way customers type (typos, Chinese without spaces), suggests articles for a new
ticket, and records which one solved it.

Run it with ``python examples/kb_help_center.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from supportflow import Agent, Customer, MemoryStore, SupportDesk, Team
from supportflow.testing import FixedClock

HELP_CENTER = Path(__file__).resolve().parents[1] / "tests" / "kb" / "data" / "help_center"


def main() -> None:
    desk = SupportDesk(MemoryStore(), clock=FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)))
    desk.add_team(Team(id="support", name="Support"))
    desk.add_agent(  # the team lead: may mark any ticket solved (supportflow.roles)
        Agent(id="ana", name="Ana", teams=("support",), languages=("en", "zh"), role="lead")
    )
    desk.add_customer(Customer(id="acme", name="Acme Logistics"))

    for export in ("export.json", "export.csv", "markdown"):
        imported = desk.kb.import_articles(HELP_CENTER / export, editor_id="ana")
        drafts = sum(article.status == "draft" for article in imported)
        print(f"{export:<12} {len(imported)} articles imported, {drafts} as drafts")

    # Published articles only (the draft is not found); typos and unspaced Chinese are fine.
    print()
    queries = ("cant log in, forgot pasword", "upgade my plan", "退款多久到账", "年付可以退款吗")
    for query in queries:
        best = desk.kb.search(query, limit=1)[0]
        print(f"{query}  ->  {best.title}  ({best.score:.2f})")

    ticket = desk.intake(
        channel="email",
        customer_id="acme",
        subject="Locked out",
        body="I tried my password too many times and now my account is locked.",
    )
    print("\nsuggested for the ticket:")
    hits = desk.suggest_articles(ticket.id, limit=3)
    for rank, hit in enumerate(hits, start=1):
        print(f"  {rank}. {hit.title}  ({hit.score:.2f})")
    print("  " + hits[0].marked().splitlines()[0])

    article = desk.mark_solved(ticket.id, hits[0].article_id, agent_id="ana")
    events = [event.type for event in desk.history(ticket.id)]
    print(f"\nmarked solved: {article.title!r}, helpful votes {article.helpful_votes}")
    print(f"ticket events: {', '.join(events)}")


if __name__ == "__main__":
    main()
