"""One clear line instead of a traceback when a command-line run is given a bad config or input file.

Every CLI of the project (``resrl.train``, ``evaluators.math``, ``evaluators.code``) wraps its validation and its
run in :func:`exit_on_user_error`: a user error (a bad value, an unknown name, a missing or malformed file) is
printed as ``error: <message>`` on stderr and the process exits with status 2. The messages name the field or
file and the allowed values (the validators write them that way). Other exceptions are bugs and keep their
traceback. ``RESRL_TRACEBACK=1`` re-raises user errors too, for debugging.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

#: Exit status of a run stopped by a user error (argparse's convention for usage errors).
USER_ERROR_STATUS = 2
#: Exceptions that mean "bad input", not "bug": bad values and names, missing or malformed files, missing packages.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, FileNotFoundError, NotADirectoryError, ImportError)


def one_line(err: BaseException) -> str:
    """The message of ``err`` on one line (KeyError without its repr quotes; multi-line messages joined by '; '),
    followed by its cause's when that adds something (Hydra wraps the OmegaConf error that names the field)."""
    msg = err.args[0] if isinstance(err, KeyError) and len(err.args) == 1 and isinstance(err.args[0], str) else str(err)
    text = "; ".join(p.strip() for p in str(msg).splitlines() if p.strip()) or type(err).__name__
    cause = err.__cause__
    if cause is not None and str(cause).strip() and str(cause).strip() not in str(msg):
        text += f": {one_line(cause)}"
    return text


@contextmanager
def exit_on_user_error(extra: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Turn :data:`USER_ERRORS` (and ``extra``) raised inside the block into ``error: ...`` and exit status 2."""
    try:
        yield
    except (*USER_ERRORS, *extra) as err:
        if os.environ.get("RESRL_TRACEBACK"):
            raise
        print(f"error: {one_line(err)}", file=sys.stderr)
        sys.exit(USER_ERROR_STATUS)
