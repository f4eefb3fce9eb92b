"""resrl.algorithms.balancing.balanced_partitions == veRL's get_seqlen_balanced_partitions, exactly.

Reference choice. The authors' release is a veRL 0.5 fork; this venv has veRL 0.9.1. Comparing the two
``verl/utils/seqlen_balancing.py`` files, ``karmarkar_karp``, ``greedy_partition`` and
``get_seqlen_balanced_partitions`` are the SAME algorithm: their ASTs are identical once docstrings and type
annotations are dropped (0.9.1 only added docs/annotations; same item sort, same bin and state ordering, same
merge, same sorted-index output). So veRL 0.9.1's function is a valid reference for the release's
partitioning; ``test_release_and_installed_partitioners_are_identical`` re-checks this against the release
mirror when it is present.

What did change between 0.5 and 0.9.1 is the trainer's ``_balance_batch`` (not tested here): 0.9.1 balances
``calculate_workload(L) = 24576 * L + L**2`` instead of ``L`` and zigzag-reorders indices inside each
partition. ``resrl.algorithms.balancing.release_micro_batch_ids`` follows the release (raw ``L``, sorted
indices).

Skipped where verl is not importable (the main venv); `make test-verl` runs it in .venv-verl.
"""

import ast
import random
import subprocess
from pathlib import Path

import pytest

from resrl.algorithms.balancing import balanced_partitions

try:
    import verl  # noqa: F401
    from verl.utils import seqlen_balancing as verl_balancing

    VERL_ERROR = None
except Exception as err:  # ImportError, or a broken install
    verl_balancing = None
    VERL_ERROR = (
        f"verl is not importable in this interpreter ({type(err).__name__}: {err}); run `make test-verl`"
    )

pytestmark = pytest.mark.skipif(VERL_ERROR is not None, reason=VERL_ERROR or "")

RELEASE_MIRROR = Path("/work/.mirror/1229095296+ResRL/repo")
PARTITION_FUNCTIONS = ("karmarkar_karp", "greedy_partition", "get_seqlen_balanced_partitions")


def _random_case(rng: random.Random) -> tuple[list[int], int, bool]:
    k = rng.choice([1, 2, 3, 4, 8, 16])
    equal_size = rng.random() < 0.7
    n = k * rng.randint(1, 16) if equal_size else rng.randint(k, 80)
    style = rng.randrange(4)
    if style == 0:  # few distinct values: many ties in sums and in bin comparisons
        values = [rng.randint(1, 4) * 100 for _ in range(3)]
        lengths = [rng.choice(values) for _ in range(n)]
    elif style == 1:  # all equal
        lengths = [rng.randint(1, 9)] * n
    elif style == 2:  # small range
        lengths = [rng.randint(1, 6) for _ in range(n)]
    else:  # realistic prompt + response token counts
        lengths = [rng.randint(64, 4096) for _ in range(n)]
    return lengths, k, equal_size


def test_matches_verl_on_random_inputs():
    rng = random.Random(20240531)
    for case in range(200):
        lengths, k, equal_size = _random_case(rng)
        ours = balanced_partitions(lengths, k, equal_size=equal_size)
        theirs = verl_balancing.get_seqlen_balanced_partitions(lengths, k_partitions=k, equal_size=equal_size)
        assert ours == theirs, f"case {case}: lengths={lengths} k={k} equal_size={equal_size}"


@pytest.mark.parametrize(
    ("lengths", "k", "equal_size"),
    [
        ([1, 2, 3, 4], 2, True),
        ([5] * 6, 3, True),
        ([1] * 5, 2, False),
        ([10, 20, 30, 40, 15, 25, 35, 45], 2, True),
    ],
)
def test_matches_verl_on_hand_cases(lengths, k, equal_size):
    assert balanced_partitions(lengths, k, equal_size) == verl_balancing.get_seqlen_balanced_partitions(
        lengths, k_partitions=k, equal_size=equal_size
    )


def _partition_asts(source: str) -> dict[str, str]:
    """Dump of each partitioning function with its docstring and annotations removed."""
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name in PARTITION_FUNCTIONS:
            node.returns = None
            for arg in node.args.args:
                arg.annotation = None
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                node.body = body[1:]
            out[node.name] = ast.dump(node)
    return out


def test_release_and_installed_partitioners_are_identical():
    if not RELEASE_MIRROR.exists():
        pytest.skip(f"release mirror not present at {RELEASE_MIRROR}")
    release_src = subprocess.run(
        ["git", f"--git-dir={RELEASE_MIRROR}", "show", "HEAD:verl/utils/seqlen_balancing.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    installed_src = Path(verl_balancing.__file__).read_text()
    release, installed = _partition_asts(release_src), _partition_asts(installed_src)
    assert set(release) == set(PARTITION_FUNCTIONS) == set(installed)
    for name in PARTITION_FUNCTIONS:
        assert release[name] == installed[name], (
            f"{name} differs between the release (veRL 0.5) and {verl.__version__}"
        )
