"""The clocks: the real one in UTC, and the test double hosts freeze and advance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from supportflow import Clock, SystemClock, ValidationFailed
from supportflow.testing import FixedClock


def test_system_clock_is_aware_and_utc() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_both_clocks_satisfy_the_protocol() -> None:
    assert isinstance(SystemClock(), Clock)
    assert isinstance(FixedClock(datetime(2026, 1, 1, tzinfo=UTC)), Clock)


def test_fixed_clock_stands_still_until_moved() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    clock = FixedClock(start)
    assert clock.now() == clock.now() == start
    assert clock.advance(timedelta(hours=2)) == start + timedelta(hours=2)
    later = datetime(2026, 3, 3, tzinfo=UTC)
    assert clock.set(later) == later
    assert clock.now() == later


def test_fixed_clock_refuses_naive_datetimes() -> None:
    with pytest.raises(ValidationFailed) as caught:
        FixedClock(datetime(2026, 3, 2, 9, 0))
    assert caught.value.field == "start"
    clock = FixedClock(datetime(2026, 3, 2, tzinfo=UTC))
    with pytest.raises(ValidationFailed):
        clock.set(datetime(2026, 3, 2))
