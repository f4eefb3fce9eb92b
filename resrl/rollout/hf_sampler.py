"""``HFSampler``: the CPU rollout engine, built on ``transformers`` ``model.generate``.

Log-probabilities come from the scores ``generate`` samples from (not from a second forward pass): our own
logits processor applies temperature and top-p (transformers' warpers are switched off), keeps one ``[B, V]``
log-softmax per step and reads off the probability of the token that was then sampled. They are therefore the log-probs of the
actual sampling distribution: ``log_softmax(logits / temperature)`` renormalised over the top-p set (equal to
plain ``log_softmax(logits / temperature)`` when ``top_p == 1``). With ``temperature == 0`` (greedy) they are
``log_softmax(logits)``. Memory stays ``O(B * V)`` whatever the response length.

Seeding: every ``generate`` call re-seeds torch (inside ``torch.random.fork_rng``, so the caller's global RNG
(and CUDA's) is untouched) with a seed derived from ``(params.seed, batch index)``: the same prompts, params and
``batch_size`` give identical samples.
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import (
    GenerationConfig,
    LogitsProcessor,
    LogitsProcessorList,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    StoppingCriteria,
    StoppingCriteriaList,
)

from resrl.rollout.base import Rollout, SamplingParams
from resrl.rollout.postprocess import truncate_response
from resrl.rollout.prefix_cache import CachedBatch, PrefixCache, layout, store


def top_p_mask(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Nucleus filter: ``logits`` [B, V] with every token outside the smallest set of most likely tokens whose
    probability reaches ``top_p`` set to ``-inf`` (the most likely token is always kept)."""
    if top_p >= 1.0:
        return logits
    sorted_logits, order = logits.sort(dim=-1, descending=True)
    probs = sorted_logits.softmax(dim=-1)
    mass_before = probs.cumsum(dim=-1) - probs
    drop_sorted = mass_before >= top_p
    drop_sorted[..., 0] = False
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


class _SamplingDistribution(LogitsProcessor):
    """Applies temperature and top-p itself (generate's own warpers are switched off) and records
    ``log p(sampled token)`` under the resulting distribution.

    ``generate`` runs user logits processors *before* its temperature/top-p warpers, so recording there would
    see untempered scores; doing the warping here makes the recorded distribution the sampled one. At step
    ``t`` it stores ``log_softmax(scores_t)`` [B, V]; the token sampled from it is the last column of
    ``input_ids`` at step ``t + 1`` (or of the final sequences).
    """

    def __init__(self, temperature: float, top_p: float) -> None:
        self.temperature = temperature
        self.top_p = top_p
        self.steps: list[torch.Tensor] = []  # each [B] float32
        self._pending: torch.Tensor | None = None  # [B, V] float32

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self._pending is not None:
            self._gather(input_ids[:, -1])
        scores = scores.float()
        if self.temperature > 0:
            scores = top_p_mask(scores / self.temperature, self.top_p)
        self._pending = torch.log_softmax(scores, dim=-1)
        return scores

    def _gather(self, tokens: torch.Tensor) -> None:
        assert self._pending is not None
        self.steps.append(self._pending.gather(1, tokens[:, None]).squeeze(1))
        self._pending = None

    def finalize(self, sequences: torch.Tensor, prompt_len: int) -> torch.Tensor:
        """Log-probs ``[B, T]`` (float32) of ``sequences[:, prompt_len:]`` (``sequences``: [B, P + T])."""
        num_new = sequences.shape[1] - prompt_len
        if len(self.steps) < num_new and self._pending is not None:
            self._gather(sequences[:, prompt_len + len(self.steps)])
        if len(self.steps) < num_new:
            raise RuntimeError(f"recorded {len(self.steps)} log-prob steps for {num_new} generated tokens")
        if num_new == 0:
            return torch.zeros(sequences.shape[0], 0)
        return torch.stack(self.steps[:num_new], dim=1)


class _StopOnStrings(StoppingCriteria):
    """Marks a sequence finished once the decoded tail of its response contains one of ``stop``."""

    def __init__(self, stop: tuple[str, ...], tokenizer: PreTrainedTokenizerBase, prompt_len: int) -> None:
        self.stop = stop
        self.tokenizer = tokenizer
        self.prompt_len = prompt_len
        # A stop string of c characters spans at most 4c byte-level tokens; a margin covers empty specials.
        self.window = 4 * max(len(s) for s in stop) + 4

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        start = max(self.prompt_len, input_ids.shape[1] - self.window)
        tails = self.tokenizer.batch_decode(input_ids[:, start:], skip_special_tokens=True)
        done = [any(s in tail for s in self.stop) for tail in tails]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def _batch_seed(seed: int, batch_index: int) -> int:
    return int(np.random.SeedSequence([seed, batch_index]).generate_state(1)[0])


