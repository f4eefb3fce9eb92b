"""Records that cannot lie: atomic writes with the user's permissions (``files``), one writer per folder or file
(``lock``), and fingerprints of what produced a result (``fingerprint``)."""

from resrl.records.files import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    default_dir_mode,
    default_file_mode,
    new_temp_dir,
    publish_tree,
)
from resrl.records.fingerprint import config_fingerprint, content_fingerprint, differing_keys
from resrl.records.lock import FolderLocked, exclusive_lock

__all__ = [
    "FolderLocked",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "config_fingerprint",
    "content_fingerprint",
    "default_dir_mode",
    "default_file_mode",
    "differing_keys",
    "exclusive_lock",
    "new_temp_dir",
    "publish_tree",
]
