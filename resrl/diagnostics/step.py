"""Per-step mechanism diagnostics for the trainer: LLD, head-gradient interference, alignment, diversity.

How the trainer calls it (``resrl/trainer/loop.py``, ``Trainer.train_step``)::

    diag = self.diag_cfg                                   # a DiagnosticsConfig
    snap = None
    ...                                                    # collect groups, advantages, build `batches`
    fwd_stats = [self._fill_old_and_ref(b) for b in batches]
    if diag.due(self.step + 1):                            # before self.model.train() and the first optimizer step
        snap = before_update(self.model, batches, [[r.text for r in g.rollouts] for g in groups],
                             cfg.temperature, diag, method=self.method)
    ...                                                    # PPO epochs / optimizer steps
    self.model.eval()
    if snap is not None:
        record.update(after_update(self.model, snap))      # adds diag/lld/* to the pre-update diag/* metrics

``batches[i]`` is the trainer's per-group dict: ``input_ids``, ``attention_mask`` [B, P+T], ``prompt_len`` (int),
``response_mask`` [B, T], ``advantages`` ([B] sequence advantages from ``method.sequence_advantages``, or
[B, T]), ``scores`` [B] (positive = score > 0; or an explicit ``is_positive`` [B] bool).

Cost: one extra no-grad forward per group before the update (log-probs, the final-norm states feeding the
head, the ResRL layer's states), one after it (LLD), plus the closed-form head Gram matrices on at most
``max_tokens_per_side`` positive and negative tokens per group (``O(N^2 V + N V H)`` with ``N = 2 *
max_tokens_per_side``, chunked over the vocabulary). No backward pass.

What is measured (keys, all floats, averaged over the groups where they are defined):

- ``diag/head/*`` (groups with both positive and negative responses), at the pre-update policy, on the head
  input ``h`` (final-norm states) and ``u = (softmax(z/T) - onehot(y)) / T`` per token:
  ``cos``: cosine between the head gradient of ``-sum log pi`` over positive tokens and the head gradient of
  the negative part of the method's loss ``-sum_j a_j log pi(y_j)`` (``a_j``: the method's negative token
  advantages: GRPO/DAPO/NSR sequence advantages, ResRL's ``A * w``); negative = the update on negatives lowers
  the positive likelihood to first order; ``cross_per_pair``: the same inner product / (n_pos n_neg);
  ``cos_unweighted``: the same with every ``a_j = -1`` (model geometry only, comparable across methods);
  ``logit_ip_mean``/``logit_cos_mean``: mean ``u_i . u_j`` / its cosine over positive x negative pairs (logit term);
  ``rep_ip_mean``/``rep_cos_mean``: mean ``h_i . h_j`` / cosine (representation term);
  ``logprob_check``: max |log-prob from ``W h`` - log-prob of the model|, a check that the head is ``z = W h``.
  Methods whose loss is not ``-A log pi`` (FlowRL) get their batch advantages used as if it were.
- ``diag/align/*`` (groups with >= 4 positive tokens and a negative one), on ResRL's layer (the method's
  ``layer`` for ResRL, else ResRL's default -2) and ResRL's subspace (the method's rank etc. for ResRL, else
  the ResRL defaults): ``cos``, ``in_subspace``, ``nn_cos``, ``energy``, ``weight``, ``spearman_cos_weight``,
  ``pearson_cos_weight`` (see :mod:`resrl.diagnostics.alignment`) and, with the head terms,
  ``spearman_cos_overlap``: Spearman correlation over the sampled negative tokens between ``cos`` and the
  token's head-gradient overlap with the positive part, ``sum_i (u_i . u_j)(h_i . h_j)`` (the proxy's claim:
  positive).
- ``diag/subspace/*`` (the same groups): the conditioning of the positive subspace at ResRL's rank,
  ``energy_at_k``, ``effective_rank``, ``gap_at_k`` (:func:`resrl.diagnostics.alignment.subspace_conditioning`),
  each the mean over groups, and ``energy_at_k_min`` / ``gap_at_k_min``, the worst group of the step.
- ``diag/div/*``: :func:`resrl.diagnostics.diversity.diversity_metrics` of the step's groups (``distinct_1..4``,
  ``unique_answers``, ``answer_entropy``, ``no_answer_frac``, ``edit_sim``), and ``diag/pass@k``, ``diag/pass_growth``.
- ``diag/lld/*`` (after the update; groups with positives): ``delta_pos``, ``delta_neg``, ``frac_groups``
  (the LLD fraction), ``frac_responses``, ``groups`` (:mod:`resrl.diagnostics.displacement`).
- ``diag/time_s``: seconds spent in the diagnostics of the step.

A value that is undefined at a step (e.g. no group had both positive and negative responses) is left out of
the returned dict rather than logged as NaN; the ``*/groups`` counts say how many groups each average covers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import torch
from torch import nn

from resrl.algorithms.hidden import capture_hidden
from resrl.diagnostics.alignment import group_alignment, spearman
from resrl.diagnostics.displacement import likelihood_displacement, mean_token_loglik, response_loglik
from resrl.diagnostics.diversity import diversity_metrics
from resrl.diagnostics.head_gradient import DEFAULT_VOCAB_CHUNK, interference_from_grams, logit_gram_from_head
from resrl.methods.base import PolicyInputs
from resrl.methods.resrl import ResRLConfig
from resrl.trainer.policy_forward import policy_forward

UNITS = ("words", "tokens")


@dataclass
class DiagnosticsConfig:
    """Mechanism diagnostics (off by default; they cost about two extra forwards per group when due)."""

    enabled: bool = False
    every: int = 10  # measure at step 1 and every `every` steps (step numbers as logged, 1-based)
    head_gradient: bool = True  # diag/head/*
    alignment: bool = True  # diag/align/*
    diversity: bool = True  # diag/div/*, diag/pass@k
    lld: bool = True  # diag/lld/* (one forward per group after the update)
    max_tokens_per_side: int = 256  # positive / negative tokens per group in the head Gram (evenly spaced)
    vocab_chunk: int = DEFAULT_VOCAB_CHUNK  # vocabulary columns per chunk of the head Gram
    max_n: int = 4  # distinct-1..max_n
    edit_max_units: int = 256  # responses cut to this many units for the edit similarity
    units: str = "words"  # distinct-n / edit similarity on whitespace "words" or model "tokens"

    def __post_init__(self) -> None:
        for name in ("every", "max_tokens_per_side", "vocab_chunk", "max_n", "edit_max_units"):
            if getattr(self, name) < 1:
                raise ValueError(f"diagnostics.{name} must be >= 1, got {getattr(self, name)}")
        if self.units not in UNITS:
            raise ValueError(f"diagnostics.units={self.units!r}; valid: {', '.join(UNITS)}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> DiagnosticsConfig:
        """Build from a mapping (e.g. a Hydra ``diagnostics`` node), rejecting unknown keys with the valid ones."""
        values = dict(values or {})
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - valid)
        if unknown:
            raise ValueError(f"unknown diagnostics field(s) {unknown}; valid: {', '.join(sorted(valid))}")
        return cls(**values)

    def due(self, step: int) -> bool:
        """Whether step ``step`` (1-based: the number the step will be logged with) is measured."""
        return self.enabled and (step == 1 or step % self.every == 0)


@dataclass
class DiagnosticsSnapshot:
    """What :func:`before_update` keeps for :func:`after_update`."""

    metrics: dict[str, float]
    batches: list[Mapping[str, Any]]
    before: list[torch.Tensor]  # per group: [B] mean token log-likelihood before the update
    temperature: float
    cfg: DiagnosticsConfig
    seconds: float = 0.0
    is_positive: list[torch.Tensor] = field(default_factory=list)


def _host(value: Any) -> torch.Tensor:
    """A tensor (on any device) or a list as a CPU tensor; never copied through the default device."""
    return value.detach().cpu() if isinstance(value, torch.Tensor) else torch.as_tensor(value, device="cpu")


def _is_positive(batch: Mapping[str, Any]) -> torch.Tensor:
    if "is_positive" in batch:
        return _host(batch["is_positive"]).bool()
    if "scores" not in batch:
        raise KeyError("a diagnostics batch needs 'scores' [B] or 'is_positive' [B]")
    return _host(batch["scores"]) > 0


def _even(n: int, m: int) -> torch.Tensor:
    """``min(n, m)`` evenly spaced indices of ``range(n)`` (CPU: the diagnostics compute on the host)."""
    if n <= m:
        return torch.arange(n, device="cpu")
    return torch.linspace(0, n - 1, steps=m, device="cpu").round().long()


def _subspace_cfg(method: Any) -> ResRLConfig:
    """The subspace settings the alignment diagnostic measures with: the method's own where its config has the
    fields (ResRL), ResRL's defaults for the rest of them (any other method)."""
    own = (
        {f.name: getattr(method.cfg, f.name) for f in fields(ResRLConfig) if hasattr(method.cfg, f.name)}
        if method is not None
        else {}
    )
    return ResRLConfig(**own)