class HFSampler:
    """Batched sampling with ``model.generate``; implements ``resrl.rollout.base.Sampler``.

    ``batch_size`` counts sequences (prompt x sample) per ``generate`` call. Prompts are strings already
    rendered with the chat template (``resrl.models.format_chat``), tokenised without extra special tokens
    unless ``add_special_tokens``; ``generate_from_ids`` takes token-id prompts instead (multi-turn episodes). ``eos_token_ids`` defaults to the model's generation config and the
    tokenizer's eos token.
    """

    supports_prefix_cache = True  # generate_from_ids(..., prefix_cache, keys): multi-turn key/value reuse

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        batch_size: int = 8,
        eos_token_ids: list[int] | None = None,
        add_special_tokens: bool = False,
        show_progress: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"HFSampler.batch_size must be >= 1, got {batch_size}")
        if tokenizer.pad_token_id is None:
            raise ValueError("tokenizer has no pad token; load it with resrl.models.load_policy or set one")
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.add_special_tokens = add_special_tokens
        self.show_progress = show_progress
        self.eos_token_ids = frozenset(eos_token_ids if eos_token_ids is not None else self._default_eos())
        if not self.eos_token_ids:
            raise ValueError(
                "no EOS token id found in the generation config or tokenizer; pass eos_token_ids"
            )

    def _default_eos(self) -> list[int]:
        ids = self.model.generation_config.eos_token_id
        ids = [] if ids is None else [ids] if isinstance(ids, int) else list(ids)
        if self.tokenizer.eos_token_id is not None:
            ids.append(self.tokenizer.eos_token_id)
        return ids

    def _generation_config(self, params: SamplingParams) -> GenerationConfig:
        """Every sampling-relevant field set explicitly to its neutral value, so the model's own defaults
        (Qwen3's top_k=20, transformers' global top_k=50) cannot change the distribution; temperature and
        top-p are applied by ``_SamplingDistribution``."""
        fields = dict(
            do_sample=params.temperature > 0,
            temperature=1.0,
            top_p=1.0,
            top_k=0,
            typical_p=1.0,
            repetition_penalty=1.0,
            no_repeat_ngram_size=0,
            epsilon_cutoff=0.0,
            eta_cutoff=0.0,
            num_beams=1,
            num_return_sequences=1,
            max_new_tokens=params.max_new_tokens,
            eos_token_id=sorted(self.eos_token_ids),
            pad_token_id=self.tokenizer.pad_token_id,
            use_cache=True,
        )
        if self.model.generation_config.min_p is not None:
            fields["min_p"] = 0.0
        return GenerationConfig(**fields)

    def _decode(self, ids) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def _encode_texts(self, prompts: list[str]) -> dict[str, torch.Tensor]:
        return self.tokenizer(
            prompts, padding=True, return_tensors="pt", add_special_tokens=self.add_special_tokens
        )

    def _encode_ids(self, prompts: list[list[int]]) -> dict[str, torch.Tensor]:
        """Left-pad token-id prompts with the pad token: ``input_ids``/``attention_mask`` [B, P] long."""
        width = max(len(p) for p in prompts)
        input_ids = torch.full((len(prompts), width), self.tokenizer.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for i, ids in enumerate(prompts):
            if ids:
                input_ids[i, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
                attention_mask[i, width - len(ids) :] = 1
        return {"input_ids": input_ids, "attention_mask": attention_mask}

    @torch.inference_mode()
    def _generate_batch(
        self,
        enc: dict[str, torch.Tensor],
        params: SamplingParams,
        seed: int,
        cached: CachedBatch | None = None,
    ) -> tuple[list[dict], list | None]:
        """``enc``: left-padded ``input_ids``/``attention_mask`` [B, P] of one batch; or ``cached``: the
        :mod:`resrl.rollout.prefix_cache` layout, its first ``Lc`` columns given as the key/value cache. Returns the
        rows and, with ``cached``, the per-layer (K, V) after generation (to cache for the next turn)."""
        if cached is not None:
            enc = {"input_ids": cached.input_ids, "attention_mask": cached.attention_mask}
        enc = {k: enc[k].to(self.model.device) for k in ("input_ids", "attention_mask")}
        prompt_len = enc["input_ids"].shape[1]
        recorder = _SamplingDistribution(params.temperature, params.top_p)
        criteria = StoppingCriteriaList()
        if params.stop:
            criteria.append(_StopOnStrings(tuple(params.stop), self.tokenizer, prompt_len))
        device = self.model.device
        extra = {}
        if cached is not None:
            extra["return_dict_in_generate"] = True
            if cached.past is not None:
                from transformers import DynamicCache

                extra["past_key_values"] = DynamicCache(ddp_cache_data=cached.past, config=self.model.config)
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            out = self.model.generate(
                input_ids=enc["input_ids"],
                attention_mask=enc["attention_mask"],
                generation_config=self._generation_config(params),
                logits_processor=LogitsProcessorList([recorder]),
                stopping_criteria=criteria,
                **extra,
            )
        sequences = out.sequences if cached is not None else out
        layers = None
        if cached is not None:
            layers = [(layer.keys, layer.values) for layer in out.past_key_values.layers]
        logprobs = recorder.finalize(sequences, prompt_len).cpu()
        sequences = sequences.cpu()
        mask = enc["attention_mask"].cpu().bool()
        rows = []
        for i in range(sequences.shape[0]):
            cut = truncate_response(
                sequences[i, prompt_len:].tolist(),
                logprobs[i].tolist(),
                self.eos_token_ids,
                params.stop,
                self._decode,
            )
            prompt_ids = enc["input_ids"][i].cpu()[mask[i]].tolist()
            rows.append(dict(prompt_ids=prompt_ids, cut=cut))
        return rows, layers

    def generate(self, prompts: list[str], params: SamplingParams) -> list[Rollout]:
        """``len(prompts) * params.n`` rollouts, prompt-major (all samples of prompt 0 first).

        The model is put in eval mode while sampling (and restored after): in train mode with gradient
        checkpointing, transformers would switch the KV cache off and generation would slow down badly.
        """
        return self._in_eval_mode(prompts, params, self._encode_texts)

    def generate_from_ids(
        self,
        prompts: list[list[int]],
        params: SamplingParams,
        prefix_cache: PrefixCache | None = None,
        keys: list | None = None,
    ) -> list[Rollout]:
        """Like ``generate`` for prompts given as token ids, used exactly as given (no text round trip):
        the multi-turn runner conditions the policy on the token sequence it trains on. Same seeding and
        batching as ``generate``: text prompts that tokenise to these ids give identical rollouts.

        ``prefix_cache`` and ``keys`` (one per prompt, ``params.n`` = 1): reuse and keep each key's key/value
        cache (:mod:`resrl.rollout.prefix_cache`), so a multi-turn episode's turn runs the model on its new tokens
        only; same batches and seeds, so the same tokens up to floating-point summation order."""
        if any(not p for p in prompts):
            raise ValueError("generate_from_ids: every prompt needs at least one token")
        if prefix_cache is not None:
            if keys is None or len(keys) != len(prompts) or params.n != 1:
                raise ValueError(
                    "generate_from_ids: a prefix_cache needs one key per prompt and params.n == 1"
                )
        cache = (prefix_cache, keys) if prefix_cache is not None else None
        return self._in_eval_mode(prompts, params, self._encode_ids, cache)

    def _in_eval_mode(self, prompts, params: SamplingParams, encode, cache=None) -> list[Rollout]:
        was_training = self.model.training
        self.model.eval()
        try:
            return self._generate(prompts, params, encode, cache)
        finally:
            self.model.train(was_training)

    def _generate_cached(
        self, prompts, keys, params: SamplingParams, seed: int, cache: PrefixCache
    ) -> list[dict]:
        prefixes = [cache.prefix_for(k, q) for k, q in zip(keys, prompts, strict=True)]
        batch = layout(prompts, prefixes, self.tokenizer.pad_token_id, self.model.device)
        cache.reused_tokens += sum(batch.prefix_lens)
        results, layers = self._generate_batch({}, params, seed, cached=batch)
        store(cache, keys, prompts, [r["cut"].ids for r in results], batch.attention_mask, layers)
        return results

    def _generate(self, prompts, params: SamplingParams, encode, cache=None) -> list[Rollout]:
        jobs = [(p, s) for p in range(len(prompts)) for s in range(params.n)]
        starts = range(0, len(jobs), self.batch_size)
        rollouts: list[Rollout] = []
        for b, start in enumerate(tqdm(starts, desc="sampling", disable=not self.show_progress)):
            chunk = jobs[start : start + self.batch_size]
            chunk_prompts = [prompts[p] for p, _ in chunk]
            seed = _batch_seed(params.seed, b)
            if cache is None:
                results, _ = self._generate_batch(encode(chunk_prompts), params, seed)
            else:
                results = self._generate_cached(
                    chunk_prompts, [cache[1][p] for p, _ in chunk], params, seed, cache[0]
                )
            for (p, s), r in zip(chunk, results, strict=True):
                cut = r["cut"]
                rollouts.append(
                    Rollout(
                        prompt_index=p,
                        sample_index=s,
                        prompt_ids=r["prompt_ids"],
                        response_ids=cut.ids,
                        text=cut.text,
                        logprobs=cut.logprobs,
                        finish_reason=cut.finish_reason,
                    )
                )
        return rollouts
