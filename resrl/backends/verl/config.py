"""Translate one composed experiment config (method/model/task/trainer + a cluster settings) into veRL's.

Pure Python: nothing here imports ``verl``. The output is a :class:`VerlPlan`: Hydra overrides for veRL's
``ppo_trainer`` config (read from verl 0.9.1's ``trainer/config/_generated_ppo_trainer.yaml``), the
environment the Ray job needs, and the rows of the training parquet.

How each of our pieces reaches veRL (all by registered name, no fork):

- advantages: ``algorithm.adv_estimator`` = ``resrl_grpo`` (GRPO, DAPO, FlowRL, ResRL) or
  ``resrl_w_reinforce`` (NSR, W-REINFORCE), registered in :mod:`resrl.backends.verl.register`;
- policy loss: ``actor.policy_loss.loss_mode=resrl`` (our clipped surrogate); ResRL and FlowRL also need
  the actor worker of :mod:`resrl.backends.verl.workers` (hidden states by hook, the ``log Z`` head);
- rewards: the reward manager ``resrl`` applies ``method.shape_rewards`` (ResRL's length-scaled reward,
  DAPO's overlong punishment) to the task's verifier score;
- batching: one prompt group per micro-batch (``ppo_micro_batch_size_per_gpu = n``, as the authors'
  ``train_command.sh``) and the ``resrl_sync`` trainer, which balances whole groups across ranks.

The method's full config travels to every Ray process as JSON in ``RESRL_VERL_METHOD`` and is rebuilt
there with ``resrl.methods.build`` (so it is validated by the same dataclasses as the local trainer).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import resrl.methods as methods
from resrl.trainer.config import TrainerConfig

METHOD_ENV = "RESRL_VERL_METHOD"
LOSS_AGG_ENV = "RESRL_VERL_LOSS_AGGREGATION"  # trainer.loss_aggregation, read by the actor losses
SETUP_HOOK = "resrl.backends.verl.register.setup_worker"
REWARD_MODULE = "pkg://resrl.backends.verl.reward"
TRAINER_MODE = "resrl_sync"
POLICY_LOSS = "resrl"
REWARD_MANAGER = "resrl"
ADV_GRPO = "resrl_grpo"
ADV_W_REINFORCE = "resrl_w_reinforce"
KL_TYPES = {"k1": "kl", "k3": "low_var_kl"}  # our kl_type -> veRL's kl_loss_type
ATTN_IMPLEMENTATIONS = ("flash_attention_2", "sdpa", "eager")


@dataclass
class ClusterSettings:
    """Where and how the Ray job runs (``experiments/verl/cluster/<name>.yaml``).

    Defaults are the authors' ``train_command.sh`` (1 node x 8 GPUs, vLLM tensor parallel 4,
    ``gpu_memory_utilization`` 0.65, gradient checkpointing, no offload, save every 50 steps).
    """

    name: str = "paper"
    nnodes: int = 1
    gpus_per_node: int = 8
    rollout_tp: int = 4
    rollout_tp_by_model: dict[str, int] = field(default_factory=dict)  # per-model override of rollout_tp
    gpu_memory_utilization: float = 0.65
    param_offload: bool = False
    optimizer_offload: bool = False
    gradient_checkpointing: bool = True
    use_remove_padding: bool = True
    strategy: str = "fsdp"  # veRL actor strategy: fsdp (FSDP1) or fsdp2
    logger: list[str] = field(default_factory=lambda: ["console", "tensorboard"])
    project_name: str = "resrl"
    total_epochs: int = 1000  # an upper bound; training stops at trainer.steps (total_training_steps)
    python: str | None = None  # interpreter of the veRL job and every Ray worker (None: the launcher's own)
    train_rows: int | None = None  # rows written to the training parquet (None: steps * prompts_per_step)
    ray_num_cpus: int | None = (
        None  # CPUs Ray may use (None: $SLURM_CPUS_PER_TASK under SLURM, else Ray's default)
    )
    # the actor's attention kernels: veRL's default flash_attention_2 (needs flash_attn; so does remove-padding),
    # or sdpa (no flash_attn: also turns use_remove_padding off)
    attn_implementation: str = "flash_attention_2"

    def __post_init__(self) -> None:
        for name in ("nnodes", "gpus_per_node", "rollout_tp", "total_epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"cluster.{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 < self.gpu_memory_utilization <= 1.0:
            raise ValueError(
                f"cluster.gpu_memory_utilization must be in (0, 1], got {self.gpu_memory_utilization}"
            )
        if self.strategy not in ("fsdp", "fsdp2"):
            raise ValueError(f"cluster.strategy={self.strategy!r}; valid: fsdp, fsdp2")
        if self.train_rows is not None and self.train_rows < 1:
            raise ValueError(f"cluster.train_rows must be >= 1 or null, got {self.train_rows}")
        if self.ray_num_cpus is not None and self.ray_num_cpus < 1:
            raise ValueError(f"cluster.ray_num_cpus must be >= 1 or null, got {self.ray_num_cpus}")
        if self.attn_implementation not in ATTN_IMPLEMENTATIONS:
            raise ValueError(
                f"cluster.attn_implementation={self.attn_implementation!r}; valid: "
                f"{', '.join(ATTN_IMPLEMENTATIONS)}"
            )
        if self.attn_implementation != "flash_attention_2" and self.use_remove_padding:
            self.use_remove_padding = False  # veRL's remove-padding path calls flash_attn's varlen kernels
        if not self.python:
            self.python = sys.executable
        elif os.sep in self.python and not os.path.isabs(self.python):
            self.python = os.path.abspath(self.python)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ClusterSettings:
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - valid)
        if unknown:
            raise ValueError(f"unknown cluster field(s) {unknown}; valid: {', '.join(sorted(valid))}")
        return cls(
            **{
                k: (dict(v) if isinstance(v, Mapping) else list(v) if isinstance(v, (list, tuple)) else v)
                for k, v in values.items()
            }
        )

    @property
    def needs_flash_attn(self) -> bool:
        return self.attn_implementation == "flash_attention_2" or self.use_remove_padding

    @property
    def world_size(self) -> int:
        return self.nnodes * self.gpus_per_node

    def tp_for(self, model_name: str) -> int:
        return int(self.rollout_tp_by_model.get(model_name, self.rollout_tp))


@dataclass
class VerlPlan:
    """Everything the launcher needs: veRL overrides, environment, paths."""

    overrides: dict[str, Any]  # dotted veRL config key (a leading '+' adds a key) -> value
    env: dict[str, str]
    run_dir: Path
    train_parquet: Path
    checkpoint_dir: Path
    extra: list[str] = field(
        default_factory=list
    )  # raw veRL overrides from the user, appended last (they win)

    def argv(self) -> list[str]:
        """Hydra override strings, sorted by key for a stable, readable command, then the user's extras."""
        ours = [
            f"{k}={format_override(v)}"
            for k, v in sorted(self.overrides.items(), key=lambda kv: kv[0].lstrip("+"))
        ]
        return ours + list(self.extra)

    def command(self, python: str) -> list[str]:
        return [python, "-m", "resrl.backends.verl.main", *self.argv()]

    def shell(self, python: str) -> str:
        """The command as one shell line, environment first (what a user would paste)."""
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(self.env.items()))
        return f"{env} {shlex.join(self.command(python))}"


