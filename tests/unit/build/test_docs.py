"""The newcomer's docs: a short README, the docs/ pages it lists, links and images that resolve."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PAGES = ["index", "jobs", "codecs", "metrics", "studies", "analysis", "api", "operations", "development"]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in path.read_text().splitlines() if line.startswith("#")}


def documents() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CHANGELOG.md"] + sorted((ROOT / "docs").glob("*.md"))


def test_readme_is_short_and_lists_every_docs_page() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    for page in PAGES[1:]:
        assert (ROOT / "docs" / f"{page}.md").is_file(), page
        assert f"(docs/{page}.md)" in readme, f"README.md does not link docs/{page}.md"
        assert f"({page}.md)" in (ROOT / "docs/index.md").read_text(), f"docs/index.md does not link {page}.md"


def test_every_relative_link_and_anchor_resolves() -> None:
    broken = []
    for document in documents():
        for target in LINK.findall(document.read_text()):
            if re.match(r"^[a-z]+:", target):
                continue  # http(s) and the like: not checked offline
            path, _, anchor = target.partition("#")
            resolved = (document.parent / path).resolve() if path else document
            if not resolved.exists():
                broken.append(f"{document.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                broken.append(f"{document.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_tour_screenshots_are_small() -> None:
    images = re.findall(r"!\[[^\]]*\]\((docs/img/[^)]+)\)", (ROOT / "README.md").read_text())
    assert 3 <= len(images) <= 4
    for image in images:
        assert (ROOT / image).stat().st_size < 200 * 1024, image
