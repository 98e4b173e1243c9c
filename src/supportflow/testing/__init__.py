"""Test helpers for hosts: a controllable clock and the storage conformance suite.

``supportflow.testing.conformance`` (the storage contract) needs pytest and
``supportflow.testing.strategies`` (hypothesis strategies for calendars and durations) needs
hypothesis; import them directly. This module needs neither.
"""

from .clock import FixedClock

__all__ = ["FixedClock"]
