"""Triage and routing: classifiers and assignment strategies (extension points and defaults)."""

from .assignment import (
    AssignmentStrategy,
    Candidate,
    Decision,
    Filter,
    RecentAgent,
    RoutingRequest,
)
from .compose import TRIAGE_CATEGORY, FirstConfident, Vote
from .defaults import LanguageOnlyClassifier, default_strategy
from .keywords import (
    COMPLAINT_CUES,
    COMPLAINT_RULES,
    REQUEST_TYPE_RULES,
    KeywordClassifier,
    KeywordRule,
)
from .pipeline import Order, Pipeline, Preference, Preferred
from .pool import PRIORITY_WEIGHTS, AgentPool, agent_tags
from .priority import (
    DEFAULT_CHANNEL_POINTS,
    DEFAULT_TIER_POINTS,
    URGENCY_CUES,
    PriorityAssessment,
    PriorityDetector,
    UrgencyCue,
)
from .protocols import Classification, Classifier
from .registry import PluginNotFound, PluginRegistry
from .steps import (
    Availability,
    LanguageMatch,
    LeastLoaded,
    RoundRobin,
    SkillMatch,
    Sticky,
    TeamRouting,
    TierAware,
    WithinCapacity,
    standard_pipeline,
)
from .trainable import TrainableClassifier

__all__ = [
    "COMPLAINT_CUES",
    "COMPLAINT_RULES",
    "DEFAULT_CHANNEL_POINTS",
    "DEFAULT_TIER_POINTS",
    "PRIORITY_WEIGHTS",
    "REQUEST_TYPE_RULES",
    "TRIAGE_CATEGORY",
    "URGENCY_CUES",
    "AgentPool",
    "AssignmentStrategy",
    "Availability",
    "Candidate",
    "Classification",
    "Classifier",
    "Decision",
    "Filter",
    "FirstConfident",
    "KeywordClassifier",
    "KeywordRule",
    "LanguageMatch",
    "LanguageOnlyClassifier",
    "LeastLoaded",
    "Order",
    "Pipeline",
    "PluginNotFound",
    "PluginRegistry",
    "Preference",
    "Preferred",
    "PriorityAssessment",
    "PriorityDetector",
    "RecentAgent",
    "RoundRobin",
    "RoutingRequest",
    "SkillMatch",
    "Sticky",
    "TeamRouting",
    "TierAware",
    "TrainableClassifier",
    "UrgencyCue",
    "Vote",
    "WithinCapacity",
    "agent_tags",
    "default_strategy",
    "standard_pipeline",
]
