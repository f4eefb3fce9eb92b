"""The interface every RLVR method implements; the trainer calls only these hooks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import torch

from resrl.algorithms.core import AGG_MODES
from resrl.algorithms.grpo import PolicyLossConfig, grpo_advantages
from resrl.config_types import check_field_types


@dataclass
class PGConfig:
    """Policy-gradient settings shared by all methods (defaults: the ResRL paper's veRL runs)."""

    clip_low: float = 0.2
    clip_high: float = 0.2
    dual_clip: float | None = 3.0  # release (veRL 0.5 compute_policy_loss, clip_ratio_c); null: no dual clip
    log_ratio_clamp: float | None = 20.0  # release (veRL): log-ratio clamped to +-20 before exp; null: none
    kl_coef: float = 0.0
    kl_type: str = "k3"
    entropy_coef: float = 0.0
    loss_agg_mode: str = "token-mean"
    norm_std: bool = True  # GRPO advantage normalisation by the group std
    adv_eps: float = 1e-6

    def __post_init__(self) -> None:
        check_field_types(self, "method.")  # before any comparison (a CLI value may arrive as a string)
        if self.loss_agg_mode not in AGG_MODES:
            raise ValueError(f"method.loss_agg_mode={self.loss_agg_mode!r}; valid: {', '.join(AGG_MODES)}")
        self.policy_loss()  # validates the clip/KL fields with a message naming them

    def policy_loss(self) -> PolicyLossConfig:
        return PolicyLossConfig(
            clip_low=self.clip_low,
            clip_high=self.clip_high,
            dual_clip=self.dual_clip,
            log_ratio_clamp=self.log_ratio_clamp,
            kl_coef=self.kl_coef,
            kl_type=self.kl_type,
            entropy_coef=self.entropy_coef,
            loss_agg_mode=self.loss_agg_mode,
        )


@dataclass
class PolicyInputs:
    """One micro-batch as the loss sees it.

    log_probs, old_log_probs: [B, T] float (log_probs carries grad); response_mask: [B, T] bool;
    rewards, scores: [B] float (shaped reward, raw verifier score); group_ids: [B] int;
    advantages: [B] float (sequence advantages from :meth:`Method.sequence_advantages`);
    ref_log_probs, entropy: [B, T] or None; hidden: [B, T, H] (the hooked layer) or None; log_z: [B] or None.
    """

    log_probs: torch.Tensor
    old_log_probs: torch.Tensor
    response_mask: torch.Tensor
    rewards: torch.Tensor
    scores: torch.Tensor
    group_ids: torch.Tensor
    advantages: torch.Tensor
    ref_log_probs: torch.Tensor | None = None
    entropy: torch.Tensor | None = None
    hidden: torch.Tensor | None = None
    log_z: torch.Tensor | None = None
    positive: torch.Tensor | None = None  # [B] bool; None: score > 0
    subgroup_ids: torch.Tensor | None = (
        None  # [B] int: finer groups a method may fit statistics on (see subgroups)
    )
    sample_seed: int | None = None  # seed of this micro-batch's random draws (None: the global RNG)
    extras: dict[str, torch.Tensor] = field(
        default_factory=dict
    )  # a method's own module outputs (module_inputs)

    def __post_init__(self) -> None:
        """Every tensor must live on ``log_probs``' device: a CPU tensor next to CUDA ones would fail deep
        inside a loss on a GPU (or, for 0-dim tensors, silently sync); this names the field instead."""
        device = self.log_probs.device
        stray = [
            f.name
            for f in fields(self)
            if isinstance(getattr(self, f.name), torch.Tensor) and getattr(self, f.name).device != device
        ]
        if stray:
            where = ", ".join(f"{n} on {getattr(self, n).device}" for n in stray)
            raise ValueError(
                f"PolicyInputs: log_probs is on {device} but {where}; move the batch to one device"
            )

    @property
    def is_positive(self) -> torch.Tensor:
        """[B] bool: ``positive`` when given (an environment's success flag), else the verifier accepted the
        response (raw score > 0, as in the authors' release)."""
        return self.positive.bool() if self.positive is not None else self.scores > 0


class Method:
    """Base class: GRPO behaviour. Subclasses override the hooks they change.

    A method declares what it needs and every backend (the local trainer, the veRL actor) and the diagnostics ask
    it, never its name: the layers to capture (:attr:`captured_layers`), the prompt representation
    (:attr:`prompt_repr`), the reference policy (:attr:`needs_reference`), extra trainable modules and how they
    join the optimiser (:meth:`build_modules`, :meth:`module_param_groups`, :meth:`module_inputs`), how a step's
    batch is collected (:meth:`collect`), its token-level advantages (:meth:`token_advantages`), and which veRL
    advantage estimator computes its sequence advantages (:attr:`verl_advantage`).
    """

    name = "base"
    Config: type[PGConfig] = PGConfig

    def __init__(self, cfg: PGConfig | None = None):
        self.cfg = cfg if cfg is not None else self.Config()

    # What the backends must provide.
    @property
    def captured_layers(self) -> tuple[int, ...]:
        """``hidden_states`` indices to capture by hook in the training forward (``PolicyInputs.hidden`` is the
        first, aligned with the response tokens)."""
        return ()

    @property
    def hidden_layer(self) -> int | None:
        """The first captured layer, or None."""
        return self.captured_layers[0] if self.captured_layers else None

    @property
    def prompt_repr(self) -> str | None:
        """The mean last-layer prompt representation the method's modules read: ``"all"`` prompt tokens,
        ``"exclude_last"``, or None (not needed)."""
        return None

    @property
    def needs_reference(self) -> bool:
        return self.cfg.kl_coef != 0.0

    @property
    def needs_critic(self) -> bool:
        """Whether the method's advantages come from a learned value model (PPO's GAE): the veRL backend's critic;
        the local trainer has none and refuses such a method."""
        return False

    @property
    def needs_entropy(self) -> bool:
        """Whether the loss reads the token entropies (``PolicyInputs.entropy``): an entropy bonus, or a method
        that modulates by entropy (EMPG)."""
        return self.cfg.entropy_coef != 0.0

    @property
    def verl_advantage(self) -> str:
        """The advantage kind veRL computes: ``"grpo"`` (group normalised) or ``"w_reinforce"`` (+lambda / -1),
        our registered estimators; ``"gae"``: veRL's own, token-level, from the critic."""
        return "grpo"

    def token_features(self, tokenizer, response_ids: list[list[int]], step: int, width: int) -> dict | None:
        """Per-token inputs the loss reads from the response text (``PolicyInputs.extras``), from the tokenizer,
        each response's token ids, the training step and the batch's response width; None: none needed (ResT reads
        ToolRL's format regions)."""
        return None

    def build_modules(self, hidden_size: int) -> dict[str, torch.nn.Module]:
        """Extra trainable modules (name -> module) the loss uses besides the policy; none by default."""
        return {}

    def module_param_groups(self, modules: dict[str, torch.nn.Module]) -> list[dict]:
        """Optimiser parameter groups of ``modules``: a group without ``lr`` joins the policy's settings."""
        return [{"params": [p for m in modules.values() for p in m.parameters()]}] if modules else []

    def module_inputs(self, modules: dict[str, torch.nn.Module], prompt_repr: torch.Tensor | None) -> dict:
        """``PolicyInputs`` fields computed by the modules from the forward (e.g. FlowRL's ``log_z``)."""
        return {}

    def collect(self, sample_groups, group_scores, num_groups: int) -> tuple[list, dict[str, float]]:
        """One step's groups from ``sample_groups(k)`` (k fresh groups) and ``group_scores(group)``; plain
        sampling by default (DAPO refills with informative groups)."""
        return list(sample_groups(num_groups)), {}

    @property
    def dynamic_sampling(self) -> bool:
        return False

    @property
    def aggregation_mode(self) -> str:
        """How the loss averages over a micro-batch (``core.AGG_MODES``): decides the micro-batch's weight in a
        mini-batch under ``trainer.loss_aggregation=global_token_mean``."""
        return self.cfg.loss_agg_mode

    # Hooks, in the order the trainer calls them.
    def shape_rewards(self, scores: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Rewards [B] from verifier scores [B] and response lengths [B] (identity by default)."""
        return scores.to(torch.float32)

    def sequence_advantages(
        self, rewards: torch.Tensor, is_positive: torch.Tensor, group_ids: torch.Tensor
    ) -> torch.Tensor:
        """Sequence advantages [B] from shaped rewards [B], positivity [B] bool (verifier score > 0, or an
        environment's success flag) and group ids [B] (GRPO group normalisation by default)."""
        return grpo_advantages(rewards, group_ids, self.cfg.norm_std, self.cfg.adv_eps)

    def subgroups(self, group_ids: torch.Tensor, seq_lengths: torch.Tensor) -> torch.Tensor | None:
        """Finer groups [B] for the method's per-group statistics, from the step's group ids [B] and total
        sequence lengths [B] (prompt + response tokens), or None (the prompt groups). Called once per step."""
        return None

    def token_advantages(self, batch: PolicyInputs) -> torch.Tensor:
        """The advantage each response token's policy gradient gets, [B, T] float32 (the sequence advantage
        broadcast by default; ResRL reweights it)."""
        adv = batch.advantages.to(torch.float32)
        return adv[:, None].expand(batch.response_mask.shape) if adv.dim() == 1 else adv

    def loss(self, batch: PolicyInputs) -> tuple[torch.Tensor, dict[str, float]]:
        """Scalar loss and metrics for one micro-batch: the clipped surrogate on :meth:`token_advantages`."""
        from resrl.algorithms.grpo import clipped_policy_loss

        return clipped_policy_loss(
            batch.log_probs,
            batch.old_log_probs,
            self.token_advantages(batch),
            batch.response_mask,
            self.cfg.policy_loss(),
            ref_log_probs=batch.ref_log_probs,
            entropy=batch.entropy,
        )

    def config_dict(self) -> dict:
        return {"name": self.name, **asdict(self.cfg)}


def config_from_mapping(cls: type[PGConfig], values: dict) -> PGConfig:
    """Build a method config from a mapping, rejecting unknown keys with the list of valid ones."""
    valid = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - valid - {"name"})
    if unknown:
        raise ValueError(
            f"unknown method field(s) {unknown} for {cls.__name__}; valid: {', '.join(sorted(valid))}"
        )
    return cls(**{k: v for k, v in values.items() if k != "name"})
