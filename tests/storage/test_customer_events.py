"""Random customer events round-trip through both stores; the ``customer_events()`` strategy.

The storage contract for the customer event log is in ``supportflow.testing.conformance``
(run by ``test_conformance.py``); this adds a property over many random events, with
Chinese, English and arbitrary reasons in several zones, and checks what the strategy
promises.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportflow.errors import ValidationFailed
from supportflow.models import CustomerEvent, event_id
from supportflow.storage.memory import MemoryStore
from supportflow.storage.sql import SqliteStore
from supportflow.testing.strategies import customer_events

if TYPE_CHECKING:
    from collections.abc import Iterator

    from supportflow.storage.protocols import Store

ROUND_TRIP = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALL_TIME = (datetime(2019, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC))
_tenants = itertools.count()


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """One store per kind for the whole module; each example writes to a tenant of its own."""
    opened: Store = MemoryStore() if request.param == "memory" else SqliteStore(":memory:")
    yield opened
    opened.close()


@ROUND_TRIP
@given(
    events=st.lists(
        customer_events(), min_size=1, max_size=5, unique_by=lambda e: (e.customer_id, e.seq)
    )
)
def test_customer_events_round_trip_in_order(store: Store, events: list[CustomerEvent]) -> None:
    tenant = f"tenant-{next(_tenants)}"
    with store.unit_of_work(tenant) as uow:
        uow.customer_events.append(events)
        uow.commit()
    with store.unit_of_work(tenant) as uow:
        for customer_id in {e.customer_id for e in events}:
            stream = sorted(
                (e for e in events if e.customer_id == customer_id), key=lambda e: e.seq
            )
            assert uow.customer_events.for_customer(customer_id) == stream
        timeline = sorted(events, key=lambda e: (e.at, e.customer_id, e.seq))
        assert list(uow.customer_events.between(*ALL_TIME)) == timeline


@settings(max_examples=40, deadline=None)
@given(event=customer_events())
def test_drawn_events_are_valid_and_survive_json(event: CustomerEvent) -> None:
    assert event.id == event_id(event.customer_id, event.seq)
    assert event.at.utcoffset() is not None
    assert {"from", "to", "reason"} <= set(event.data)
    assert CustomerEvent.model_validate_json(event.model_dump_json()) == event


@settings(max_examples=20, deadline=None)
@given(
    event=customer_events(
        customer_ids=st.just("客户-1"), seqs=st.integers(7, 9), types=["customer.x"]
    )
)
def test_strategy_draws_from_what_it_is_given(event: CustomerEvent) -> None:
    assert (event.customer_id, event.type) == ("客户-1", "customer.x")
    assert 7 <= event.seq <= 9


def test_strategy_needs_an_event_type() -> None:
    with pytest.raises(ValidationFailed, match="types"):
        customer_events(types=[])
