"""Every code block in README.md and docs/ runs as written.

They are the docs tier (`python -m pytest -m "docs and not slow"`, which
`.ci/run` runs after the default tier). Python blocks of one page run in
order, in a fresh interpreter (a page's example registration must not leak
into this test session): every page in one interpreter, each in a namespace
and a folder of its own. Shell blocks run their `reczoo` commands; `pip
install`, `ruff` and `pytest` lines are what `.ci/run` itself runs (the last
test here holds them equal). Trainings on Amazon Games take most of an hour,
and benchmark suites minutes at least: they run in the slow tier.
"""

import dataclasses
import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from reczoo import datasets
from reczoo.datasets.synthetic import EXAMPLE_FILES

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
SLOW_DATASETS = ("amazon-games", "frappe", "criteo")
BARS_X1 = ("criteo-x1", "avazu-x1")
NEEDS_DATA = ("datasets.load(", "reczoo.run(", "--dataset=", "reczoo benchmark --",
              "$RECZOO_DATA_DIR")  # fmt: skip


def blocks(page, language):
    return [body for lang, body in FENCE.findall(page.read_text()) if lang == language]


def shell_commands(page):
    """The `reczoo` commands of a page's shell blocks; commands joined by `&&`
    on one line stay one string, run in order in one folder."""
    for body in blocks(page, "bash"):
        text = body.replace("\\\n", " ")
        for line in text.splitlines():
            parts = [part.split("#")[0].strip() for part in line.split("&&")]
            parts = [part for part in parts if part.startswith("reczoo ")]
            if parts:
                yield " && ".join(parts)


def _needs_data(text):
    return any(marker in text for marker in NEEDS_DATA) and "dummy_inputs" not in text


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    # KERAS_HOME stays the test session's own (conftest.py): the pages share
    # its cached splits and dataset statistics, never the user's.
    monkeypatch.chdir(tmp_path)
    _clicks(tmp_path / "clicks.csv")
    return tmp_path


def _clicks(path, users=40, items=120):
    """The file the README's `--data_file=clicks.csv` example reads."""
    rng = np.random.default_rng(0)
    lines = ["uid,sku,ts"]
    for u in range(users):
        for t, i in enumerate(rng.choice(items, size=8, replace=False)):
            lines.append(f"u{u},i{(i + u) % items},{1000 + t}")
    path.write_text("\n".join(lines) + "\n")


CARDS = ROOT / "docs" / "models"
FEATURE_TYPES = ("Categorical", "Numerical", "MultiHot", "Sequence")
PYTHON_PAGES = [p for p in PAGES if blocks(p, "python") and p.parent != CARDS]


def _page_source(page):
    return "\n\n".join(blocks(page, "python"))


def _cards_source(cards):
    # The cards' blocks in one interpreter (one TensorFlow start-up), each
    # card in a function of its own so that no name leaks between them.
    parts = []
    for k, card in enumerate(cards):
        body = _page_source(card)
        if body:
            indented = "\n".join("    " + line for line in body.splitlines())
            parts.append(f"def card_{k}():  # {card.name}\n{indented}\n\n\ncard_{k}()\n")
    return "\n".join(parts)


def _card_forms():
    """The model cards split in two: one card of each form their blocks take
    (the calls they make, in order: the same calls on another model or
    another feature spec are the same form), and the rest."""
    first, rest, seen = [], [], set()
    for card in sorted(CARDS.glob("*.md")):
        calls = re.findall(r"\.(\w+)\(", _page_source(card))
        form = tuple(c for c in calls if c not in FEATURE_TYPES)
        (rest if form in seen else first).append(card)
        seen.add(form)
    return first, rest


CARD_FORMS, OTHER_CARDS = _card_forms()


def _jax_tier():
    return [
        pytest.mark.jax,
        pytest.mark.skipif(os.environ.get("KERAS_BACKEND") != "jax", reason="runs in the JAX tier"),
    ]


def _python_marks(page):
    # A page whose example trains under JAX (it sets KERAS_BACKEND itself)
    # belongs to the JAX tier, as the docs' --backend=jax command does.
    if 'os.environ["KERAS_BACKEND"] = "jax"' in _page_source(page):
        return _jax_tier()
    return []


PYTHON_SOURCES = [
    *[
        pytest.param(p, id=p.relative_to(ROOT).as_posix(), marks=_python_marks(p))
        for p in PYTHON_PAGES
    ],
    # Every form of card block runs in the docs tier; the same blocks with
    # other models' names in the slow one (the registry-wide tests build, fit
    # and reload every model in the default tier).
    pytest.param(CARD_FORMS, id="docs/models-one-card-per-form"),
    pytest.param(OTHER_CARDS, id="docs/models-other-cards", marks=pytest.mark.slow),
]


