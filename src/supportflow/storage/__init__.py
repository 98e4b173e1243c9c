"""Storage: the protocols a host implements, and the in-memory and SQL stores shipped."""

from .memory import MemoryStore
from .protocols import (
    DEFAULT_TENANT,
    AgentRepository,
    CustomerRepository,
    EventLog,
    MessageRepository,
    Store,
    TeamRepository,
    TicketRepository,
    UnitOfWork,
)

__all__ = [
    "DEFAULT_TENANT",
    "AgentRepository",
    "CustomerRepository",
    "EventLog",
    "MemoryStore",
    "MessageRepository",
    "Store",
    "TeamRepository",
    "TicketRepository",
    "UnitOfWork",
]
