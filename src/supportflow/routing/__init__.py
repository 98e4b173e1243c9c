"""Triage and routing: classifiers and assignment strategies (extension points and defaults)."""

from .defaults import LanguageOnlyClassifier, LeastLoaded
from .protocols import AssignmentStrategy, Classification, Classifier

__all__ = [
    "AssignmentStrategy",
    "Classification",
    "Classifier",
    "LanguageOnlyClassifier",
    "LeastLoaded",
]
