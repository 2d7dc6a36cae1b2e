"""The examples gallery: each script of examples/ as a page of the site.

A script's module docstring is its prose (first line the title), the rest its
code; its output is the one recorded in `examples/outputs/<name>.txt` by
`python examples/record_outputs.py`, which runs every script from the
repository root and writes what it printed.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def scripts():
    return sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith(("_", "record")))


def parts(script):
    """(title, prose, code) of one script."""
    source = script.read_text()
    tree = ast.parse(source)
    doc = ast.get_docstring(tree)
    title, _, prose = doc.partition("\n")
    lines = source.splitlines()
    code = "\n".join(lines[tree.body[0].end_lineno :]).strip("\n")
    return title.strip().rstrip("."), prose.strip(), code


def page(script):
    title, prose, code = parts(script)
    out = EXAMPLES / "outputs" / f"{script.stem}.txt"
    recorded = out.read_text().rstrip() if out.exists() else "(not recorded yet)"
    return (
        f"# {title}\n\n{prose}\n\n"
        f"## The script\n\n`python examples/{script.name}` runs it (it writes its files in "
        f"the current folder).\n\n```python\n{code}\n```\n\n"
        f"## Output\n\nRecorded by `python examples/record_outputs.py` on a 2-core CPU "
        f"(numbers vary with the machine and the seed of the run):\n\n```text\n{recorded}\n```\n"
    )


def index():
    rows = ["# Examples\n", "Short, complete scripts, each run by the test suite.\n",
            "| example | what it shows |", "| --- | --- |"]  # fmt: skip
    for script in scripts():
        title, prose, _ = parts(script)
        first = prose.split("\n\n")[0].replace("\n", " ").split(". ")[0].rstrip(".") + "."
        rows.append(f"| [{title}]({script.stem}.md) | {first} |")
    return "\n".join(rows) + "\n"