def _token_advantages(
    method: Any,
    batch: Mapping[str, Any],
    hidden: torch.Tensor | None,
    mask: torch.Tensor,
    pos: torch.Tensor,
    entropy: torch.Tensor | None = None,
) -> torch.Tensor:
    """The advantages the method's policy-gradient loss applies per token (``method.token_advantages`` on the
    host; its random draws from a fixed seed, so diagnostics never touch training's RNG). [B, T] float32."""
    adv = _host(batch["advantages"]).to(torch.float32)
    if method is None:
        return adv[:, None].expand(mask.shape) if adv.dim() == 1 else adv
    scores = _host(batch["scores"]).to(torch.float32) if "scores" in batch else pos.float()
    zeros = torch.zeros(mask.shape, dtype=torch.float32, device="cpu")
    inputs = PolicyInputs(
        log_probs=zeros,
        old_log_probs=zeros,
        response_mask=mask,
        rewards=scores,
        scores=scores,
        group_ids=torch.zeros(len(pos), dtype=torch.long, device="cpu"),
        advantages=adv,
        hidden=hidden,
        positive=pos,
        sample_seed=0,
        entropy=entropy,
        extras={k: _host(v) for k, v in (batch.get("extras") or {}).items()},
    )
    return method.token_advantages(inputs).detach().cpu().to(torch.float32)