_SAFE = re.compile(r"^[A-Za-z0-9_./:\-+@]*$")


def format_override(value: Any) -> str:
    """A Python value in Hydra's override grammar (null, true/false, numbers, [lists], quoted strings)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(format_override(v) for v in value) + "]"
    if isinstance(value, str):
        if value and _SAFE.match(value) and value.lower() not in ("null", "true", "false"):
            return value
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as a Hydra override")


def adv_estimator_for(method: methods.Method) -> str:
    """The registered veRL advantage estimator of the method's :attr:`~resrl.methods.base.Method.verl_advantage`."""
    kinds = {"grpo": ADV_GRPO, "w_reinforce": ADV_W_REINFORCE, "gae": "gae"}  # gae: veRL's own estimator
    if method.verl_advantage not in kinds:
        raise ValueError(
            f"method {method.name!r}: verl_advantage={method.verl_advantage!r}; valid: {', '.join(kinds)}"
        )
    return kinds[method.verl_advantage]


def method_payload(method: methods.Method) -> str:
    """The JSON every Ray process rebuilds the method from (see :func:`method_from_env`)."""
    return json.dumps(method.config_dict(), sort_keys=True)


def method_from_env(environ: Mapping[str, str] | None = None) -> methods.Method:
    """Rebuild the method from ``$RESRL_VERL_METHOD`` (set by the launcher for every Ray process)."""
    env = os.environ if environ is None else environ
    raw = env.get(METHOD_ENV)
    if not raw:
        raise RuntimeError(
            f"${METHOD_ENV} is not set: start veRL through `python -m resrl.backends.verl.launch` (or "
            "resrl.backends.verl.main with that variable set to the method's JSON config)"
        )
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"${METHOD_ENV} is not valid JSON: {err}") from None
    if not isinstance(data, dict) or "name" not in data:
        raise ValueError(f"${METHOD_ENV} must be a JSON object with a 'name' field, got {raw[:80]!r}")
    return methods.build(**data)


