"""Writes the site's generated pages (run by mkdocs-gen-files at build time).

- `api/`: the API reference, one page per part of the public API
  (`api.py`), each name rendered by mkdocstrings from its docstring;
- `benchmarks/`: the committed benchmark reports, tuning records and their
  plots, at their repository paths;
- `examples/`: each script of `examples/` with its docstring as prose, its code
  and its recorded output.
"""

import sys
from pathlib import Path

import mkdocs_gen_files

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import api  # noqa: E402
import gallery  # noqa: E402

CONVENTION = (
    "Every example on these pages runs as written after `import keras`, "
    "`import numpy as np` and `import reczoo` (`tests/test_api_docs.py` runs them)."
)


def write(path, text):
    with mkdocs_gen_files.open(path, "w") as f:
        f.write(text)


def section(public, path, heading=None):
    return (
        f"::: {path}\n"
        "    options:\n"
        f'      heading: "{heading or public}"\n'
        f'      toc_label: "{(heading or public).rpartition(".")[2]}"\n\n'
    )


def api_pages():
    index = ["# API reference\n", CONVENTION + "\n", "| page | what it holds |", "| --- | --- |"]
    for page, (title, intro, _) in api.PAGES.items():
        body = [f"# {title}\n", intro + "\n"]
        body += [section(name, api.defining(name)) for name in api.entries(page)]
        write(f"api/{page}.md", "\n".join(body))
        index.append(f"| [{title}]({page}.md) | {intro} |")
    body = [
        "# Backbones\n",
        "The backbone of every registered model, built by `reczoo.get_model(name, "
        "feature_spec=...)`; the model cards hold each one's results.\n",
    ]
    for path, models in api.backbones().items():
        names = ", ".join(f"`{m}`" for m in models)
        body.append(section(path, path, heading=f"{path.rpartition('.')[2]} ({names})"))
    write("api/backbones.md", "\n".join(body))
    index.append("| [Backbones](backbones.md) | The backbone of every registered model. |")
    write("api/index.md", "\n".join(index) + "\n")


def benchmark_pages():
    """The benchmark folder's reports and plots, at their repository paths, so
    their links between each other hold on the site as in the repository."""
    for source in sorted((ROOT / "benchmarks").rglob("*")):
        if source.suffix not in (".md", ".png") or source.parts[len(ROOT.parts) + 1] == "peers":
            continue
        target = source.relative_to(ROOT).as_posix()
        with mkdocs_gen_files.open(target, "wb") as f:
            f.write(source.read_bytes())
        if source.suffix == ".md":
            mkdocs_gen_files.set_edit_path(target, f"../{target}")


def example_pages():
    for script in gallery.scripts():
        write(f"examples/{script.stem}.md", gallery.page(script))
    write("examples/index.md", gallery.index())


api_pages()
benchmark_pages()
example_pages()
