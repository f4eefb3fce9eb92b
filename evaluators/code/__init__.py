"""Code evaluation: a hardened sandbox for model-written programs, HumanEval+, LiveCodeBench and Codeforces
(Elo with percentile). ``python -m evaluators.code benchmark=<humaneval_plus|livecodebench|codeforces>
model=<name> limit=<N>``; see ``evaluators/code/README.md``.

Modules: ``sandbox`` (run_tests / run_stdio / run_calls / run_many; isolation modes), ``sandbox.child`` (the
supervisor and harness that run inside the sandbox; value codec), ``compare`` (tolerant stdout comparison),
``sanitize`` (code extraction), ``humaneval``, ``livecodebench``, ``codeforces`` (data + grading), ``elo``
(rating, CI, percentile), ``prompting``, ``config``, ``run`` (pipeline), ``__main__`` (CLI).
"""