def _head_metrics(
    model: nn.Module,
    h_final: torch.Tensor,
    targets: torch.Tensor,
    log_probs: torch.Tensor,
    mask: torch.Tensor,
    pos: torch.Tensor,
    token_adv: torch.Tensor,
    temperature: float,
    cfg: DiagnosticsConfig,
) -> tuple[dict[str, float], torch.Tensor, torch.Tensor]:
    """Head-gradient terms of one group; also returns the sampled negative-token indices and their overlap."""
    head = model.get_output_embeddings()
    weight, bias = head.weight.detach().float(), getattr(head, "bias", None)
    bias = bias.detach().float() if bias is not None else None
    parts = []
    for rows in (pos, ~pos):
        sel = _even(int(mask[rows].sum()), cfg.max_tokens_per_side)
        parts.append(
            (
                sel,
                h_final[rows][mask[rows]][sel].float(),
                targets[rows][mask[rows]][sel],
                log_probs[rows][mask[rows]][sel],
                token_adv[rows][mask[rows]][sel],
            )
        )
    (_, hp, yp, lpp, _), (sel_n, hn, yn, lpn, an) = parts
    n_pos = hp.shape[0]
    h = torch.cat([hp, hn])
    y = torch.cat([yp, yn]).to(h.device)
    ku, lse = logit_gram_from_head(weight.to(h.device), h, y, temperature, bias, cfg.vocab_chunk)
    kh = h @ h.T
    z_y = (h * weight[y]).sum(-1) + (bias[y] if bias is not None else 0.0)
    check = (z_y / temperature - lse - torch.cat([lpp, lpn]).to(h.device).float()).abs().max()
    unsigned = interference_from_grams(ku, kh, n_pos)
    unit_coef = torch.cat([torch.ones(n_pos, device=h.device), -torch.ones(hn.shape[0], device=h.device)]).to(
        h
    )
    unweighted = interference_from_grams(ku * unit_coef[:, None] * unit_coef[None, :], kh, n_pos)
    coef = torch.cat([torch.ones(n_pos, device=h.device), an.float().to(h.device)]).to(h)
    weighted = interference_from_grams(ku * coef[:, None] * coef[None, :], kh, n_pos)
    overlap = (ku[:n_pos, n_pos:] * kh[:n_pos, n_pos:]).sum(0).cpu()  # [Nn]: <G_P, unit head grad of token j>
    out = {
        "cos": weighted.cosine,
        "cross_per_pair": weighted.cross_per_pair,
        "cos_unweighted": unweighted.cosine,
        "logit_ip_mean": unsigned.logit_ip_mean,
        "logit_cos_mean": unsigned.logit_cos_mean,
        "rep_ip_mean": unsigned.rep_ip_mean,
        "rep_cos_mean": unsigned.rep_cos_mean,
        "logprob_check": float(check),
        "tokens": float(h.shape[0]),
    }
    return out, sel_n, overlap


