"""The ``supportflow`` command: show and plan with the library from a terminal.

``supportflow demo`` runs a scripted day at a small desk on the embedded SQLite store and
prints what happened to every ticket. Each subcommand is one entry in :data:`COMMANDS`
(a name, a help line, a function adding its options, a function running it), so later
commands (``simulate``, ``report``) are added without touching the dispatcher.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import sys
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
from pydantic import TypeAdapter, ValidationError

from . import __version__
from .analytics import MonthlyReport, to_html, to_markdown
from .analytics.formatting import format_duration
from .desk import DueJobsReport, SupportDesk
from .errors import InvalidTransition, SupportflowError
from .events import EventType
from .models import (
    Agent,
    AgentRole,
    Channel,
    Contact,
    Customer,
    CustomerTier,
    Priority,
    Team,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from .simulate.archive import load_run, save_run
from .simulate.compare import compare
from .simulate.engine import Simulation
from .simulate.report import write_report
from .simulate.results import summarize
from .simulate.scenario import load_scenario
from .simulate.staffing import Trial, find_staff
from .sla import CalendarSpec, ClockStatus, SlaMetric, default_policy
from .sla.policy import Duration
from .storage import DEFAULT_TENANT, MemoryStore, SqliteStore, Store
from .testing import FixedClock

__all__ = ["COMMANDS", "Command", "main"]


@attrs.frozen(slots=True)
class Command:
    """One subcommand: ``configure`` adds its options, ``run`` does the work.

    ``run`` returns the exit code; it reports problems on stderr and never lets a
    :class:`~supportflow.errors.SupportflowError` escape as a traceback.
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# -- the scripted day --------------------------------------------------------------------

