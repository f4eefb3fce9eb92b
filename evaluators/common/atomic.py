"""Atomic file writers (the library's, ``resrl.records.files``): temp file in the target's folder, fsync,
``os.replace``, with the umask's mode. Kept as the evaluators' import path."""

from resrl.records.files import atomic_write_bytes, atomic_write_json, atomic_write_text

__all__ = ["atomic_write_bytes", "atomic_write_json", "atomic_write_text"]
