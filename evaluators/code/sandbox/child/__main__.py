"""Entry point of the sandbox's supervisor: ``python -P -s -S -B <this file>`` (the parent's launch), ``python -I
<this file>``, or ``python -m child`` with the package's folder on ``sys.path``.

Run by path, the package's folder is not on ``sys.path`` (``-P``/``-I``): it is appended (so a standard-library module
always wins a name clash) just long enough to import the supervisor, and with it every module of the package, then
removed again with the import finders cached for it, so that the program cannot import anything from it. Standard
library only.
"""

import os
import sys

if __package__:  # python -m child
    from . import supervisor
else:  # python <path>/child/__main__.py
    _home = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.append(_home)
    try:
        from child import supervisor
    finally:  # forget the folder, and the finders cached for it, for the package and for this file
        sys.path.remove(_home)
        for _key in [k for k in sys.path_importer_cache if k == _home or str(k).startswith(_home + os.sep)]:
            del sys.path_importer_cache[_key]

if __name__ == "__main__":
    supervisor.main()
