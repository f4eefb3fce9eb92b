"""``resrl.cli_errors``: Hydra's and OmegaConf's mistakes as one line and exit status 2, for any ``@hydra.main`` CLI
(the wrapper ``hydra_cli`` is what ``resrl.train`` can adopt), checked on the trainer's real config in process and
on a small Hydra application as real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from resrl.cli_errors import UsageError, check_overrides, describe_config_error, one_line
from resrl.paths import REPO_ROOT

TRAIN_DIR = REPO_ROOT / "experiments"


def test_trainer_overrides_are_checked_in_one_line():
    try:  # the method configs extend typed schemas that resrl.train registers when imported
        from resrl.methods.schema import register_method_schemas
    except ImportError:
        pass
    else:
        register_method_schemas()
    with pytest.raises(UsageError, match=r"^method='nope' is not one of: .*\bgrpo\b.*\bresrl\b"):
        check_overrides(TRAIN_DIR, "train", ["method=nope"])
    with pytest.raises(
        UsageError,
        match=r"^unknown key 'trainer\.stpes' \(did you mean 'trainer\.steps'\?\); "
        r"valid: .*trainer\.steps",
    ):
        check_overrides(TRAIN_DIR, "train", ["method=resrl", "trainer.stpes=3"])
    with pytest.raises(UsageError, match=r"did you mean 'method\.rank'"):
        check_overrides(
            TRAIN_DIR, "train", ["method=resrl", "method.rnak=8"]
        )  # a key of the chosen method only
    with pytest.raises(UsageError, match=r"^method\.rank=8,16: a sweep needs -m"):
        check_overrides(TRAIN_DIR, "train", ["method=resrl", "method.rank=8,16"])
    ok = ["method=resrl", "method.rank=8,16", "+trainer.extra=1", "hydra.job.chdir=false"]
    assert check_overrides(TRAIN_DIR, "train", ok, multirun=True) == ok  # a sweep under -m; '+' adds a key


def test_omegaconf_type_errors_name_the_field_and_the_type():
    from dataclasses import dataclass

    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    @dataclass
    class C:
        n: int = 1
        t: float = 0.5
        on: bool = False

    for key, value, want in (
        ("n", "abc", "n must be an integer, got 'abc'"),
        ("t", "x", "t must be a number, got 'x'"),
        ("on", "maybe", "on must be true or false, got 'maybe'"),
    ):
        with pytest.raises(OmegaConfBaseException) as err:
            OmegaConf.merge(OmegaConf.structured(C), {key: value})
        assert describe_config_error(err.value) == one_line(err.value) == want


APP = textwrap.dedent("""
    import hydra
    from pathlib import Path
    from resrl.cli_errors import hydra_cli

    CONF = Path(__file__).parent / "conf"

    @hydra_cli(CONF, "config")
    @hydra.main(config_path=str(CONF), config_name="config", version_base=None)
    def main(cfg):
        print("RAN", cfg.n, list(cfg.names), cfg.db.port)

    if __name__ == "__main__":
        main()
""")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("app")
    (root / "conf" / "db").mkdir(parents=True)
    (root / "conf" / "config.yaml").write_text(
        "defaults:\n  - db: a\n  - _self_\nn: 1\nnames: [x]\n"
        "hydra:\n  run:\n    dir: .\n  output_subdir: null\n"
    )
    (root / "conf" / "db" / "a.yaml").write_text("port: 1\n")
    (root / "conf" / "db" / "b.yaml").write_text("port: 2\n")
    (root / "app.py").write_text(APP)
    return root


def _run(app, *args):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, str(app / "app.py"), *args],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args,line",
    [
        (("limt=2",), "error: unknown key 'limt'; valid: db, n, names"),
        (("nmes=[a]",), "error: unknown key 'nmes' (did you mean 'names'?); valid: db, n, names"),
        (("db=c",), "error: db='c' is not one of: a, b"),
        (("db.prot=3",), "error: unknown key 'db.prot' (did you mean 'db.port'?); valid: db.port"),
        (
            ("n=1,2",),
            "error: n=1,2: a sweep needs -m (multirun); for a list write n=[...], for a string with a comma "
            "quote it (n='...')",
        ),
        (("--bogus",), "error: unrecognized arguments: --bogus"),
    ],
)
def test_a_hydra_app_under_the_wrapper_says_one_line(app, args, line):
    proc = _run(app, *args)
    assert proc.returncode == 2 and proc.stderr.strip() == line, (proc.returncode, proc.stderr)
    assert "RAN" not in proc.stdout


def test_the_wrapped_app_still_runs_hydra(app):
    proc = _run(app, "db=b", "names=y", "n=3")  # a bare value for a list field is a one-element list
    assert proc.returncode == 0, proc.stderr
    assert "RAN 3 ['y'] 2" in proc.stdout
    proc = _run(app, "-m", "n=1,2", "hydra.sweep.dir=multirun")
    assert proc.returncode == 0, proc.stderr
    assert "RAN 1 ['x'] 1" in proc.stdout and "RAN 2 ['x'] 1" in proc.stdout