def critic_overrides(cfg: Any, model: Mapping[str, Any], cluster: ClusterSettings) -> dict[str, Any]:
    """veRL's critic for a method that needs one (PPO): the policy's model as the value model's start, the method's
    critic learning rate and GAE's gamma and lambda, the cluster's memory settings as the actor's."""
    return {
        "critic.enable": True,
        "critic.model.path": model["hub_id"],
        "critic.optim.lr": cfg.critic_lr,
        "critic.model.enable_gradient_checkpointing": cluster.gradient_checkpointing,
        "critic.fsdp.param_offload": cluster.param_offload,
        "critic.fsdp.optimizer_offload": cluster.optimizer_offload,
        "algorithm.gamma": cfg.gamma,
        "algorithm.lam": cfg.lam,
    }


def agent_loop_config_path(run_dir: Path) -> Path:
    """Where the launcher writes the agent-loop registration file of an environment task."""
    return Path(run_dir) / "agent_loops.yaml"


def env_task_overrides(task: Mapping[str, Any], trainer: TrainerConfig, run_dir: Path) -> dict[str, Any]:
    """veRL settings of a multi-turn environment task: rows name our agent loop (registered by the file
    :func:`agent_loop_config_path`); the response budget covers every turn of an episode (the task's
    ``max_total_tokens``, the local trainer's bound on prompt + response); ``trainer.max_new_tokens`` is per turn
    (carried in each row)."""
    total = task.get("max_total_tokens")
    if not total:
        raise ValueError(
            f"task {task.get('name')!r} (kind: env) needs task.max_total_tokens on veRL: veRL's response length is "
            "the budget of a whole episode"
        )
    return {
        "actor_rollout_ref.rollout.agent.agent_loop_config_path": str(agent_loop_config_path(run_dir)),
        "data.max_response_length": int(total),
        "actor_rollout_ref.rollout.calculate_log_probs": True,
    }


def check_sizes(trainer: TrainerConfig, cluster: ClusterSettings, model_name: str) -> None:
    """Batch-size constraints of veRL's V1 trainer plus 'whole prompt groups per rank' (ValueError)."""
    world = cluster.world_size
    tp = cluster.tp_for(model_name)
    if world % tp:
        raise ValueError(
            f"rollout tensor parallel size {tp} must divide the {world} GPUs (cluster.rollout_tp)"
        )
    if cluster.gpus_per_node % tp and tp <= cluster.gpus_per_node:
        raise ValueError(
            f"rollout tensor parallel size {tp} must divide cluster.gpus_per_node={cluster.gpus_per_node}"
        )
    for name in ("prompts_per_step", "mini_batch_prompts"):
        value = getattr(trainer, name)
        if value % world:
            raise ValueError(
                f"trainer.{name}={value} must be a multiple of the {world} GPUs so that every rank holds whole "
                "prompt groups (one group per micro-batch)"
            )


