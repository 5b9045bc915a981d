"""Condition fields the lifecycle's default rules need, registered with the condition language."""

from __future__ import annotations


def register_fields() -> None:
    """Register ``ever_subscribed`` and ``next_yearly_renewal`` (after h-cond merges)."""
