"""Our losses in veRL's calling conventions.

- :func:`resrl_policy_loss`: veRL's policy-loss signature (registered as ``resrl``) around
  :func:`resrl.algorithms.grpo.clipped_policy_loss`; veRL adds its own KL and entropy terms.
- :func:`global_scale`: veRL 0.9 normalises each micro-batch loss by the *global* mini-batch size
  (tokens or sequences, times the data-parallel size) so that summed micro-batch gradients equal the
  mini-batch mean; our functions return the micro-batch mean, so they are multiplied by this factor.
- :func:`method_actor_loss`: the actor loss function (veRL's ``loss_fn(model_output, data, dp_group)``) of every
  method: the method's own ``loss`` on what it declares (hooked hidden states, the prompt representation, its
  extra modules such as FlowRL's ``log Z`` head).
"""

from __future__ import annotations

import os
from dataclasses import replace
from functools import lru_cache
from typing import Any

import torch

from resrl.algorithms.core import AGG_MODES
from resrl.algorithms.grpo import clipped_policy_loss
from resrl.backends.verl.config import LOSS_AGG_ENV, method_from_env
from resrl.backends.verl.grouping import check_whole_groups
from resrl.methods.base import PolicyInputs
from resrl.trainer.config import LOSS_AGGREGATIONS


@lru_cache(maxsize=1)
def current_method():
    """The method of this run (from ``$RESRL_VERL_METHOD``), built once per process."""
    return method_from_env()


def hidden_key(layer: int) -> str:
    return f"resrl_hidden_{layer}"


def _info(config: Any) -> dict:
    info = getattr(config, "global_batch_info", None) if config is not None else None
    return dict(info or {})


def loss_aggregation() -> str:
    """``trainer.loss_aggregation`` of this run (``$RESRL_VERL_LOSS_AGGREGATION``; veRL's own when unset)."""
    value = os.environ.get(LOSS_AGG_ENV, "global_token_mean")
    if value not in LOSS_AGGREGATIONS:
        raise ValueError(f"${LOSS_AGG_ENV}={value!r}; valid: {', '.join(LOSS_AGGREGATIONS)}")
    return value


def global_scale(
    response_mask: torch.Tensor, loss_agg_mode: str, info: dict, aggregation: str | None = None
) -> float:
    """Factor turning our micro-batch mean into the micro-batch's share of the mini-batch loss.

    veRL 0.9.1 sums the micro-batch gradients of a rank and averages over the ``dp`` ranks.
    ``aggregation="global_token_mean"`` (veRL's own normalisation): token-mean ``local_tokens * dp / global_tokens``;
    seq-mean-* ``local_seqs * dp / global_seqs`` (sequences with at least one token).
    ``aggregation="micro_batch_mean"`` (the release: the mean of the micro-batch means): ``local_rows * dp /
    global_rows``, i.e. ``dp / number of micro-batches`` when every micro-batch holds one group of ``n``.
    1 when veRL gives no global sizes (a single rank).
    """
    if loss_agg_mode not in AGG_MODES:
        raise ValueError(
            f"loss_agg_mode {loss_agg_mode!r} is not supported by the resrl loss; valid: {', '.join(AGG_MODES)}"
        )
    aggregation = aggregation or loss_aggregation()
    dp = int(info.get("dp_size") or 1)
    mask = response_mask.bool()
    if aggregation == "micro_batch_mean":
        total = info.get("global_batch_size")
        if total is None:
            if dp > 1:
                raise ValueError(
                    "veRL gave dp_size > 1 without the global batch size; cannot normalise the loss"
                )
            return 1.0
        return float(mask.shape[0]) * dp / float(total)
    if loss_agg_mode == "token-mean":
        total = info.get("batch_num_tokens")
        local = float(mask.sum().clamp_min(1))
    else:
        total = info.get("global_batch_size")
        local = float((mask.sum(-1) > 0).sum().clamp_min(1))
    if total is None:
        if dp > 1:
            raise ValueError("veRL gave dp_size > 1 without the global batch size; cannot normalise the loss")
        return 1.0
    return local * dp / float(total)


