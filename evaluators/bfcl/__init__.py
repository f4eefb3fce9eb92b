"""BFCL v3 multi-turn evaluation (paper Table 4) through the real ``bfcl-eval`` executable API classes and
checker. ``python -m evaluators.bfcl model=<name> subset=<base|miss_func|miss_param|long_context|all>
limit=<N>``; see ``evaluators/bfcl/README.md``.

Modules: ``data`` (entries, function docs, held-out functions), ``calls`` (function calls in a reply ->
BFCL call strings), ``prompts`` (BFCL's system prompt, tool schemas, the miss_func message), ``backend``
(executable API sessions and the checker, isolated per episode), ``env`` (one entry as a ``ChatEnv``),
``registry`` (``make_envs`` for training), ``metrics`` (accuracy rows), ``config``, ``run`` (pipeline),
``__main__`` (CLI).
"""