def _nanmean_dicts(rows: list[dict[str, float]], prefix: str) -> dict[str, float]:
    keys = sorted({k for r in rows for k in r})
    out = {}
    for k in keys:
        vals = [r[k] for r in rows if k in r and not math.isnan(r[k])]
        out[prefix + k] = float(np.mean(vals)) if vals else math.nan
    return out


def _set_eval(model: nn.Module) -> bool:
    was_training = model.training
    model.eval()
    return was_training


def before_update(
    model: nn.Module,
    batches: Sequence[Mapping[str, Any]],
    texts: Sequence[Sequence[str]] | None,
    temperature: float,
    cfg: DiagnosticsConfig,
    method: Any = None,
    answer_extractor: Callable[[str], str | None] | None = None,
) -> DiagnosticsSnapshot:
    """Pre-update diagnostics (head, alignment, diversity) and the positive log-likelihoods for LLD.

        batches: one collated dict per prompt group (see the module docstring); texts[g]: the group's response texts
        (None: skip the answer-based diversity terms). Runs one no-grad forward per group in eval mode (restoring the
        model's mode). ``method``: the trainer's method object (its token advantages and, where its config has them, its
    subspace settings are used).
    """
    t0 = time.perf_counter()
    if texts is not None and len(texts) != len(batches):
        raise ValueError(f"texts has {len(texts)} groups but batches has {len(batches)}")
    rcfg = _subspace_cfg(method)
    layer = method.hidden_layer if method is not None and method.hidden_layer is not None else rcfg.layer
    need_hidden = cfg.alignment or (method is not None and method.hidden_layer is not None)
    head_rows, align_rows, before, positives = [], [], [], []
    cond_rows: list[dict[str, float]] = []
    was_training = _set_eval(model)
    try:
        for batch in batches:
            mask = batch["response_mask"].bool().cpu()
            pos = _is_positive(batch)
            p_len = int(batch["prompt_len"])
            t = mask.shape[1]
            with torch.no_grad(), capture_hidden(model, -1) as top:
                out = policy_forward(
                    model,
                    batch["input_ids"],
                    batch["attention_mask"],
                    p_len,
                    temperature,
                    hidden_layer=layer if need_hidden else None,
                    with_entropy=method is not None and method.needs_entropy,
                )
            log_probs = out.log_probs.cpu()
            before.append(mean_token_loglik(log_probs, mask))
            positives.append(pos)
            if not (pos.any() and (~pos).any()):
                continue
            hidden = out.hidden.detach().cpu() if out.hidden is not None else None
            sel_n = overlap = None
            if cfg.head_gradient:
                h_final = top["hidden"][:, p_len - 1 : p_len - 1 + t].detach().cpu()
                targets = batch["input_ids"][:, p_len:].cpu()
                entropy = out.entropy.detach().cpu() if out.entropy is not None else None
                token_adv = _token_advantages(method, batch, hidden, mask, pos, entropy)
                row, sel_n, overlap = _head_metrics(
                    model, h_final, targets, log_probs, mask, pos, token_adv, temperature, cfg
                )
                head_rows.append(row)
            if cfg.alignment and hidden is not None:
                ga = group_alignment(
                    hidden[pos][mask[pos]],
                    hidden[~pos][mask[~pos]],
                    rank=rcfg.rank,
                    max_pos_tokens=rcfg.max_pos_tokens,
                    q_low=rcfg.q_low,
                    q_high=rcfg.q_high,
                    min_weight=rcfg.min_weight,
                    svd=rcfg.svd,
                )
                if ga is not None:
                    cond_rows.append(ga.conditioning)
                    row = ga.summary()
                    if sel_n is not None:
                        row["spearman_cos_overlap"] = spearman(ga.tokens.cos[sel_n], overlap)
                    align_rows.append(row)
    finally:
        model.train(was_training)
    metrics: dict[str, float] = {}
    if cfg.head_gradient:
        metrics.update(_nanmean_dicts(head_rows, "diag/head/"))
        metrics["diag/head/groups"] = float(len(head_rows))
    if cfg.alignment:
        metrics.update(_nanmean_dicts(align_rows, "diag/align/"))
        metrics["diag/align/groups"] = float(len(align_rows))
        metrics.update(_nanmean_dicts(cond_rows, "diag/subspace/"))
        for key in ("energy_at_k", "gap_at_k"):  # the worst-conditioned group of the step
            vals = [r[key] for r in cond_rows if not math.isnan(r[key])]
            if vals:
                metrics[f"diag/subspace/{key}_min"] = float(min(vals))
    if cfg.diversity:
        metrics.update(_diversity(batches, texts, positives, cfg, answer_extractor))
    return DiagnosticsSnapshot(
        _defined(metrics), list(batches), before, temperature, cfg, time.perf_counter() - t0, positives
    )


