"""Every public name has a Google-style docstring whose example runs.

The public names are the API reference's (docs/_scripts/api.py: the site is
generated from the same list). Each docstring has a summary; `Args` naming
every parameter (`Attributes` for a dataclass); `Returns` where the function
returns a value; `Raises` where its own body raises; and an `Example` with a
Python block. The examples run in one interpreter, each in a namespace of its
own holding `keras`, `np` and `reczoo`, as the reference says: the docs tier
(`python -m pytest -m "docs and not slow"`); the docstrings' form is checked
in the default tier.
"""

import ast
import importlib.util
import inspect
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import griffe
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("api", ROOT / "docs" / "_scripts" / "api.py")
api = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api)

NAMES = api.public_names()
FENCE = re.compile(r"```python\n(.*?)```", re.S)


def sections(obj):
    """{kind or admonition title: section} of `obj`'s docstring."""
    doc = inspect.getdoc(obj) or ""
    parsed = griffe.Docstring(doc, parser="google", parser_options={"warn_missing_types": False})
    found = {}
    for section in parsed.parse():
        key = section.title if section.kind.value == "admonition" else section.kind.value
        found[key] = section
    return doc, found


def _function_node(obj):
    """The AST of a function, or of a class's own `__init__` (None if it has none)."""
    target = obj.__dict__.get("__init__") if inspect.isclass(obj) else obj
    if target is None or not inspect.isfunction(target):
        return None
    try:
        source = inspect.getsource(target)
    except OSError:  # generated (a dataclass's __init__)
        return None
    return ast.parse(textwrap.dedent(source)).body[0]


def _own_nodes(function):
    """The nodes of `function`'s own body (not of functions nested in it)."""
    stack = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                stack.append(child)


def _parameters(obj):
    """The parameters a caller passes (no self, no Keras' **kwargs, nor the
    `name` every Keras layer and loss takes)."""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    keras_object = inspect.isclass(obj) and "kwargs" in signature.parameters
    names = []
    for p in signature.parameters.values():
        if p.name in ("self", "cls", "kwargs", "args") or (keras_object and p.name == "name"):
            continue
        names.append(
            ("**" if p.kind is p.VAR_KEYWORD else "*" if p.kind is p.VAR_POSITIONAL else "")
            + p.name
        )
    return names


def problems(public):
    """What `public`'s docstring lacks, one phrase each."""
    obj = api.resolve(public)
    doc, found = sections(obj)
    if not doc.strip():
        return ["no docstring"]
    missing = []
    documented = {p.name for kind in ("parameters", "attributes") if kind in found
                  for p in found[kind].value}  # fmt: skip
    documented |= {name.lstrip("*") for name in documented}
    undocumented = [p for p in _parameters(obj) if p.lstrip("*") not in documented]
    if undocumented:
        missing.append(f"Args lacks {', '.join(undocumented)}")
    node = _function_node(obj)
    if node is not None:
        own = list(_own_nodes(node))
        returns = any(isinstance(n, ast.Return) and n.value is not None for n in own)
        if returns and not inspect.isclass(obj) and "returns" not in found:
            missing.append("no Returns")
        if any(isinstance(n, ast.Raise) for n in own) and "raises" not in found:
            missing.append("no Raises")
    example = found.get("Example")
    if example is None or not FENCE.search(example.value.contents):
        missing.append("no Example with a ```python block")
    return missing


@pytest.mark.parametrize("public", NAMES)
def test_public_name_has_a_google_style_docstring(public):
    assert not problems(public), f"{public}: {'; '.join(problems(public))}"


def examples():
    """{public name: the code of its docstring's Example}."""
    found = {}
    for public in NAMES:
        _, parsed = sections(api.resolve(public))
        if "Example" in parsed:
            found[public] = "\n".join(FENCE.findall(parsed["Example"].value.contents))
    return found


RUN_EXAMPLES = textwrap.dedent(
    """
    import json, os, sys, tempfile, traceback
    import keras
    import numpy as np
    import reczoo
    from reczoo import registry

    examples = json.load(open(sys.argv[1]))
    tables = [registry._MODELS, registry._RECIPES, registry._SEARCH_SPACES]
    results = {}
    for name, source in examples.items():
        before = [dict(table) for table in tables]
        os.chdir(tempfile.mkdtemp())
        namespace = {"__name__": "__main__", "keras": keras, "np": np, "reczoo": reczoo}
        try:
            exec(compile(source, name, "exec"), namespace)
            results[name] = None
        except BaseException:
            results[name] = traceback.format_exc()[-3000:]
        for table, kept in zip(tables, before):
            table.clear()
            table.update(kept)
        keras.utils.clear_session(free_memory=False)  # gc.collect() per example: 30 s
    json.dump(results, open(sys.argv[2], "w"))
    """
)


# Examples that train through the run machinery take seconds each: the slow
# tier runs them (the docs' pages and commands train the same way in the docs tier).
TRAINS = ("reczoo.run(", "reczoo.tune(", "reczoo.finetune(", "reczoo.predict(", "reczoo.export(",
          "reczoo.run_suite(")  # fmt: skip


def _trains(public):
    return any(call in EXAMPLES.get(public, "") for call in TRAINS)


def _slow(public):
    """Examples that train through the run machinery, and the backbones'
    examples that fit their model on a few rows: the registry-wide contract
    tests fit every registered model in the default tier (1-4 s each here)."""
    example = EXAMPLES.get(public, "")
    return _trains(public) or (public.startswith("reczoo.models.") and ".fit(" in example)


EXAMPLES = examples()


def _run_examples(root, names):
    (root / "examples.json").write_text(json.dumps({n: EXAMPLES[n] for n in names}))
    done = subprocess.run(
        [sys.executable, "-c", RUN_EXAMPLES, str(root / "examples.json"), str(root / "out.json")],
        capture_output=True, text=True, cwd=root, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((root / "out.json").read_text())


@pytest.fixture(scope="module")
def quick_examples(tmp_path_factory):
    names = [n for n in EXAMPLES if not _slow(n)]
    return _run_examples(tmp_path_factory.mktemp("api-examples"), names)


@pytest.fixture(scope="module")
def training_examples(tmp_path_factory):
    names = [n for n in EXAMPLES if _slow(n)]
    return _run_examples(tmp_path_factory.mktemp("api-training-examples"), names)


@pytest.mark.docs
@pytest.mark.parametrize(
    "public",
    [pytest.param(n, marks=[pytest.mark.slow] if _slow(n) else
                  [pytest.mark.xdist_group("api-examples")]) for n in NAMES],
)  # fmt: skip
def test_docstring_example_runs(public, request):
    if public not in EXAMPLES:
        pytest.fail(f"{public} has no Example")
    results = request.getfixturevalue("training_examples" if _slow(public) else "quick_examples")
    assert results[public] is None, results[public]