def resrl_policy_loss(
    old_log_prob: torch.Tensor,
    log_prob: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    loss_agg_mode: str = "token-mean",
    config: Any = None,
    rollout_is_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """veRL policy-loss signature. Tensors [B, T]; returns (loss [], metrics).

    Clip settings come from the method config; veRL's ``clip_ratio_low/high`` must agree (the translator
    writes both), so an override on one side only fails loudly instead of being silently ignored.
    """
    if rollout_is_weights is not None:
        raise NotImplementedError(
            "rollout importance-sampling weights are not supported by the resrl loss; "
            "leave algorithm.rollout_correction off"
        )
    cfg = current_method().cfg
    if config is not None:
        theirs = (
            getattr(config, "clip_ratio_low", cfg.clip_low),
            getattr(config, "clip_ratio_high", cfg.clip_high),
        )
        if tuple(float(x) for x in theirs) != (float(cfg.clip_low), float(cfg.clip_high)):
            raise ValueError(
                f"actor.clip_ratio_low/high={theirs} disagree with method.clip_low/clip_high="
                f"{(cfg.clip_low, cfg.clip_high)}; set them through the method config"
            )
    pl = replace(cfg.policy_loss(), kl_coef=0.0, entropy_coef=0.0, loss_agg_mode=loss_agg_mode)
    loss, metrics = clipped_policy_loss(log_prob, old_log_prob, advantages, response_mask.bool(), pl)
    metrics.pop("actor/pg_loss", None)  # veRL logs the returned loss itself
    return loss * global_scale(response_mask, loss_agg_mode, _info(config)), metrics


def _padded(data, *names: str) -> dict[str, torch.Tensor]:
    missing = [n for n in names if n not in data.keys()]
    if missing:
        raise KeyError(f"the actor's micro-batch lacks {missing}; present: {sorted(data.keys())}")
    return dict(data.select(*names).to_padded_tensor().items())


def _rollout_n(config: Any) -> int | None:
    """Responses per prompt, from veRL's actor config (``rollout_n``), None when not given."""
    value = getattr(config, "rollout_n", None) if config is not None else None
    return int(value) if isinstance(value, int) else None


def _group_ids(data, batch_size: int, device: torch.device) -> tuple[torch.Tensor, bool]:
    """Dense group ids [B] on ``device`` from the samples' ``uid`` when veRL passes it, else one group (our
    trainer's order)."""
    if "uid" in data.keys():
        raw = data["uid"]
        uids = [str(u) for u in (raw.tolist() if hasattr(raw, "tolist") else list(raw))]
        index = {u: i for i, u in enumerate(dict.fromkeys(uids))}
        return torch.tensor([index[u] for u in uids], dtype=torch.long, device=device), True
    return torch.zeros(batch_size, dtype=torch.long, device=device), False


def _whole_group_ids(config, data, device: torch.device) -> tuple[torch.Tensor, bool]:
    """The micro-batch's group ids [B] (see :func:`_group_ids`), after checking that it holds whole groups of
    veRL's ``rollout_n`` responses (ValueError otherwise, before any work)."""
    group_ids, have_uid = _group_ids(data, int(data.batch_size[0]), device)
    n = _rollout_n(config)
    if n is not None:
        check_whole_groups(group_ids, n)
    return group_ids, have_uid


def method_actor_loss(config, model_output: dict, data, dp_group=None, *, method=None, modules=None):
    """Every method's loss on veRL (veRL's ``loss_fn(model_output, data, dp_group)``): the micro-batch as
    :class:`~resrl.methods.base.PolicyInputs`, with what the method declares (its captured layers, aligned with the
    response tokens as the log-probs are; the prompt representation; its modules' inputs), then ``method.loss``,
    scaled to the micro-batch's share of the mini-batch loss (:func:`global_scale`)."""
    from verl.workers.utils.padding import no_padding_2_padding

    method = method or current_method()
    log_prob = no_padding_2_padding(model_output["log_probs"], data)  # [B, T]
    group_ids, have_uid = _whole_group_ids(config, data, log_prob.device)
    names = ["response_mask", "old_log_probs", "advantages", "rm_scores"]
    names += ["ref_log_prob"] if "ref_log_prob" in data.keys() else []
    t = _padded(data, *names)
    mask = t["response_mask"].bool()
    scores = (t["rm_scores"] * mask).sum(-1)  # shaped reward; > 0 exactly when the verifier accepted
    if method.verl_advantage == "gae":  # PPO: veRL's token-level GAE advantages, as they are
        seq_adv = t["advantages"] * mask
    else:  # our estimators: one value per response, constant over its tokens
        seq_adv = (t["advantages"] * mask).sum(-1) / mask.sum(-1).clamp_min(1)
    entropy = model_output.get("entropy")
    hidden = None
    if method.hidden_layer is not None:
        key = hidden_key(method.hidden_layer)
        if key not in model_output:
            raise KeyError(
                f"model_output has no {key!r}: the actor engine did not capture layer {method.hidden_layer}"
            )
        hidden = no_padding_2_padding(model_output[key], data)  # [B, T, H]
    prompt_repr = None
    if method.prompt_repr is not None:
        prompt_repr = prompt_representation(
            model_output[hidden_key(-1)], data, exclude_last=method.prompt_repr == "exclude_last"
        )
    inputs = PolicyInputs(
        log_probs=log_prob,
        old_log_probs=t["old_log_probs"],
        response_mask=mask,
        rewards=scores,
        scores=scores,
        group_ids=group_ids,
        advantages=seq_adv,
        ref_log_probs=t.get("ref_log_prob"),
        entropy=no_padding_2_padding(entropy, data) if entropy is not None and method.needs_entropy else None,
        hidden=hidden,
        **method.module_inputs(modules or {}, prompt_repr),
    )
    loss, metrics = method.loss(inputs)
    info = {k: data[k] for k in ("dp_size", "global_batch_size", "batch_num_tokens") if k in data.keys()}
    metrics = {k: float(v) for k, v in metrics.items()}
    metrics["resrl/groups_in_micro_batch"] = float(group_ids.unique().numel())
    metrics["resrl/uid_seen"] = float(have_uid)
    return loss * global_scale(mask, method.aggregation_mode, info), metrics


def prompt_representation(top: torch.Tensor, data, exclude_last: bool = False) -> torch.Tensor:
    """Mean of the hooked final-layer states over each sequence's prompt (without its last token when
    ``exclude_last``, as FlowRL's code). top: [total_nnz, H]; returns [B, H] float32."""
    seq_lens = data["input_ids"].offsets().diff().tolist()
    prompt_lens = data["prompts"].offsets().diff().tolist()
    out, start = [], 0
    for s, p in zip(seq_lens, prompt_lens, strict=True):
        n = max(p - 1, 1) if exclude_last else p
        out.append(top[start : start + n].float().mean(dim=0))
        start += s
    return torch.stack(out, dim=0)
