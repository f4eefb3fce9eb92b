"""Math evaluation: the six paper benchmarks offline, an exact grader, Avg@k and unbiased Pass@k.

- ``evaluators.math.grader``: ``extract_answer(response)``, ``is_correct(response, answer)``, ``reward``
  (the training reward is the same grader).
- ``evaluators.math.benchmarks``: ``load_benchmark(name, limit=None)`` over ``data/math/<name>.jsonl``.
- ``evaluators.math.run`` / ``python -m evaluators.math``: sampling, resumable sample store, metrics.
- ``evaluators.math.lm_eval_tasks/``: the same six tasks for ``lm_eval --include_path``.

Submodules are imported on demand: ``import evaluators.math`` stays cheap.
"""
