"""A support desk run on the real library against simulated customers (issue 7)."""

from __future__ import annotations
