"""Prompt sources with verifiable answers (``arith``, ``dapo_math``) and their rewards, and multi-turn
environment tasks (``EnvTask``: ``alfworld``, ``bfcl``, ``guess``)."""

from resrl.tasks.arith import ArithConfig, ArithTask
from resrl.tasks.base import MATH_INSTRUCTION, Problem, Task, math_messages
from resrl.tasks.dapo_math import DapoMathConfig, DapoMathTask
from resrl.tasks.env_task import EnvTask, EnvTaskConfig
from resrl.tasks.registry import TASK_KINDS, TASKS, available_tasks, make_task
from resrl.tasks.rewards import REWARDS, boxed_int_reward, get_reward, last_boxed

__all__ = [
    "MATH_INSTRUCTION",
    "REWARDS",
    "TASKS",
    "TASK_KINDS",
    "ArithConfig",
    "ArithTask",
    "DapoMathConfig",
    "DapoMathTask",
    "EnvTask",
    "EnvTaskConfig",
    "Problem",
    "Task",
    "available_tasks",
    "boxed_int_reward",
    "get_reward",
    "last_boxed",
    "make_task",
    "math_messages",
]