def _source(page):
    return _cards_source(page) if isinstance(page, list) else _page_source(page)


def _shared(page):
    """Whether a page's blocks run in the docs tier's one interpreter."""
    if isinstance(page, list):
        return page is not OTHER_CARDS  # the other cards: the slow tier
    return not _python_marks(page)  # a page that trains under JAX: the JAX tier


# The docs tier's pages in one fresh interpreter, one after another: each
# page in a namespace of its own (no name leaks between them), in a folder of
# its own, Keras' global state reset after it. A TensorFlow start-up per page
# cost the docs tier about a minute.
RUN_PAGES = textwrap.dedent(
    """
    import json, os, sys, traceback
    import keras
    from reczoo import registry

    pages = json.load(open(sys.argv[1]))
    tables = [registry._MODELS, registry._RECIPES, registry._SEARCH_SPACES]
    results = {}
    for name, (folder, source) in pages.items():
        os.chdir(folder)
        before, environment = [dict(table) for table in tables], dict(os.environ)
        try:
            exec(compile(source, name, "exec"), {"__name__": "__main__"})
            results[name] = None
        except BaseException:
            results[name] = traceback.format_exc()[-3000:]
        # What a page registered (docs/adding_a_model.md's model) or set in
        # the environment (docs/adding_a_dataset.md's data folder) goes with it.
        for table, kept in [*zip(tables, before), (os.environ, environment)]:
            table.clear()
            table.update(kept)
        keras.config.set_dtype_policy("float32")
        keras.utils.clear_session()
    json.dump(results, open(sys.argv[2], "w"))
    """
)


@pytest.fixture(scope="module")
def shared_pages(tmp_path_factory):
    """`{page id: None or the traceback}` of every shared page."""
    root = tmp_path_factory.mktemp("pages")
    pages = {}
    for param in PYTHON_SOURCES:
        page = param.values[0]
        source = _source(page)
        if not _shared(page) or (_needs_data(source) and not os.environ.get("RECZOO_DATA_DIR")):
            continue
        folder = root / param.id.replace("/", "_")
        folder.mkdir()
        _clicks(folder / "clicks.csv")
        pages[param.id] = (str(folder), source)
    (root / "pages.json").write_text(json.dumps(pages))
    done = subprocess.run(
        [sys.executable, "-c", RUN_PAGES, str(root / "pages.json"), str(root / "results.json")],
        capture_output=True, text=True, cwd=root, timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((root / "results.json").read_text())


@pytest.mark.docs
@pytest.mark.parametrize(
    "page",
    [
        # The shared pages on one pytest-xdist worker: their interpreter runs once.
        pytest.param(*p.values, id=p.id, marks=[*p.marks, pytest.mark.xdist_group("docs-python")]
                     if _shared(p.values[0]) else p.marks)
        for p in PYTHON_SOURCES
    ],
)  # fmt: skip
def test_python_blocks_run(page, workdir, request):
    source = _source(page)
    if _needs_data(source) and not os.environ.get("RECZOO_DATA_DIR"):
        pytest.skip("the page's examples read public data: set RECZOO_DATA_DIR")
    if _shared(page):
        error = request.getfixturevalue("shared_pages")[request.node.callspec.id]
        assert error is None, error
        return
    done = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, cwd=workdir, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]


def _distinct_commands():
    """`(page, command)` of every page's commands, a command written on two
    pages (the README and a guide) run once, under the first page."""
    found = {}
    for page in PAGES:
        for command in shell_commands(page):
            found.setdefault(" ".join(command.split()), page.relative_to(ROOT).as_posix())
    return sorted((page, command) for command, page in found.items())


COMMANDS = _distinct_commands()


def _is_slow(command):
    # Any part of a `&&` chain that runs a suite.
    suite = any(
        part.startswith("reczoo benchmark") and " report " not in f"{part} "
        for part in command.split(" && ")
    )
    # A strategy runs in a process of its own (it must start before TensorFlow).
    return (
        suite
        or "--strategy=" in command
        # criteo-x1 matches too (its full recipe on stand-ins takes 15 s);
        # avazu-x1's command stays in the docs tier, and
        # tests/datasets/test_bars_x1.py trains the other two pairs.
        or any(f"--dataset={d}" in command for d in SLOW_DATASETS)
        # A full public dataset read as your own files.
        or "$RECZOO_DATA_DIR" in command
        # A DeepFM on the 39 columns of the synthetic Criteo log (about 15 s
        # each): the default tier trains click logs (tests/datasets/
        # test_click_logs.py) and shards (test_shards.py) on narrower files.
        or ("click_log.txt" in command and "reczoo train" in command)
    )


