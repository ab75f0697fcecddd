#!/usr/bin/env python3
"""Checks the links of the README and of the published crates' doc comments, offline.

They are read on docs.rs and crates.io, away from the repository's files, so:
- a relative link (`examples/x.rs`, `../bough/trait.Child.html`) is an error: it works on
  GitHub at best;
- a link into this repository (`<repository>/blob/main/PATH`, `/tree/main/PATH`, or
  raw.githubusercontent.com) must name a PATH that exists;
- a docs.rs link to one of our crates must name a page that `cargo doc --workspace
  --no-deps` generated (run it first), and an `#anchor` in it must exist on that page;
- intra-doc links (`[`Child`](crate::Child)`) are left to rustdoc's own lints;
- other URLs cannot be fetched (CI has no internet): they are counted, not checked.

Run from anywhere: `python3 .ci/check_links.py`. Exits 1 and lists the bad links.
"""

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "doc"
CRATES = {
    "bough": "bough",
    "bough-core": "bough_core",
    "bough-macros": "bough_macros",
    "bough-observer": "bough_observer",
    "bough-etcd": "bough_etcd",
}
SOURCE_DIRS = ["src", "core/src", "macros/src", "observer/src", "etcd/src"]

REPOSITORY = re.search(
    r'^repository\s*=\s*"([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M
).group(1)
RAW = "https://raw.githubusercontent.com/" + REPOSITORY.removeprefix("https://github.com/")
DOCS_RS = re.compile(r"https://docs\.rs/([\w-]+)(?:/([^/#]+)(?:/([^#]*))?)?(?:#(.*))?$")
INTRA_DOC = re.compile(r"^[\w:@!<>, ]+(?:\(\))?(?:#[\w.-]+)?$")
INLINE = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
DEFINITION = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)")


def markdown_lines(path):
    """(line number, markdown text) of a Markdown file, or of a Rust file's doc comments."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if path.suffix == ".md":
            yield number, line
        else:
            stripped = line.strip()
            for marker in ("//!", "///"):
                if stripped.startswith(marker) and not stripped.startswith("////"):
                    yield number, stripped[len(marker):]


def links(path):
    """(line number, target) of every link outside code blocks and code spans."""
    in_code = False
    for number, line in markdown_lines(path):
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        text = "".join(line.split("`")[::2])
        for match in INLINE.finditer(text):
            yield number, match.group(1)
        definition = DEFINITION.match(line)
        if definition:
            yield number, definition.group(1)


def check(target):
    """None when the link is fine, else what is wrong; and the kind of link it is."""
    if target.startswith("#"):
        return None, "anchor"
    if not re.match(r"^[a-z]+:", target):
        if INTRA_DOC.match(target):
            return None, "intra-doc"
        return "relative link: broken on docs.rs and crates.io; use an absolute URL", "bad"
    url, _, fragment = target.partition("#")
    for prefix in (REPOSITORY + "/blob/main/", REPOSITORY + "/tree/main/", RAW + "/main/"):
        if url.startswith(prefix):
            path = url[len(prefix):]
            if not (ROOT / path).exists():
                return f"`{path}` is not in the repository", "repository"
            return None, "repository"
    docs = DOCS_RS.match(target)
    if docs and docs.group(1) in CRATES:
        crate, version, page, fragment = docs.groups()
        if not page:
            return None, "docs.rs"  # the crate's front page
        if page.endswith("/"):
            page += "index.html"
        if not page.startswith(CRATES[crate] + "/"):
            return f"docs.rs page `{page}` is outside the crate `{crate}`", "docs.rs"
        file = DOC / page
        if not file.is_file():
            return f"no page `{page}` in {DOC} (run cargo doc --workspace --no-deps first)", "docs.rs"
        if fragment and not re.search(rf'\b(id|name)="{re.escape(fragment)}"', file.read_text()):
            return f"no anchor `#{fragment}` on `{page}`", "docs.rs"
        return None, "docs.rs"
    return None, "external"


def main():
    if not (DOC / "bough" / "index.html").is_file():
        sys.exit(f"{DOC} has no bough docs: run `cargo doc --workspace --no-deps` first")
    files = [ROOT / "README.md"]
    for directory in SOURCE_DIRS:
        files += sorted((ROOT / directory).rglob("*.rs"))
    counts, problems = {}, []
    for file in files:
        for number, target in links(file):
            problem, kind = check(target)
            counts[kind] = counts.get(kind, 0) + 1
            if problem:
                problems.append(f"{file.relative_to(ROOT)}:{number}: {target}: {problem}")
    print(
        "links: "
        + ", ".join(f"{counts[k]} {k}" for k in sorted(counts))
        + " (external URLs are not fetched: CI is offline)"
    )
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} broken link(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
