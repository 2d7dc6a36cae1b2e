"""MkDocs hooks: repository links on the site.

The pages under docs/ link to the benchmark reports as the repository holds
them (`../benchmarks/results/quick/report.md`), so the links work on the
repository page; the site publishes those reports at `benchmarks/...`
(gen_pages.py). This rewrites each link that leaves docs/ for a published
file into the site's relative link, and leaves every other link to MkDocs'
own validation (a broken one fails `mkdocs build --strict`).
"""

import posixpath
import re

LINK = re.compile(r"(\]\()([^)\s#]+)(#[^)\s]*)?(\))")
PUBLISHED = ("benchmarks/", "examples/")


def _site_link(match, page_dir):
    target = match.group(2)
    if "://" in target or target.startswith(("/", "mailto:")):
        return match.group(0)
    in_repository = posixpath.normpath(posixpath.join("docs", page_dir, target))
    if not in_repository.startswith(PUBLISHED):
        return match.group(0)
    relative = posixpath.relpath(in_repository, page_dir or ".")
    return f"{match.group(1)}{relative}{match.group(3) or ''}{match.group(4)}"


def on_page_markdown(markdown, page, config, files):
    if getattr(page.file, "generated_by", None):  # generated pages already link within the site
        return markdown
    page_dir = posixpath.dirname(page.file.src_uri)
    return LINK.sub(lambda m: _site_link(m, page_dir), markdown)
