"""Where the agent environments' data lives, and which games a split holds.

ALFWorld (``env=alfworld``): ``ALFWORLD_DATA`` as ``alfworld-download`` lays it out,
``<data_dir>/json_2.1.1/<split>/<task_type>-<obj>-<mrecep>-<recep>-<scene>/<trial>/game.tw-pddl`` (with
``traj_data.json`` beside it). The data folder is, in order: ``data_dir=``, the ``ALFWORLD_DATA`` environment
variable, or the project's small generated set ``data/agents/alfworld`` (same layout; built by
``python -m evaluators.agents.make_games``; *not* the ALFWorld benchmark, see ``data/agents/SOURCES.md``).
Like ALFWorld's own loader, games under ``movable``/``Sliced`` folders and games whose file says
``"solvable": false`` are skipped.

Plain TextWorld (``env=textworld``): ``<data_dir>/*.z8`` / ``*.ulx`` games made by ``tw-make`` (each with its
``.json`` beside it); default ``data/agents/textworld``.

WebShop (``env=webshop``): a checkout of the WebShop code with its product data and search index (see
:func:`check_webshop_dir`).

A missing or empty folder raises ``FileNotFoundError`` naming the folder and the command that fills it.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

from evaluators.agents.tasks import TASK_TYPES, task_type_from_folder
from resrl.paths import data_dir as project_data_dir

#: ALFWorld's splits, and the names accepted for them.
ALFWORLD_SPLITS = ("train", "valid_seen", "valid_unseen")
SPLIT_ALIASES = {
    "train": "train",
    "valid_seen": "valid_seen",
    "seen": "valid_seen",
    "eval_in_distribution": "valid_seen",
    "valid_unseen": "valid_unseen",
    "unseen": "valid_unseen",
    "eval_out_of_distribution": "valid_unseen",
    "test": "valid_unseen",  # the paper's evaluation split (unseen scenes)
}
ALFWORLD_GAME_FILE = "game.tw-pddl"
ALFWORLD_DOWNLOAD_HELP = (
    "With internet access, download ALFWorld's games once (about 2 GB unpacked):\n"
    "  pip install alfworld==0.4.2\n"
    "  ALFWORLD_DATA={path} alfworld-download\n"
    "then pass data_dir={path} (or set ALFWORLD_DATA={path}). The project's small generated set is "
    "data/agents/alfworld (rebuild it with: python -m evaluators.agents.make_games)."
)
TEXTWORLD_HELP = (
    "Make TextWorld games with tw-make (pip install textworld==1.7.0), e.g.\n"
    "  tw-make custom --world-size 2 --nb-objects 3 --quest-length 2 --seed 1 --output {path}/g1.z8\n"
    "or rebuild the project's set: python -m evaluators.agents.make_games"
)
WEBSHOP_SETUP_HELP = (
    "WebShop needs its code, product data and search index (not on PyPI; the 'webshop' package there is "
    "empty). With internet access:\n"
    "  git clone https://github.com/princeton-nlp/WebShop {path}\n"
    "  cd {path} && ./setup.sh -d small   # pip requirements, faiss, Java for pyserini (current pyserini needs\n"
    "                                     # JDK 21), product files from Google Drive (gdown), spaCy, Lucene index\n"
    "  python -m spacy download en_core_web_sm\n"
    "then pass data_dir={path} (the checkout's root, holding web_agent_site/, data/ and search_engine/)."
)


@dataclass(frozen=True)
class GameSpec:
    """One game file to play.

    ``game_id``: stable id, the path relative to the data folder's split folder (e.g.
    ``pick_and_place_simple-Mug-None-Desk-308/trial_T2019...``); ``kind``: ``"alfworld"`` or ``"textworld"``;
    ``task_type``: ALFWorld's long task type (None for plain TextWorld games).
    """

    path: Path
    game_id: str
    kind: str
    split: str
    task_type: str | None = None


def canonical_split(split: str) -> str:
    """``"unseen"``/``"test"`` -> ``"valid_unseen"`` etc.; raises naming the accepted names."""
    try:
        return SPLIT_ALIASES[split]
    except KeyError:
        raise ValueError(f"unknown ALFWorld split {split!r}; use one of {sorted(SPLIT_ALIASES)}") from None


def shipped_alfworld_dir() -> Path:
    """The project's generated ALFWorld-format games (``data/agents/alfworld``)."""
    return project_data_dir() / "agents" / "alfworld"


def shipped_textworld_dir() -> Path:
    """The project's tw-make games (``data/agents/textworld``)."""
    return project_data_dir() / "agents" / "textworld"


def resolve_alfworld_dir(data_dir: str | os.PathLike | None) -> tuple[Path, str]:
    """The ALFWorld data folder and where it came from (``"data_dir"``, ``"ALFWORLD_DATA"`` or ``"shipped"``).

    Call this before importing ``alfworld``: importing it sets ``ALFWORLD_DATA`` (to ``~/.cache/alfworld``,
    creating that folder) when the variable is unset.
    """
    if data_dir not in (None, ""):
        return Path(str(data_dir)).expanduser(), "data_dir"
    env = os.environ.get("ALFWORLD_DATA")
    if env:
        return Path(env).expanduser(), "ALFWORLD_DATA"
    return shipped_alfworld_dir(), "shipped"


def _read_task_type(game_dir: Path) -> str | None:
    traj = game_dir / "traj_data.json"
    if traj.is_file():
        try:
            task_type = json.loads(traj.read_text(encoding="utf-8")).get("task_type")
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"{traj}: not valid JSON ({err})") from None
        if task_type in TASK_TYPES:
            return task_type
    return task_type_from_folder(game_dir.parent.name)


