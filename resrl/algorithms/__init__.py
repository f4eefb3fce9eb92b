"""RLVR algorithms as pure tensor functions (no models, no I/O)."""
