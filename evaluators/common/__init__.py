"""Helpers shared by every evaluator family (math, code, ...).

- :mod:`evaluators.common.sample_store`: resumable JSON-lines store of samples, keyed by
  ``(problem_id, sample_index)``; a rerun skips what is stored and never writes a duplicate.
- :mod:`evaluators.common.atomic`: atomic writers (temp file + ``os.replace``) for results files.
- :mod:`evaluators.common.schema`: the tidy metrics row (:class:`MetricRow`) and its CSV/Parquet writer.
- :mod:`evaluators.common.provenance`: resolved config, git commit, package versions and seed of a run.
- :mod:`evaluators.common.sample_guard`: stored samples are reused only when the same model (content fingerprint)
  drew them under the same settings.
- :mod:`evaluators.common.config`: :class:`EvalConfig`, the fields every evaluator's config shares.
- :mod:`evaluators.common.policy`: which model (``model_spec``, ``model_label``) and one loader (``load_sampler``,
  ``LazyPolicy`` for single-turn families, ``EpisodePolicy`` for multi-turn ones).
- :mod:`evaluators.common.run`: a run's name, folders, lock, settings guard, metrics and run info, terminal table.
- :mod:`evaluators.common.cli`: :class:`EvaluatorCLI`, one declared command line per family (argument names,
  one-line errors, ``--help``, ``--cfg``, presets).
"""

from evaluators.common.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text
from evaluators.common.provenance import run_provenance, write_provenance
from evaluators.common.sample_store import SampleStore, read_jsonl
from evaluators.common.schema import METRIC_COLUMNS, MetricRow, read_metrics, write_metrics

__all__ = [
    "METRIC_COLUMNS",
    "MetricRow",
    "SampleStore",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "read_jsonl",
    "read_metrics",
    "run_provenance",
    "write_metrics",
    "write_provenance",
]
