"""SLA: business calendars, policies and clocks (the extension point and its default)."""

from .protocols import Deadline, NoSlaPolicy, SlaPolicy

__all__ = ["Deadline", "NoSlaPolicy", "SlaPolicy"]
