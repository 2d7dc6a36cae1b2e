"""The documentation site builds strictly, and every link in it lands.

`mkdocs build --strict` fails on any warning: a Markdown link or anchor that
leads nowhere, a page left out of the navigation, a docstring mkdocstrings
cannot read. The built HTML is then walked: every internal link (those the
API reference and the theme write included) must reach a page, and its
anchor an id on that page. The site has an API section for every public name
and a page for every registered model and example.
"""

import importlib.util
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin

import pytest

import reczoo

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("api", ROOT / "docs" / "_scripts" / "api.py")
api = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api)


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true",
           "TF_CPP_MIN_LOG_LEVEL": "3"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    pages = {}
    for html in out.rglob("*.html"):
        parser = _Page()
        parser.feed(html.read_text(errors="replace"))
        pages[html.relative_to(out).as_posix()] = parser
    return out, pages


def _target(page, href):
    """The site file an internal link reaches, and its anchor (None for an external link)."""
    url, anchor = urldefrag(href)
    if url.startswith(("http://", "https://", "mailto:", "//")):
        return None
    resolved = unquote(urljoin("/" + page, url or page.rpartition("/")[2])).lstrip("/")
    if resolved == "" or resolved.endswith("/"):
        resolved += "index.html"
    return resolved, anchor


# The docs tier (python -m pytest -m 'docs and not slow'), one mkdocs build.
pytestmark = [pytest.mark.docs, pytest.mark.xdist_group("site")]


def test_the_site_builds_strictly_and_every_internal_link_lands(site):
    out, pages = site
    broken = []
    for page, parsed in pages.items():
        for href in parsed.links:
            target = _target(page, href)
            if target is None:
                continue
            path, anchor = target
            if path.endswith(".html") and path not in pages:
                broken.append(f"{page}: {href} (no page)")
            elif not path.endswith(".html") and not (out / path).exists():
                broken.append(f"{page}: {href} (no file)")
            elif anchor and path in pages and anchor not in pages[path].ids:
                broken.append(f"{page}: {href} (no anchor)")
    assert not broken, "\n".join(broken[:40])


def test_every_public_name_has_an_api_section(site):
    _, pages = site
    ids = set().union(*(p.ids for name, p in pages.items() if name.startswith("api/")))
    missing = [n for n in api.public_names() if api.defining(n) not in ids]
    assert not missing, missing


def test_every_model_and_example_has_a_page(site):
    _, pages = site
    for model in reczoo.list_models():
        assert f"models/{model}/index.html" in pages, model
    for script in (ROOT / "examples").glob("*.py"):
        if script.stem != "record_outputs":
            assert f"examples/{script.stem}/index.html" in pages, script.stem
    assert "cli/index.html" in pages and "changelog/index.html" in pages
