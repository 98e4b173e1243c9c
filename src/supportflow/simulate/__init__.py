"""A support desk run on the real library against simulated customers.

- :class:`Scenario` / :func:`load_scenario` (:mod:`.scenario`): the desk, its customers
  and its promises, as TOML.
- :class:`Simulation` (:mod:`.engine`): drives a real ``SupportDesk`` through the scenario,
  deterministic for a seed; :func:`summarize` (:mod:`.results`) gives its figures with
  batch-means confidence intervals, :func:`write_report` (:mod:`.report`) an HTML page.
- :class:`ErlangC` (:mod:`.erlang`): the queueing-theory reference the simulator is
  checked against; :func:`find_staff` (:mod:`.staffing`) the smallest team meeting a
  target by simulation, beside Erlang C's; :func:`compare` (:mod:`.compare`) two scenarios
  on the same customers.

``docs/simulate.md`` is the tutorial.
"""

from __future__ import annotations

from .compare import Comparison, compare
from .engine import Simulation
from .erlang import ErlangC
from .report import to_html, write_report
from .results import Estimate, Summary, batch_means, summarize
from .scenario import SHIPPED, Scenario, load_scenario
from .staffing import StaffingResult, find_staff

__all__ = [
    "SHIPPED",
    "Comparison",
    "ErlangC",
    "Estimate",
    "Scenario",
    "Simulation",
    "StaffingResult",
    "Summary",
    "batch_means",
    "compare",
    "find_staff",
    "load_scenario",
    "summarize",
    "to_html",
    "write_report",
]
