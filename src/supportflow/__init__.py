"""supportflow: a customer-support process embedded in the host's own Python application.

The names below are the public API; everything else may change between releases.
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from .clock import Clock, SystemClock
from .desk import DeskSettings, DueJobsReport, SlaImpact, SupportDesk
from .errors import (
    AgentNotFound,
    AssignmentFailed,
    ConcurrencyConflict,
    ConflictError,
    CustomerNotFound,
    DuplicateEntity,
    InvalidTransition,
    NotFound,
    NotPermitted,
    OptionalDependencyMissing,
    ReopenWindowExpired,
    SchemaVersionError,
    StorageError,
    SupportflowError,
    TeamNotFound,
    TicketNotFound,
    ValidationFailed,
)
from .events import EventType, replay
from .lifecycle import LifecycleEvent, TicketLifecycle
from .models import (
    Agent,
    AgentRole,
    AgentStatus,
    AuthorKind,
    Channel,
    ComplaintCategory,
    Contact,
    Customer,
    CustomerTier,
    Message,
    Priority,
    Team,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from .retry import retry_on_conflict
from .routing import (
    AgentPool,
    AssignmentStrategy,
    Classification,
    Classifier,
    Decision,
    FirstConfident,
    KeywordClassifier,
    Pipeline,
    PriorityDetector,
    RoutingRequest,
    TrainableClassifier,
    Vote,
    standard_pipeline,
)
from .sla import (
    BusinessCalendar,
    CalendarSpec,
    Deadline,
    SlaMetric,
    SlaPolicy,
    SlaState,
    china_calendar,
    default_policy,
)
from .storage import DEFAULT_TENANT, MemoryStore, SqliteStore, Store, UnitOfWork

try:
    __version__ = _version("supportflow")
except _PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "DEFAULT_TENANT",
    "Agent",
    "AgentNotFound",
    "AgentPool",
    "AgentRole",
    "AgentStatus",
    "AssignmentFailed",
    "AssignmentStrategy",
    "AuthorKind",
    "BusinessCalendar",
    "CalendarSpec",
    "Channel",
    "Classification",
    "Classifier",
    "Clock",
    "ComplaintCategory",
    "ConcurrencyConflict",
    "ConflictError",
    "Contact",
    "Customer",
    "CustomerNotFound",
    "CustomerTier",
    "Deadline",
    "Decision",
    "DeskSettings",
    "DueJobsReport",
    "DuplicateEntity",
    "EventType",
    "FirstConfident",
    "InvalidTransition",
    "KeywordClassifier",
    "LifecycleEvent",
    "MemoryStore",
    "Message",
    "NotFound",
    "NotPermitted",
    "OptionalDependencyMissing",
    "Pipeline",
    "Priority",
    "PriorityDetector",
    "ReopenWindowExpired",
    "RoutingRequest",
    "SchemaVersionError",
    "SlaImpact",
    "SlaMetric",
    "SlaPolicy",
    "SlaState",
    "SqliteStore",
    "StorageError",
    "Store",
    "SupportDesk",
    "SupportflowError",
    "SystemClock",
    "Team",
    "TeamNotFound",
    "Ticket",
    "TicketEvent",
    "TicketLifecycle",
    "TicketNotFound",
    "TicketStatus",
    "TrainableClassifier",
    "UnitOfWork",
    "ValidationFailed",
    "Vote",
    "__version__",
    "china_calendar",
    "default_policy",
    "replay",
    "retry_on_conflict",
    "standard_pipeline",
]