def _is_solvable(game_file: Path) -> bool:
    """False only when the game file says ``"solvable": false`` (ALFWorld marks games its expert failed on)."""
    try:
        data = json.loads(game_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{game_file}: not a valid .tw-pddl (JSON) game file ({err})") from None
    if not isinstance(data, dict) or "pddl_problem" not in data:
        raise ValueError(f"{game_file}: not a .tw-pddl game (no 'pddl_problem' field)")
    return data.get("solvable", True) is not False


def find_alfworld_games(
    data_dir: str | os.PathLike | None, split: str, task_types: list[str] | None = None
) -> list[GameSpec]:
    """Every playable ALFWorld game of ``split`` (sorted by ``game_id``), optionally only some task types.

    Raises ``FileNotFoundError`` (folder missing or without games, with the download command) or
    ``ValueError`` (bad split, bad task type, unreadable game file). A folder's scan is cached for the process
    (ALFWorld's train split has 3,553 game files; training builds environments many times); ``clear_game_cache()``
    forgets it.
    """
    split = canonical_split(split)
    root, source = resolve_alfworld_dir(data_dir)
    if task_types is not None:
        bad = [t for t in task_types if t not in TASK_TYPES]
        if bad:
            raise ValueError(f"unknown task type(s) {bad}; known: {list(TASK_TYPES)}")
    types = None if task_types is None else tuple(task_types)
    return list(_scan_alfworld(root.resolve() if root.is_dir() else root, source, split, types))


def clear_game_cache() -> None:
    """Forget the cached scans of ALFWorld folders (after games were added, removed or edited)."""
    _scan_alfworld.cache_clear()


@functools.lru_cache(maxsize=32)
def _scan_alfworld(
    root: Path, source: str, split: str, task_types: tuple[str, ...] | None
) -> tuple[GameSpec, ...]:
    where = f"{root} (from {source})"
    if not root.is_dir():
        raise FileNotFoundError(
            f"ALFWorld data folder not found: {where}.\n" + ALFWORLD_DOWNLOAD_HELP.format(path=root)
        )
    split_dir = root / "json_2.1.1" / split
    files = sorted(split_dir.rglob(ALFWORLD_GAME_FILE)) if split_dir.is_dir() else []
    if not files:
        raise FileNotFoundError(
            f"no ALFWorld games ({ALFWORLD_GAME_FILE}) under {split_dir} (data folder {where}).\n"
            + ALFWORLD_DOWNLOAD_HELP.format(path=root)
        )
    games = []
    for f in files:
        rel = f.parent.relative_to(split_dir)
        if "movable" in str(rel) or "Sliced" in str(rel):  # ALFWorld's loader skips these too
            continue
        task_type = _read_task_type(f.parent)
        if task_type is None or (task_types is not None and task_type not in task_types):
            continue
        if not _is_solvable(f):
            continue
        games.append(GameSpec(path=f, game_id=str(rel), kind="alfworld", split=split, task_type=task_type))
    if not games:
        raise FileNotFoundError(
            f"no playable ALFWorld games of task types {list(task_types or TASK_TYPES)} under "
            f"{split_dir}.\n" + ALFWORLD_DOWNLOAD_HELP.format(path=root)
        )
    return tuple(games)


def find_textworld_games(data_dir: str | os.PathLike | None, split: str = "test") -> list[GameSpec]:
    """The tw-make games (``*.z8``, ``*.ulx`` with their ``.json``) in ``data_dir`` (default: the shipped set),
    sorted by name. ``split`` is only recorded (a folder of TextWorld games has no splits)."""
    root = Path(str(data_dir)).expanduser() if data_dir not in (None, "") else shipped_textworld_dir()
    if not root.is_dir():
        raise FileNotFoundError(
            f"TextWorld games folder not found: {root}.\n" + TEXTWORLD_HELP.format(path=root)
        )
    files = sorted(
        p for p in root.iterdir() if p.suffix in (".z8", ".ulx") and p.with_suffix(".json").is_file()
    )
    if not files:
        raise FileNotFoundError(
            f"no TextWorld games (*.z8 or *.ulx with a .json beside) in {root}.\n"
            + TEXTWORLD_HELP.format(path=root)
        )
    return [GameSpec(path=p, game_id=p.stem, kind="textworld", split=split) for p in files]


#: Files (relative to the WebShop checkout) the text environment reads at start-up; alternatives per entry.
WEBSHOP_REQUIRED = (
    ("web_agent_site/envs/web_agent_text_env.py",),
    ("data/items_shuffle_1000.json", "data/items_shuffle.json"),
    ("data/items_ins_v2_1000.json", "data/items_ins_v2.json"),
    ("data/items_human_ins.json",),
    (
        "search_engine/indexes",
        "search_engine/indexes_1k",
        "search_engine/indexes_100",
        "search_engine/indexes_100k",
    ),
)


def check_webshop_dir(webshop_dir: str | os.PathLike | None) -> Path:
    """The WebShop checkout folder, after checking that the files the text environment loads are there."""
    if webshop_dir in (None, ""):
        raise FileNotFoundError(
            "WebShop needs data_dir=<WebShop checkout> (none given).\n"
            + WEBSHOP_SETUP_HELP.format(path="WebShop")
        )
    root = Path(str(webshop_dir)).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"WebShop folder not found: {root}.\n" + WEBSHOP_SETUP_HELP.format(path=root))
    missing = [" or ".join(alts) for alts in WEBSHOP_REQUIRED if not any((root / a).exists() for a in alts)]
    if missing:
        raise FileNotFoundError(
            f"WebShop folder {root} lacks {missing}.\n" + WEBSHOP_SETUP_HELP.format(path=root)
        )
    return root
