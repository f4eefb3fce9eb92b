"""A single training job (``make demo``): train ResRL on the synthetic arithmetic task with SmolLM2-135M on
CPU, offline, and report held-out accuracy before and after. Equivalent to
``python -m resrl.train method=resrl model=smollm2-135m task=arith trainer=cpu``.

The README's main command, ``make run``, runs the whole DAG instead; extra Hydra
overrides are passed through, e.g. ``python -m resrl.demo trainer.steps=4``.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    from resrl import train

    overrides = list(sys.argv[1:] if argv is None else argv)
    defaults = ["method=resrl", "model=smollm2-135m", "task=arith", "trainer=cpu"]
    keys = {o.split("=", 1)[0] for o in overrides}
    sys.argv = [sys.argv[0], *[d for d in defaults if d.split("=", 1)[0] not in keys], *overrides]
    train.main()


if __name__ == "__main__":
    main()
