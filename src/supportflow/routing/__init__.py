"""Triage and routing: classifiers and assignment strategies (extension points and defaults)."""

from .compose import TRIAGE_CATEGORY, FirstConfident, Vote
from .defaults import LanguageOnlyClassifier, LeastLoaded
from .keywords import (
    COMPLAINT_CUES,
    COMPLAINT_RULES,
    REQUEST_TYPE_RULES,
    KeywordClassifier,
    KeywordRule,
)
from .priority import (
    DEFAULT_CHANNEL_POINTS,
    DEFAULT_TIER_POINTS,
    URGENCY_CUES,
    PriorityAssessment,
    PriorityDetector,
    UrgencyCue,
)
from .protocols import AssignmentStrategy, Classification, Classifier
from .trainable import TrainableClassifier

__all__ = [
    "COMPLAINT_CUES",
    "COMPLAINT_RULES",
    "DEFAULT_CHANNEL_POINTS",
    "DEFAULT_TIER_POINTS",
    "REQUEST_TYPE_RULES",
    "TRIAGE_CATEGORY",
    "URGENCY_CUES",
    "AssignmentStrategy",
    "Classification",
    "Classifier",
    "FirstConfident",
    "KeywordClassifier",
    "KeywordRule",
    "LanguageOnlyClassifier",
    "LeastLoaded",
    "PriorityAssessment",
    "PriorityDetector",
    "TrainableClassifier",
    "UrgencyCue",
    "Vote",
]
