"""GRPO: group-normalised advantages with the clipped surrogate (the base behaviour)."""

from resrl.methods import register
from resrl.methods.base import Method


@register("grpo")
class GRPO(Method):
    """Shao et al. 2024; veRL's ``adv_estimator=grpo`` with the vanilla clipped policy loss."""
