"""Custom Optuna samplers for rltui."""

from __future__ import annotations

from rltui.search.samplers.policy_gradient import PolicyGradientSampler

__all__ = ["PolicyGradientSampler"]
