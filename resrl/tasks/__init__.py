"""Prompt sources with verifiable answers (``arith``, ``dapo_math``) and their rewards."""

from resrl.tasks.arith import ArithConfig, ArithTask
from resrl.tasks.base import MATH_INSTRUCTION, Problem, Task, math_messages
from resrl.tasks.dapo_math import DapoMathConfig, DapoMathTask
from resrl.tasks.registry import TASKS, make_task
from resrl.tasks.rewards import REWARDS, boxed_int_reward, get_reward, last_boxed

__all__ = [
    "MATH_INSTRUCTION",
    "REWARDS",
    "TASKS",
    "ArithConfig",
    "ArithTask",
    "DapoMathConfig",
    "DapoMathTask",
    "Problem",
    "Task",
    "boxed_int_reward",
    "get_reward",
    "last_boxed",
    "make_task",
    "math_messages",
]
