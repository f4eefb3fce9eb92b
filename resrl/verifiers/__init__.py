"""Answer verifiers: pure, standard-library functions ``(response, ground_truth) -> bool``.

- :mod:`resrl.verifiers.dapo`: the DAPO-Math scorer the ResRL release trains with (an ``Answer:`` line,
  Minerva-style normalisation, exact match).
"""
