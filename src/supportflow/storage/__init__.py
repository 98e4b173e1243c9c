"""Storage: the protocols a host implements, and the in-memory and SQL stores shipped.

The PostgreSQL store needs the ``postgres`` extra, so it is imported from its own module:
``from supportflow.storage.postgres import PostgresStore``.
"""

from .memory import MemoryStore
from .protocols import (
    DEFAULT_TENANT,
    AgentRepository,
    ArticleRepository,
    CursorRepository,
    CustomerEventLog,
    CustomerRepository,
    EventLog,
    MessageRepository,
    Store,
    TeamRepository,
    TicketRepository,
    UnitOfWork,
)
from .sql import SqliteStore

__all__ = [
    "DEFAULT_TENANT",
    "AgentRepository",
    "ArticleRepository",
    "CursorRepository",
    "CustomerEventLog",
    "CustomerRepository",
    "EventLog",
    "MemoryStore",
    "MessageRepository",
    "SqliteStore",
    "Store",
    "TeamRepository",
    "TicketRepository",
    "UnitOfWork",
]