def ray_num_cpus(cluster: ClusterSettings, environ: Mapping[str, str]) -> int | None:
    """CPUs for ``ray.init`` when the job starts its own Ray: the cluster's, else SLURM's allocation.

    veRL 0.9.1 (``trainer/config/ppo_trainer.yaml``, ``ray_kwargs.ray_init.num_cpus``): "Use a fixed number instead
    of null when using SLURM"; with null Ray counts every core of the node and can hang in a SLURM cgroup. When
    joining a running cluster (``$RAY_ADDRESS``) Ray refuses ``num_cpus``, so none is given.
    """
    if environ.get("RAY_ADDRESS"):
        return None
    if cluster.ray_num_cpus is not None:
        return cluster.ray_num_cpus
    for var in ("SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE"):
        value = environ.get(var, "").split("(")[0].split(",")[0]
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def interpreter_path(python: str) -> str:
    """``python`` as an absolute path (``python3`` looked up on PATH), so Ray workers on every node use it."""
    if os.sep in python:
        return os.path.abspath(python)
    found = shutil.which(python)
    return os.path.abspath(found) if found else python


#: veRL overrides after ``--`` that would split prompt groups across micro-batches (checked by the launcher; the
#: actor loss also checks every micro-batch).
GROUP_BREAKING = {
    "actor_rollout_ref.actor.use_dynamic_bsz": "false",
    "actor_rollout_ref.actor.shuffle": "false",
}


def check_extra_overrides(extra: Sequence[str], n: int) -> None:
    """Refuse user veRL overrides that break 'one whole prompt group per micro-batch' (ValueError)."""
    for item in extra:
        key, sep, value = item.lstrip("+").partition("=")
        if not sep:
            continue
        want = GROUP_BREAKING.get(key)
        if want is not None and value.strip().lower() != want:
            raise ValueError(
                f"veRL override {item!r} would split prompt groups across micro-batches; the resrl "
                f"backend needs {key}={want}"
            )
        if key == "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu" and value.strip() != str(n):
            raise ValueError(
                f"veRL override {item!r}: a micro-batch must be one prompt group, "
                f"ppo_micro_batch_size_per_gpu={n} (trainer.n)"
            )


