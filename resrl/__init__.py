"""ResRL reproduction suite: RLVR algorithms (GRPO, DAPO, NSR/W-REINFORCE, FlowRL, ResRL), a local
trainer, rollout engines and a veRL backend.

Importing this package is cheap: heavy optional dependencies (vllm, verl) are imported lazily by the
modules that need them.
"""

__version__ = "0.1.0"