DEMO_START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DEMO_HOURS = CalendarSpec.model_validate(
    {
        "name": "demo desk hours",
        "weekly": {d: ["08:00-12:00", "13:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    }
)
"""The desk's open hours for the shipped default SLA policy: weekdays 08:00-18:00 UTC."""
"""Monday morning of the scripted day; step times are relative to its date."""

DEMO_TEAMS = (
    Team(id="frontline", name="Front line", lead_id="ana", escalation_team_id="seniors"),
    Team(id="seniors", name="Senior technical support", lead_id="sam"),
)

DEMO_AGENTS = (
    Agent(id="ana", name="Ana Lima", teams=("frontline",), languages=("en",), role=AgentRole.LEAD),
    Agent(id="wei", name="王伟 Wang Wei", teams=("frontline",), languages=("zh", "en")),
    Agent(id="li", name="李娜 Li Na", teams=("frontline",), languages=("zh",)),
    Agent(
        id="sam",
        name="Sam Park",
        teams=("seniors",),
        languages=("en", "zh"),
        skills=("integrations", "outages"),
        role=AgentRole.SENIOR,
    ),
)

DEMO_CUSTOMERS = (
    Customer(
        id="acme",
        name="Acme Logistics",
        tier=CustomerTier.KEY,
        contact=Contact(email="it@acme.example"),
    ),
    Customer(
        id="chen",
        name="陈静 Chen Jing",
        tier=CustomerTier.VIP,
        contact=Contact(phone="+86 21 5555"),
    ),
    Customer(id="bright", name="Bright Dental", contact=Contact(email="desk@bright.example")),
    Customer(id="huaxin", name="华信科技 Huaxin Tech", tier=CustomerTier.KEY),
    Customer(id="maria", name="Maria Rossi", contact=Contact(handle="@mrossi")),
    Customer(id="liu", name="刘洋 Liu Yang", tier=CustomerTier.PROSPECT),
)


@attrs.frozen(slots=True)
class Delivery:
    """A request as a channel delivers it; ``key`` names its ticket in the script."""

    key: str
    channel: Channel
    external_id: str
    customer: str
    subject: str
    body: str
    priority: Priority | None = None


@attrs.frozen(slots=True)
class Step:
    """One thing that happens at ``at`` (``"HH:MM"``, or ``"+Nd HH:MM"`` on a later day).

    ``ticket`` is a script key; ``agent`` acts; ``to`` receives a handover; ``text`` is the
    message, reason or resolution; ``opens`` names the follow-up ticket a message may open.
    """

    at: str
    action: str
    ticket: str = ""
    agent: str = ""
    text: str = ""
    to: str = ""
    opens: str = ""


# fmt: off
DEMO_DELIVERIES = {
    d.key: d
    for d in (
        Delivery("login", Channel.EMAIL, "mail-5521", "acme",
                 "Cannot log in after password reset",
                 "Since the reset this morning none of our dispatchers can log in."),
        Delivery("invoice", Channel.PHONE, "call-0907", "chen",
                 "发票抬头错误，需要重开发票", "上周的发票抬头写错了公司名称，请帮忙重开。",
                 Priority.HIGH),
        Delivery("booking", Channel.CHAT, "chat-77812", "bright",
                 "Booking page shows error 500",
                 "Patients cannot book online since 8am, the page shows error 500.",
                 Priority.URGENT),
        Delivery("api", Channel.WEB_FORM, "form-3390", "huaxin",
                 "API 接口返回 401", "token 刚刚更新过，所有接口仍然返回 401。"),
        Delivery("crash", Channel.SOCIAL_MEDIA, "weibo-88120", "liu",
                 "App 又闪退了", "你们的App一打开就闪退，已经第三次了！！！"),
        Delivery("export", Channel.PORTAL, "portal-1204", "maria",
                 "Export invoices as CSV?", "How do I export all my invoices as a CSV file?",
                 Priority.LOW),
        Delivery("seats", Channel.EMAIL, "mail-5530", "acme",
                 "Add two seats to our plan", "Please add two seats for our new dispatchers."),
        Delivery("phone", Channel.CHAT, "chat-77840", "chen",
                 "如何修改绑定手机号？", "我换了手机号，怎么修改账户绑定的号码？"),
        Delivery("printer", Channel.PHONE, "call-0931", "bright",
                 "Label printer stopped after update",
                 "Since yesterday's update the label printer prints blank pages.",
                 Priority.HIGH),
        Delivery("import", Channel.WEB_FORM, "form-3391", "huaxin",
                 "批量导入客户数据失败", "上传 Excel 后提示格式错误，模板是官网下载的。"),
        Delivery("refund", Channel.SOCIAL_MEDIA, "x-55102", "maria",
                 "Still waiting for my refund", "Two weeks and still no refund for order 7781."),
        Delivery("upgrade", Channel.PORTAL, "portal-1210", "liu",
                 "试用版能升级到专业版吗？", "试用版的数据升级到专业版后还能保留吗？",
                 Priority.LOW),
    )
}
"""The dozen requests of the day, by script key."""
# fmt: on

DEMO_STEPS = (
    Step("08:02", "intake", "login"),
    Step("08:03", "redeliver", "login"),
    Step("08:05", "intake", "booking"),
    Step("08:06", "assign", "booking", "ana"),
    Step("08:07", "acknowledge", "booking", "ana"),
    Step("08:10", "assign", "login", "ana"),
    Step("08:15", "intake", "invoice"),
    Step("08:18", "assign", "invoice", "li"),
    Step("08:20", "acknowledge", "invoice", "li"),
    Step("08:25", "reply", "booking", "ana", "We see the errors too and are on it."),
    Step("08:32", "escalate", "booking", "ana", "Server-side fault, needs a senior.", to="sam"),
    Step("08:35", "acknowledge", "booking", "sam"),
    Step("08:40", "acknowledge", "login", "ana"),
    Step("08:44", "reply", "login", "ana", "A new reset link is on its way."),
    Step("08:50", "resolve", "login", "ana", "Reset tokens were expiring early; resent link."),
    Step("09:05", "intake", "api"),
    Step("09:06", "redeliver", "api"),
    Step("09:10", "assign", "api", "wei"),
    Step("09:12", "resolve", "api", "wei", "Token scope fixed."),
    Step("09:14", "acknowledge", "api", "wei"),
    Step("09:20", "request_info", "api", "wei", "请提供请求的 request-id。"),
    Step("09:30", "close", "login", "ana"),
    Step("09:40", "hold", "booking", "sam", "Waiting for the hosting provider."),
    Step("09:55", "intake", "crash"),
    Step("09:58", "assign", "crash", "li"),
    Step("10:02", "acknowledge", "crash", "li"),
    Step("10:05", "customer_writes", "api", text="request-id 是 7f3a-99c1。"),
    Step("10:15", "resolve", "invoice", "li", "已按新抬头重开发票并邮寄。"),
    Step("10:30", "intake", "export"),
    Step("10:31", "assign", "export"),
    Step("10:33", "acknowledge", "export", "ana"),
    Step("10:40", "reply", "crash", "li", "请更新到 5.2.1 版本，已修复闪退。"),
    Step("10:45", "resolve", "crash", "li", "5.2.1 修复了启动闪退。"),
    Step("10:50", "release", "booking", "sam"),
    Step("11:00", "resolve", "export", "ana", "Sent the Invoices > Export steps."),
    Step("11:05", "resolve", "booking", "sam", "Provider restarted the database cluster."),
    Step("11:20", "resolve", "api", "wei", "新 token 需要重新授权，已协助完成。"),
    Step("11:40", "customer_writes", "invoice", text="新发票的税号还是不对。"),
    Step("11:50", "reply", "invoice", "li", "抱歉，税号已更正，今天寄出。"),
    Step("12:30", "resolve", "invoice", "li", "税号更正后重开发票。"),
    Step("13:10", "intake", "seats"),
    Step("13:12", "assign", "seats", "wei"),
    Step("13:20", "acknowledge", "seats", "wei"),
    Step("13:25", "reply", "seats", "wei", "Two seats added; billing follows at month end."),
    Step("13:45", "intake", "phone"),
    Step("13:47", "assign", "phone", "li"),
    Step("13:50", "acknowledge", "phone", "li"),
    Step("13:55", "request_info", "phone", "li", "请提供新手机号和账户邮箱。"),
    Step("14:20", "customer_writes", "login", text="Locked out again after lunch.", opens="login2"),
    Step("14:25", "assign", "login2", "ana"),
    Step("14:30", "acknowledge", "login2", "ana"),
    Step("14:50", "intake", "printer"),
    Step("14:52", "assign", "printer", "wei"),
    Step("14:55", "acknowledge", "printer", "wei"),
    Step("15:10", "reopen", "export", "ana", "Customer called: March is missing."),
    Step("15:30", "reply", "export", "ana", "March is in the next page of the export."),
    Step("15:40", "resolve", "export", "ana", "Explained paging of the export."),
    Step("15:45", "hold", "printer", "wei", "On-site visit booked for Wednesday."),
    Step("16:00", "intake", "refund"),
    Step("16:05", "assign", "refund", "ana"),
    Step("16:06", "acknowledge", "refund", "ana"),
    Step("16:20", "reply", "refund", "ana", "Refund for order 7781 issued today."),
    Step("16:25", "resolve", "refund", "ana", "Refund issued; apology sent."),
    Step("16:40", "reply", "login2", "ana", "Session length fixed, please try again."),
    Step("16:50", "resolve", "login2", "ana", "Session timeout raised back to 8 hours."),
    Step("17:10", "intake", "import"),
    Step("17:15", "assign", "import", "wei"),
    Step("17:30", "intake", "upgrade"),
    Step("18:00", "run_due_jobs"),
    Step("+4d 08:00", "run_due_jobs"),
)
"""The day, in order: intake from six channels, two redeliveries, an escalation to a
senior, a refused resolve, a reopen by the customer and one by an agent, a follow-up on a
closed ticket, and the scheduled jobs that close resolved tickets after three days."""


# -- running the script ------------------------------------------------------------------


@attrs.define
class _Tally:
    """What the run counted on the way, for the notes and the summary."""

    keys: dict[str, str] = attrs.field(factory=dict)
    duplicates: Counter[str] = attrs.field(factory=Counter)
    refused: Counter[str] = attrs.field(factory=Counter)
    auto_closed: list[str] = attrs.field(factory=list)
    alerts: Counter[str] = attrs.field(factory=Counter)


def _sequential_ids() -> Callable[[], str]:
    """Readable, repeatable ids for the demo (``sf-0001``, ``sf-0002``, ...)."""
    counter = itertools.count(1)
    return lambda: f"sf-{next(counter):04d}"


def _instant(at: str) -> datetime:
    day_offset = 0
    if at.startswith("+"):
        offset, at = at[1:].split(" ", 1)
        day_offset = int(offset.rstrip("d"))
    hour, minute = (int(part) for part in at.split(":"))
    return DEMO_START.replace(hour=hour, minute=minute) + timedelta(days=day_offset)


def _display_width(text: str) -> int:
    """Terminal columns ``text`` takes: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell(text: str, width: int) -> str:
    """``text`` cut or padded to exactly ``width`` terminal columns."""
    if _display_width(text) > width:
        while text and _display_width(text) > width - 1:
            text = text[:-1]
        text += "…"
    return text + " " * (width - _display_width(text))


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns, broken at spaces where possible."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        while _display_width(word) > width:
            cut = len(word)
            while _display_width(word[:cut]) > width:
                cut -= 1
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{line} {word}" if line else word
        if line and _display_width(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    lines.append(line)
    return lines


def _print_wrapped(prefix: str, text: str, width: int) -> None:
    indent = " " * _display_width(prefix)
    for number, line in enumerate(_wrap(text, max(20, width - len(indent)))):
        print(f"{prefix if number == 0 else indent}{line}")


def _output_width() -> int:
    """The terminal's width when printing to one, else 100 columns (files, pipes, tests)."""
    if sys.stdout.isatty():
        return max(80, shutil.get_terminal_size().columns)
    return 100


class _DemoRun:
    """Plays :data:`DEMO_STEPS` against a desk, printing one line per step."""

    def __init__(self, desk: SupportDesk, clock: FixedClock, width: int) -> None:
        self.desk = desk
        self.clock = clock
        self.width = width
        self.tally = _Tally()
        self.names = {a.id: a.name for a in DEMO_AGENTS}
        self.customers = {c.id: c.name for c in DEMO_CUSTOMERS}

    def play(self, steps: Sequence[Step]) -> None:
        """Set the clock to each step's time, perform it and print what happened."""
        day = None
        for step in steps:
            now = self.clock.set(_instant(step.at))
            if now.date() != day:
                day = now.date()
                print(f"\n{now:%A} {now.day} {now:%B %Y} (UTC)")
                print(f"  {'time':7}{'ticket':9}{'status after':21}what happened")
            try:
                ticket_id, status, detail = self._perform(step)
            except InvalidTransition as refused:
                ticket_id = self.tally.keys[step.ticket]
                self.tally.refused[ticket_id] += 1
                who = self.names.get(step.agent, step.agent)
                status = refused.status
                detail = f"REFUSED: {who} tried to {step.action}. {refused}"
            prefix = f"  {now:%H:%M}  {_cell(ticket_id, 8)} {_cell(status, 21)}"
            _print_wrapped(prefix, detail, self.width)

    def _perform(self, step: Step) -> tuple[str, str, str]:
        desk, tally = self.desk, self.tally
        if step.action == "run_due_jobs":
            return "", "", self._run_due_jobs()
        if step.action in ("intake", "redeliver"):
            return self._deliver(DEMO_DELIVERIES[step.ticket], again=step.action == "redeliver")
        ticket_id = tally.keys[step.ticket]
        who = self.names.get(step.agent, step.agent)
        quote = f"“{step.text}”"
        match step.action:
            case "assign":
                ticket = desk.assign(ticket_id, step.agent or None, actor="ana")
                how = ""
                if not step.agent:
                    reason = desk.history(ticket_id)[-1].data["reason"]
                    how = f" (picked by the strategy: {reason})"
                detail = f"assigned to {self.names[ticket.assignee_id or '']}{how}"
            case "acknowledge":
                ticket = desk.acknowledge(ticket_id, agent_id=step.agent)
                detail = f"{who} acknowledged it"
            case "reply":
                ticket = desk.reply(ticket_id, agent_id=step.agent, body=step.text)
                detail = f"{who} replied: {quote}"
            case "request_info":
                ticket = desk.request_info(ticket_id, agent_id=step.agent, body=step.text)
                detail = f"{who} asked the customer: {quote}"
            case "hold":
                ticket = desk.hold(ticket_id, agent_id=step.agent, reason=step.text)
                detail = f"{who} put it on hold: {step.text}"
            case "release":
                ticket = desk.release(ticket_id, agent_id=step.agent)
                detail = f"{who} took it off hold"
            case "resolve":
                ticket = desk.resolve(ticket_id, agent_id=step.agent, resolution=step.text)
                detail = f"{who} resolved it: {step.text}"
            case "close":
                ticket = desk.close(ticket_id, actor=step.agent)
                detail = f"{who} closed it: the customer confirmed the fix"
            case "reopen":
                ticket = desk.reopen(ticket_id, actor=step.agent, reason=step.text)
                detail = f"{who} reopened it (reopen {ticket.reopen_count}): {step.text}"
            case "escalate":
                ticket = desk.escalate(
                    ticket_id, actor=step.agent, reason=step.text, to_agent_id=step.to
                )
                detail = (
                    f"ESCALATED to level {ticket.escalation_level}: {who} handed it over to "
                    f"senior {self.names[step.to]}: {step.text}"
                )
            case "customer_writes":
                ticket, detail = self._customer_writes(ticket_id, step)
            case _:
                raise ValueError(f"unknown demo action {step.action!r}")
        return ticket.id, ticket.status.value, detail

    def _deliver(self, delivery: Delivery, *, again: bool) -> tuple[str, str, str]:
        before = len(self.desk.list_tickets())
        ticket = self.desk.intake(
            channel=delivery.channel,
            external_id=delivery.external_id,
            customer_id=delivery.customer,
            subject=delivery.subject,
            body=delivery.body,
            priority=delivery.priority,
        )
        source = f"{delivery.channel.value} {delivery.external_id}"
        if not again:
            self.tally.keys[delivery.key] = ticket.id
            who = self.customers[delivery.customer]
            return (
                ticket.id,
                ticket.status.value,
                f"new from {source} · {who} · {delivery.subject}",
            )
        first = self.tally.keys[delivery.key]
        stored = len(self.desk.list_tickets()) - before
        if ticket.id == first and stored == 0:
            self.tally.duplicates[first] += 1
            verdict = f"DUPLICATE ABSORBED: returned the same ticket {first}, stored nothing"
        else:
            verdict = f"DUPLICATE NOT ABSORBED: got {ticket.id}, {stored} new ticket(s)"
        return ticket.id, ticket.status.value, f"{source} delivered again. {verdict}"

    def _customer_writes(self, ticket_id: str, step: Step) -> tuple[Ticket, str]:
        before = self.desk.get_ticket(ticket_id)
        ticket = self.desk.customer_replied(ticket_id, body=step.text)
        detail = f"customer wrote: “{step.text}”"
        if ticket.id != ticket_id:
            self.tally.keys[step.opens] = ticket.id
            detail += (
                f" {ticket_id} is {before.status.value}: FOLLOW-UP {ticket.id} opened, "
                f"linked to {ticket.follow_up_of}"
            )
        elif ticket.reopen_count > before.reopen_count:
            detail += f" REOPENED ({before.status.value} → {ticket.status.value})"
        return ticket, detail

    def _run_due_jobs(self) -> str:
        report: DueJobsReport = self.desk.run_due_jobs()
        self.tally.auto_closed.extend(report.closed)
        kinds = Counter(e.type for e in report.alerts)
        self.tally.alerts.update(kinds)
        done: list[str] = []
        if report.alerts:
            counted = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
            done.append(f"recorded SLA alerts ({counted})")
        if report.closed:
            closed = ", ".join(report.closed)
            done.append(f"auto-closed {len(report.closed)} resolved tickets: {closed}")
        if not done:
            return "run_due_jobs: nothing due (resolved tickets close three days after)"
        return "run_due_jobs: " + "; ".join(done)


def _path(history: Sequence[TicketEvent]) -> list[str]:
    """The statuses a ticket went through, in order, from its events."""
    path: list[str] = []
    for event in history:
        if event.type == EventType.CREATED:
            status = str(event.data["ticket"]["status"])
        else:
            status = str(event.data.get("changes", {}).get("status", path[-1] if path else ""))
        if not path or path[-1] != status:
            path.append(status)
    return path


def _notes(
    ticket: Ticket, history: Sequence[TicketEvent], tally: _Tally, desk: SupportDesk
) -> list[str]:
    notes: list[str] = []
    state = desk.sla(ticket.id)
    breached = [m.value for m in state.breached]
    if breached:
        notes.append(f"SLA breached: {', '.join(breached)}")
    running = [
        c for c in state if c.status is ClockStatus.RUNNING and c.metric is SlaMetric.RESOLUTION
    ]
    if running and running[0].due_at is not None:
        notes.append(f"resolution due {running[0].due_at:%a %H:%M}")
    if tally.duplicates[ticket.id]:
        notes.append(f"{tally.duplicates[ticket.id]} duplicate delivery absorbed")
    if ticket.follow_up_of:
        notes.append(f"follow-up of {ticket.follow_up_of}")
    if ticket.escalation_level:
        notes.append(f"escalated to level {ticket.escalation_level}")
    if ticket.reopen_count:
        notes.append(f"reopened {ticket.reopen_count}×")
    if tally.refused[ticket.id]:
        notes.append(f"{tally.refused[ticket.id]} refused transition")
    if ticket.id in tally.auto_closed:
        notes.append("auto-closed by run_due_jobs")
    elif any(e.type == EventType.CLOSED for e in history):
        notes.append("closed by an agent")
    return notes


def _print_counts(title: str, counts: Counter[str], order: Sequence[str]) -> None:
    print(f"  {title}")
    for key in order:
        print(f"    {_cell(key, 26)}{counts[key]:>4}")


def _report(desk: SupportDesk, tally: _Tally, width: int) -> None:
    tickets = desk.list_tickets()
    histories = {t.id: desk.history(t.id) for t in tickets}
    customers = {c.id: c.name for c in DEMO_CUSTOMERS}
    print("\nTicket paths (statuses in order, from each ticket's history)")
    for t in tickets:
        columns = (
            f"  {_cell(t.id, 9)}{_cell(t.channel.value, 13)}{_cell(t.language or '?', 4)}"
            f"{_cell(t.priority.value, 8)}{_cell(customers[t.customer_id], 22)}"
        )
        print(f"{columns}{_cell(t.subject, max(10, width - _display_width(columns)))}".rstrip())
        _print_wrapped(" " * 11, " → ".join(_path(histories[t.id])), width)
        notes = _notes(t, histories[t.id], tally, desk)
        if notes:
            _print_wrapped(" " * 11, f"notes: {'; '.join(notes)}", width)
    print("\nSummary")
    by_status = Counter(t.status.value for t in tickets)
    _print_counts("Tickets by status", by_status, [s.value for s in TicketStatus])
    by_channel = Counter(t.channel.value for t in tickets)
    _print_counts("Tickets by channel", by_channel, [c.value for c in Channel])
    by_language = Counter(t.language or "?" for t in tickets)
    _print_counts("Tickets by language", by_language, sorted(by_language))
    figures = (
        ("Tickets", len(tickets)),
        ("Events recorded", sum(len(h) for h in histories.values())),
        ("Duplicates absorbed", sum(tally.duplicates.values())),
        ("Refused transitions", sum(tally.refused.values())),
        ("Auto-closed by run_due_jobs", len(tally.auto_closed)),
        ("SLA warnings recorded", tally.alerts[EventType.SLA_WARNING]),
        ("SLA breaches recorded", tally.alerts[EventType.SLA_BREACHED]),
        ("SLA escalations recorded", tally.alerts[EventType.SLA_ESCALATED]),
    )
    for label, value in figures:
        print(f"  {_cell(label, 28)}{value:>4}")


# -- the demo command --------------------------------------------------------------------


@contextmanager
def _database(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="supportflow-demo-") as folder:
        yield Path(folder) / "desk.db"


def _configure_demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        type=Path,
        help="keep the SQLite database at PATH (a new file) instead of a temporary folder",
    )


def _run_demo(args: argparse.Namespace) -> int:
    keep: Path | None = args.db
    if keep is not None and keep.exists():
        print(f"supportflow demo: {keep} already exists; choose a new file", file=sys.stderr)
        return 2
    with _database(keep) as path:
        store = SqliteStore(path)
        try:
            clock = FixedClock(DEMO_START)
            desk = SupportDesk(
                store,
                clock=clock,
                new_id=_sequential_ids(),
                sla_policy=default_policy(DEMO_HOURS),
            )
            print("supportflow demo: a scripted day at a small support desk")
            print(f"  store: SQLite file {path}")
            if keep is None:
                print("         (a temporary folder, removed at the end; --db PATH keeps it)")
            print(
                f"  desk:  {len(DEMO_TEAMS)} teams, {len(DEMO_AGENTS)} agents, "
                f"{len(DEMO_CUSTOMERS)} customers"
            )
            for team in DEMO_TEAMS:
                desk.add_team(team)
            for agent in DEMO_AGENTS:
                desk.add_agent(agent)
            for customer in DEMO_CUSTOMERS:
                desk.add_customer(customer)
            width = _output_width()
            run = _DemoRun(desk, clock, width)
            run.play(DEMO_STEPS)
            _report(desk, run.tally, width)
        finally:
            store.close()
    return 0


def _configure_report(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("db", metavar="DB", type=Path, help="the desk's SQLite database file")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--month", help="the month to report, as YYYY-MM")
    which.add_argument(
        "--simulation",
        action="store_true",
        help="render the simulation kept in DB by supportflow simulate again (HTML)",
    )
    parser.add_argument(
        "--timezone",
        default="UTC",
        help="the zone months run in (default: UTC), e.g. Asia/Shanghai",
    )
    parser.add_argument("--tenant", default=DEFAULT_TENANT, help="the tenant to report on")
    parser.add_argument(
        "--format",
        choices=("markdown", "html", "json"),
        default="markdown",
        help="what to write (default: markdown)",
    )
    parser.add_argument(
        "--out", metavar="PATH", type=Path, help="write to PATH instead of standard output"
    )


def _run_report(args: argparse.Namespace) -> int:
    path: Path = args.db
    if not path.is_file():
        print(f"supportflow report: {path}: no such database file", file=sys.stderr)
        return 2
    if args.simulation:
        return _report_simulation(path, args.out)
    store = SqliteStore(path)
    try:
        desk = SupportDesk(store, tenant_id=args.tenant)
        report = desk.monthly_report(args.month, timezone=args.timezone)
    finally:
        store.close()
    render: dict[str, Callable[[MonthlyReport], str]] = {
        "markdown": to_markdown,
        "html": to_html,
        "json": MonthlyReport.to_json,
    }
    text = render[args.format](report)
    if args.out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"supportflow report: {args.format} report of {args.month} written to {args.out}")
    return 0


def _report_simulation(path: Path, out: Path | None) -> int:
    run = load_run(path)
    try:
        summary = summarize(run)
        page = write_report(out or path.with_suffix(".html"), summary, run)
    finally:
        run.store.close()
    for line in summary.lines():
        print(f"  {line}")
    print(f"supportflow report: the simulation's report written to {page}")
    return 0


def _configure_simulate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "scenario",
        nargs="?",
        default="default",
        help="a shipped scenario (default, small, erlang) or a TOML file (default: default)",
    )
    parser.add_argument("--seed", type=int, help="the run's seed (default: the scenario's)")
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        default=Path("supportflow-simulation"),
        help="where the database, the report and the summary go (default: %(default)s)",
    )
    parser.add_argument(
        "--store",
        choices=("sqlite", "memory"),
        default="sqlite",
        help="the desk's store: an SQLite file kept in DIR (default), or memory (faster)",
    )