def _marks(command):
    if _is_slow(command):
        return [pytest.mark.slow]
    if "--backend=jax" in command:
        # A JAX training run (about two minutes here) belongs to the JAX tier.
        return _jax_tier()
    if command.startswith("reczoo datasets"):
        # Beside test_runner's listing: the second reads the cached statistics.
        return [pytest.mark.xdist_group("dataset-statistics")]
    return []


@pytest.mark.docs
@pytest.mark.parametrize(
    "page,command", [pytest.param(*pc, marks=_marks(pc[1])) for pc in COMMANDS]
)
def test_shell_commands_run(page, command, workdir, monkeypatch):
    from reczoo import cli

    if _needs_data(command) and not os.environ.get("RECZOO_DATA_DIR"):
        pytest.skip("the command reads public data: set RECZOO_DATA_DIR")
    if "click_log.txt" in command:
        # The page's Python block writes it; each command runs in a new folder.
        datasets.synthetic_criteo(workdir / "click_log.txt", rows=4_000)
    if any(name in command for name in EXAMPLE_FILES):
        datasets.write_examples(workdir)  # as docs/your_data.md's first block does
    for name in BARS_X1:
        if f"--dataset={name}" in command:
            # Files not on this machine (45.8M and 40.4M rows): stand-ins of
            # their layout, their counts accepted (tests/datasets/test_bars_x1.py).
            datasets.synthetic_bars_x1(workdir / "x1", name, rows=(600, 200, 200))
            info = dataclasses.replace(datasets.DATASETS[name], published={})
            monkeypatch.setitem(datasets.DATASETS, name, info)
            monkeypatch.setenv("RECZOO_DATA_DIR", str(workdir / "x1"))
    # As a shell would: $RECZOO_DATA_DIR is the shared data's folder.
    command = os.path.expandvars(command)
    for part in command.split(" && "):
        # A strategy or a backend takes a process of its own (before TensorFlow or Keras start).
        if "--strategy=" in part or "--backend=" in part:
            args = [sys.executable, "-m", "reczoo.cli", *shlex.split(part)[1:]]
            done = subprocess.run(args, capture_output=True, text=True, cwd=workdir, timeout=900)
            assert done.returncode == 0, (page, part, done.stderr[-3000:])
            continue
        assert cli.main(shlex.split(part)) == 0, (page, part)


def test_the_pages_state_the_defaults_without_a_recipe_as_the_code_has_them():
    from reczoo.training import settings

    # The README and the guide each say it in their own words.
    expected = {
        "README.md": [
            f"after {settings.DEFAULT_PATIENCE} evaluations without a gain",
            f"time budget of {settings.DEFAULT_MAX_MINUTES:g} minutes or a minute per "
            f"{settings.DEFAULT_ROWS_PER_MINUTE:,} rows",
        ],
        "docs/guide.md": [
            f"stopping after {settings.DEFAULT_PATIENCE} evaluations without a gain",
            f"training stops after {settings.DEFAULT_MAX_MINUTES:g} minutes, or a minute per "
            f"{settings.DEFAULT_ROWS_PER_MINUTE:,} rows",
            f"or {settings.BY_EXAMPLES['ranking']['max_evaluations']} periods in all",
            f"fewer than {settings.SPARSE_PER_ITEM} each on average",
            f"an L2 penalty of {settings.SPARSE_L2:.0e} on its embeddings".replace("e-0", "e-"),
        ],
    }
    for page, phrases in expected.items():
        text = " ".join((ROOT / page).read_text().split())
        for phrase in phrases:
            assert phrase in text, (page, phrase)


def test_the_readme_test_command_is_what_ci_runs():
    # `.ci/run` runs the README's test command as written: the default tier,
    # then the docs tier (this module's examples), then the JAX tier.
    readme = [b.strip() for b in blocks(ROOT / "README.md", "bash") if "pytest" in b]
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if "pytest" in line]
    assert readme == ci, (readme, ci)
    tiers = [part.strip() for part in ci[0].split("&&") if "pytest" in part]
    assert tiers == ["python -m pytest", 'python -m pytest -m "docs and not slow"',
                     "KERAS_BACKEND=jax python -m pytest -m jax"]  # fmt: skip
