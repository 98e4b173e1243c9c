"""Retrying a unit of work that lost an optimistic-concurrency race."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from .errors import ConcurrencyConflict, ValidationFailed

__all__ = ["retry_on_conflict"]

T = TypeVar("T")
_log = logging.getLogger("supportflow")


def retry_on_conflict(
    action: Callable[[], T],
    *,
    attempts: int = 5,
    base_delay_s: float = 0.002,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``action`` until it stops raising ``ConcurrencyConflict``, at most ``attempts`` times.

    ``action`` must redo its reads each time (a desk call does: it opens a fresh unit of
    work). Between tries it sleeps a jittered, doubling delay; the last conflict is
    re-raised; each retry is logged at DEBUG on the ``supportflow`` logger. Example:
    ``retry_on_conflict(lambda: desk.acknowledge(tid, agent_id="a1"))``.
    """
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise ValidationFailed("attempts", "must be an integer of at least 1")
    for attempt in range(attempts):
        try:
            return action()
        except ConcurrencyConflict as exc:
            if attempt == attempts - 1:
                raise
            # Ids and versions only: a conflict never carries customer contact details.
            _log.debug(
                "retrying after a concurrency conflict on %s %r (attempt %d of %d)",
                exc.kind,
                exc.object_id,
                attempt + 1,
                attempts,
            )
            sleep(base_delay_s * (2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover
