"""Test helpers for hosts: a controllable clock and the storage conformance suite.

``supportflow.testing.conformance`` needs pytest; this module does not.
"""

from .clock import FixedClock

__all__ = ["FixedClock"]
