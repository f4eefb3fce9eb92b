"""Moved to :mod:`resrl.verifiers.math_grading_worker` (the library owns the verifiers its rewards use); kept as an alias."""

from resrl.verifiers.math_grading_worker import main

if __name__ == "__main__":
    main()