def translate(
    config: Mapping[str, Any],
    cluster: ClusterSettings,
    run_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> VerlPlan:
    """Our composed config (``method``, ``model``, ``task``, ``trainer``, ``output_dir``) -> :class:`VerlPlan`."""
    for key in ("method", "model", "task", "trainer"):
        if key not in config:
            raise ValueError(f"config has no '{key}' section")
    method = methods.build(**dict(config["method"]))
    trainer = TrainerConfig.from_mapping(dict(config["trainer"]))
    model = dict(config["model"])
    task = dict(config["task"])
    name = method.name
    cfg = method.cfg
    if type(method).token_features is not methods.Method.token_features:
        raise ValueError(
            f"method={name} reads the response text (Method.token_features), which the veRL actor does not pass; "
            "train it with the local trainer (python -m resrl.train, trainer.device=cuda)"
        )
    if model.get("source") != "hub":
        raise ValueError(
            f"model {model.get('name')!r} has source {model.get('source')!r}; the veRL backend loads a Hugging Face "
            "checkpoint (source: hub, hub_id: a Hub id or a local folder)"
        )
    if getattr(cfg, "length_reward", False) and cfg.length_end_scale <= 0.0:
        raise ValueError(
            "method.length_end_scale must be > 0 on veRL: the actor tells positives by shaped reward > 0"
        )
    check_sizes(trainer, cluster, model["name"])

    run_dir = Path(run_dir if run_dir is not None else config.get("output_dir", f"results/runs/verl-{name}"))
    train_parquet = run_dir / "data" / "train.parquet"
    ckpt_dir = run_dir / "verl_checkpoints"
    n = trainer.n
    seq_len = trainer.max_prompt_tokens + trainer.max_new_tokens
    chat_kwargs = dict(model.get("chat_template_kwargs") or {})
    if "enable_thinking" in task:
        chat_kwargs["enable_thinking"] = bool(task["enable_thinking"])
    needs_ref = method.needs_reference or cfg.kl_coef != 0.0
    ar = "actor_rollout_ref"

    o: dict[str, Any] = {
        # data
        "data.train_files": str(train_parquet),
        "data.val_files": str(
            train_parquet
        ),  # required by the loader; validation is off (our evaluators run after)
        "data.train_batch_size": trainer.prompts_per_step,
        "data.max_prompt_length": trainer.max_prompt_tokens,
        "data.max_response_length": trainer.max_new_tokens,
        "data.truncation": "left",
        "data.filter_overlong_prompts": trainer.long_prompts
        == "skip",  # the release: no filter, left truncation
        "data.shuffle": True,
        "data.seed": trainer.seed,
        "data.prompt_key": "prompt",
        "data.reward_fn_key": "data_source",
        # model
        f"{ar}.model.path": model["hub_id"],
        f"{ar}.model.use_remove_padding": cluster.use_remove_padding,
        f"+{ar}.model.override_config.attn_implementation": cluster.attn_implementation,
        f"{ar}.model.enable_gradient_checkpointing": cluster.gradient_checkpointing
        or trainer.gradient_checkpointing,
        # actor: optimiser (linear warm-up, then constant)
        f"{ar}.actor.strategy": cluster.strategy,
        f"{ar}.actor.optim.lr": trainer.lr,
        f"{ar}.actor.optim.lr_warmup_steps": trainer.warmup_steps,
        f"{ar}.actor.optim.lr_scheduler_type": "constant",
        f"{ar}.actor.optim.weight_decay": trainer.weight_decay,
        f"{ar}.actor.optim.betas": list(trainer.betas),
        f"{ar}.actor.optim.clip_grad": trainer.grad_clip,
        f"{ar}.actor.grad_clip": trainer.grad_clip,
        # actor: batching (mini-batch in prompts; micro-batch = one prompt group)
        f"{ar}.actor.ppo_mini_batch_size": trainer.mini_batch_prompts,
        f"{ar}.actor.ppo_micro_batch_size_per_gpu": n,
        f"{ar}.actor.use_dynamic_bsz": False,
        f"{ar}.actor.ppo_max_token_len_per_gpu": seq_len,
        f"{ar}.actor.ppo_epochs": trainer.ppo_epochs,
        f"{ar}.actor.shuffle": False,
        f"{ar}.actor.data_loader_seed": trainer.seed,
        # actor: loss
        f"{ar}.actor.policy_loss.loss_mode": POLICY_LOSS,
        f"{ar}.actor.clip_ratio_low": cfg.clip_low,
        f"{ar}.actor.clip_ratio_high": cfg.clip_high,
        f"{ar}.actor.clip_ratio_c": cfg.dual_clip if cfg.dual_clip is not None else 3.0,
        f"{ar}.actor.loss_agg_mode": cfg.loss_agg_mode,
        f"{ar}.actor.entropy_coeff": cfg.entropy_coef,
        # token entropies in the update forward when the loss reads them (EMPG), not only for an entropy bonus
        f"{ar}.actor.calculate_entropy": method.needs_entropy,
        f"{ar}.actor.use_kl_loss": needs_ref,
        f"{ar}.actor.kl_loss_coef": cfg.kl_coef,
        f"{ar}.actor.kl_loss_type": KL_TYPES[cfg.kl_type],
        f"{ar}.actor.fsdp_config.param_offload": cluster.param_offload,
        f"{ar}.actor.fsdp_config.optimizer_offload": cluster.optimizer_offload,
        f"{ar}.actor.checkpoint.save_contents": ["model", "optimizer", "extra"],  # merged by .checkpoint
        # rollout (vLLM)
        f"{ar}.rollout.name": "vllm",
        f"{ar}.rollout.n": n,
        f"{ar}.rollout.temperature": trainer.temperature,
        f"{ar}.rollout.top_p": trainer.top_p,
        f"{ar}.rollout.val_kwargs.temperature": trainer.eval_temperature,
        f"{ar}.rollout.val_kwargs.top_p": trainer.eval_top_p,
        f"{ar}.rollout.top_k": -1,
        f"{ar}.rollout.seed": trainer.seed,
        f"{ar}.rollout.tensor_model_parallel_size": cluster.tp_for(model["name"]),
        f"{ar}.rollout.gpu_memory_utilization": cluster.gpu_memory_utilization,
        f"{ar}.rollout.max_num_batched_tokens": seq_len,
        f"{ar}.rollout.log_prob_micro_batch_size_per_gpu": n,
        f"{ar}.rollout.log_prob_use_dynamic_bsz": False,
        f"{ar}.rollout.log_prob_max_token_len_per_gpu": seq_len,
        f"{ar}.rollout.calculate_log_probs": True,
        f"{ar}.ref.log_prob_micro_batch_size_per_gpu": n,
        f"{ar}.ref.log_prob_use_dynamic_bsz": False,
        f"{ar}.ref.log_prob_max_token_len_per_gpu": seq_len,
        f"{ar}.ref.fsdp_config.param_offload": cluster.param_offload,
        # algorithm
        "algorithm.adv_estimator": adv_estimator_for(method),
        "algorithm.norm_adv_by_std_in_grpo": cfg.norm_std,
        "algorithm.use_kl_in_reward": False,
        "algorithm.filter_groups.enable": bool(getattr(cfg, "dynamic_sampling", False)),
        "algorithm.filter_groups.metric": "acc",  # the raw verifier score (our local trainer filters on it too)
        # reward: the task's verifier, shaped by the method
        "reward.reward_manager.source": "register",
        "reward.reward_manager.name": REWARD_MANAGER,
        "reward.custom_reward_function.path": REWARD_MODULE,
        "reward.custom_reward_function.name": "compute_score",
        # trainer
        "trainer.v1.trainer_mode": TRAINER_MODE,
        "trainer.nnodes": cluster.nnodes,
        "trainer.n_gpus_per_node": cluster.gpus_per_node,
        "trainer.total_training_steps": trainer.steps,
        "trainer.total_epochs": cluster.total_epochs,
        "trainer.save_freq": trainer.save_every,
        "trainer.max_actor_ckpt_to_keep": trainer.keep_checkpoints,
        "trainer.test_freq": -1,
        "trainer.val_before_train": False,
        "trainer.critic_warmup": 0,
        "trainer.resume_mode": "auto" if trainer.resume else "disable",
        "trainer.default_local_dir": str(ckpt_dir),
        "trainer.project_name": cluster.project_name,
        "trainer.experiment_name": str(config.get("run_name", f"{name}-{model['name']}")),
        "trainer.logger": list(cluster.logger),
        # every Ray process imports our registrations before it runs anything, with the job's interpreter
        "+ray_kwargs.ray_init.runtime_env.worker_process_setup_hook": SETUP_HOOK,
        "ray_kwargs.ray_init.runtime_env.py_executable": interpreter_path(cluster.python),
    }
    cpus = ray_num_cpus(cluster, os.environ if environ is None else environ)
    if cpus is not None:
        o["ray_kwargs.ray_init.num_cpus"] = cpus
    for key, value in sorted(chat_kwargs.items()):
        o[f"+data.apply_chat_template_kwargs.{key}"] = value
    if getattr(cfg, "grouping", "prompt") != "prompt":
        raise ValueError(
            f"method.grouping={cfg.grouping!r} runs on the local trainer only; the veRL backend fits one "
            "subspace per whole prompt group (method.grouping=prompt)"
        )
    if method.needs_critic:  # PPO: veRL's critic worker on the same model, GAE advantages
        o.update(critic_overrides(cfg, model, cluster))
    if (
        task.get("kind") == "env"
    ):  # multi-turn episodes through our agent loop (resrl.backends.verl.agent_loop)
        o.update(env_task_overrides(task, trainer, run_dir))
    env = {METHOD_ENV: method_payload(method), LOSS_AGG_ENV: trainer.loss_aggregation}
    return VerlPlan(
        overrides=o, env=env, run_dir=run_dir, train_parquet=train_parquet, checkpoint_dir=ckpt_dir
    )


def plan_summary(plan: VerlPlan, config: Mapping[str, Any], cluster: ClusterSettings) -> dict[str, Any]:
    """What the dry run prints besides the command: the inputs, resolved."""
    return {
        "method": dict(config["method"]),
        "model": dict(config["model"]),
        "task": dict(config["task"]),
        "trainer": dict(config["trainer"]),
        "cluster": asdict(cluster),
        "run_dir": str(plan.run_dir),
        "train_parquet": str(plan.train_parquet),
        "checkpoint_dir": str(plan.checkpoint_dir),
        "env": dict(plan.env),
        "overrides": {k: v for k, v in sorted(plan.overrides.items())},
    }
