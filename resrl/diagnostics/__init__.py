"""Mechanism diagnostics (Sec. 3.1): likelihood displacement (LLD), output-head gradient interference split into
logit and representation terms, negative-token alignment with the positive subspace, and sample diversity.

- :mod:`.head_gradient`: closed-form head-gradient inner products (no backward pass);
- :mod:`.displacement`: positive log-likelihood change across an update and the LLD fraction;
- :mod:`.alignment`: ResRL-subspace alignment of negative tokens and its correlation with ResRL's weights;
- :mod:`.diversity`: distinct-n, final answers, answer entropy, edit similarity, Pass@k growth;
- :mod:`.step`: ``DiagnosticsConfig``, ``before_update`` / ``after_update`` / ``step_diagnostics`` for the trainer;
- :mod:`.plot`: ``plot_diagnostics`` (one curve per method for every ``diag/*`` key).

Submodules are imported on use (``from resrl.diagnostics.step import ...``) so importing the package is cheap.
"""