class _ProgressBar:
    """A one-line bar on standard error, redrawn only when a whole percent has passed."""

    def __init__(self, label: str, *, enabled: bool) -> None:
        self._label = label
        self._enabled = enabled
        self._shown = -1

    def __call__(self, done: float) -> None:
        percent = int(done * 100)
        if not self._enabled or percent == self._shown:
            return
        self._shown = percent
        filled = percent * 30 // 100
        end = "\n" if percent >= 100 else ""
        print(
            f"\r{self._label} [{'#' * filled}{'.' * (30 - filled)}] {percent:3d}%",
            end=end,
            file=sys.stderr,
            flush=True,
        )


def _run_simulate(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    seed = scenario.seed if args.seed is None else args.seed
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    slug = "".join(ch if ch.isalnum() else "-" for ch in scenario.name.lower()).strip("-")
    stem = out / f"{slug}-seed{seed}"
    database = stem.with_suffix(".db")
    store: Store
    if args.store == "sqlite":
        for leftover in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            leftover.unlink(missing_ok=True)
        store = SqliteStore(database)
    else:
        store = MemoryStore()
    print(f"supportflow simulate: {scenario.name}, seed {seed}, {args.store} store")
    progress = _ProgressBar("  simulating", enabled=sys.stderr.isatty())
    try:
        sim = Simulation(scenario, store=store, seed=seed, progress=progress).run()
        summary = summarize(sim)
        page = write_report(stem.with_suffix(".html"), summary, sim)
    finally:
        store.close()
    if args.store == "sqlite":
        save_run(database, sim)
    stem.with_suffix(".json").write_text(
        json.dumps(summary.as_data(), indent=2, ensure_ascii=False), encoding="utf-8"
    )
    for line in summary.lines():
        print(f"  {line}")
    if args.store == "sqlite":
        print(f"  database: {database}")
    print(f"  summary:  {stem.with_suffix('.json')}")
    print(f"  report:   {page}")
    return 0


_DURATION: TypeAdapter[timedelta] = TypeAdapter(Duration)


def _share(text: str) -> float:
    """``"80%"`` or ``"0.8"``."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a share: {text!r} (write 80% or 0.8)") from None
    return value


def _span(text: str) -> timedelta:
    """``"1h"``, ``"30m"``, ``"20s"``: a duration as policies write them."""
    try:
        return _DURATION.validate_python(text)
    except ValidationError:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (write 1h, 30m, 20s)") from None


def _configure_staff(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", nargs="?", default="default", help="a scenario, as simulate")
    parser.add_argument("--group", required=True, help="the agent group whose size varies")
    parser.add_argument(
        "--target", type=_share, default=0.8, help="share of first responses (default: 80%%)"
    )
    parser.add_argument(
        "--within",
        type=_span,
        default=None,
        help="the time they must come within (default: the scenario's first_response_target)",
    )
    parser.add_argument("--seed", type=int, help="the seed (default: the scenario's)")
    parser.add_argument(
        "--rule",
        choices=("lower", "estimate"),
        default="lower",
        help="meet the target with the interval's lower end (default) or the estimate",
    )
    parser.add_argument("--replications", type=int, default=1, help="runs per team size")


def _run_staff(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    within = scenario.first_response_target if args.within is None else args.within
    print(
        f"supportflow staff: {scenario.name}: the smallest {args.group!r} group answering"
        f" {args.target:.0%} within {format_duration(within.total_seconds())}"
    )

    def tried(trial: Trial) -> None:
        print(f"  tried {trial.line()}", flush=True)

    result = find_staff(
        scenario,
        group=args.group,
        target_share=args.target,
        within=within,
        seed=args.seed,
        replications=args.replications,
        rule=args.rule,
        progress=tried,
    )
    for line in result.lines():
        print(f"  {line}")
    return 0


def _configure_compare(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", help="scenario A (shipped name or TOML file)")
    parser.add_argument("b", help="scenario B")
    parser.add_argument(
        "--seeds",
        default="1,2,3,4,5",
        help="comma-separated seeds; both scenarios run with each (default: 1,2,3,4,5)",
    )
    parser.add_argument("--target", type=_span, help="first-response target (default: A's)")


def _run_compare(args: argparse.Namespace) -> int:
    a, b = load_scenario(args.a), load_scenario(args.b)
    try:
        seeds = tuple(int(part) for part in args.seeds.split(","))
    except ValueError:
        print(f"supportflow compare: --seeds: not whole numbers: {args.seeds!r}", file=sys.stderr)
        return 2
    print(f"supportflow compare: A = {a.name}, B = {b.name}, seeds {args.seeds}")

    def ran(done: int, total: int) -> None:
        print(f"\r  runs {done}/{total}", end="\n" if done == total else "", flush=True)

    result = compare(a, b, seeds=seeds, target=args.target, progress=ran)
    for line in result.lines():
        print(f"  {line}")
    return 0


COMMANDS: tuple[Command, ...] = (
    Command(
        "demo",
        "run a scripted day at a small desk and print each ticket's path",
        _configure_demo,
        _run_demo,
    ),
    Command(
        "simulate",
        "run a scenario's desk against simulated customers and report what happened",
        _configure_simulate,
        _run_simulate,
    ),
    Command(
        "staff",
        "find the smallest team that meets a first-response target, by simulation",
        _configure_staff,
        _run_staff,
    ),
    Command(
        "compare",
        "run two scenarios on the same customers and show the differences",
        _configure_compare,
        _run_compare,
    ),
    Command(
        "report",
        "render a month's support report from a desk's SQLite database",
        _configure_report,
        _run_report,
    ),
)
"""The subcommands, in the order ``--help`` lists them."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="supportflow",
        description="Show and plan with the supportflow customer-support library.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        command.configure(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``supportflow`` command with ``argv`` (default: the process arguments).

    Returns the exit code: 0 on success, 1 when the library refused something (the message
    goes to stderr), 2 for a usage error, 130 when interrupted.
    """
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        code = run(args)
        sys.stdout.flush()
    except SupportflowError as exc:
        print(f"supportflow {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`supportflow demo | head`): stop quietly, and keep Python
        # from failing again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code


if __name__ == "__main__":  # pragma: no cover - `python -m supportflow.cli`
    sys.exit(main())