def _defined(metrics: dict[str, float]) -> dict[str, float]:
    """Drop undefined (NaN) values: JSON has no NaN, and a missing key is a gap in the plotted curve."""
    return {k: v for k, v in metrics.items() if not math.isnan(v)}


def _diversity(
    batches: Sequence[Mapping[str, Any]],
    texts: Sequence[Sequence[str]] | None,
    positives: list[torch.Tensor],
    cfg: DiagnosticsConfig,
    extractor: Callable[[str], str | None] | None,
) -> dict[str, float]:
    tokens = None
    if cfg.units == "tokens" or texts is None:
        tokens = []
        for b in batches:
            ids, m = b["input_ids"][:, int(b["prompt_len"]) :].cpu(), b["response_mask"].bool().cpu()
            tokens.append([ids[i][m[i]].tolist() for i in range(len(ids))])
    group_texts = texts if texts is not None else [[""] * len(t) for t in tokens]
    d = diversity_metrics(
        group_texts, [p.tolist() for p in positives], extractor, cfg.max_n, cfg.edit_max_units, tokens=tokens
    )
    out = {}
    for k, v in d.items():
        if texts is None and k in ("unique_answers", "answer_entropy", "no_answer_frac"):
            continue
        out[k if k.startswith("pass") else f"div/{k}"] = v
    return {f"diag/{k}": v for k, v in out.items()}


def after_update(model: nn.Module, snap: DiagnosticsSnapshot) -> dict[str, float]:
    """The snapshot's metrics plus ``diag/lld/*`` (one no-grad forward per group) and ``diag/time_s``."""
    t0 = time.perf_counter()
    metrics = dict(snap.metrics)
    if snap.cfg.lld and snap.batches:
        was_training = _set_eval(model)
        try:
            after = [response_loglik(model, b, snap.temperature).cpu() for b in snap.batches]
        finally:
            model.train(was_training)
        gids = torch.cat(
            [torch.full((len(b),), g, dtype=torch.long, device="cpu") for g, b in enumerate(snap.before)]
        )
        disp = likelihood_displacement(
            torch.cat(snap.before), torch.cat(after), torch.cat(snap.is_positive), gids
        )
        metrics.update(_defined(disp.metrics("diag/lld/")))
    metrics["diag/time_s"] = snap.seconds + time.perf_counter() - t0
    return metrics


def step_diagnostics(
    model: nn.Module,
    batches: Sequence[Mapping[str, Any]],
    texts: Sequence[Sequence[str]] | None,
    temperature: float,
    cfg: DiagnosticsConfig,
    method: Any = None,
    answer_extractor: Callable[[str], str | None] | None = None,
) -> dict[str, float]:
    """The pre-update diagnostics only (no LLD): ``before_update(...).metrics``."""
    return before_update(model, batches, texts, temperature, cfg, method, answer_extractor).metrics
