"""Regenerate the paper's tables and figures from ``results/`` only (one module per table or figure)."""
