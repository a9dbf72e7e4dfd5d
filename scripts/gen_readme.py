"""README.rst from the readme/*.md fragments, as OCA's readme generator does.

    python scripts/gen_readme.py            # write README.rst
    python scripts/gen_readme.py --check    # exit 1 if README.rst is not up to date

Edit the fragments in readme/ (pandoc Markdown; "##" for a subsection),
never README.rst. The fragments are converted with pandoc (pypandoc-binary,
pinned in scripts/requirements-dev.txt, so every machine writes the same
file); the title and the credits come from __manifest__.py.
"""

import argparse
import ast
import difflib
import re
import sys
from pathlib import Path

import pypandoc

ROOT = Path(__file__).resolve().parents[1]
# (fragment, section title); DESCRIPTION has no title.
FRAGMENTS = [
    ("DESCRIPTION", None),
    ("INSTALL", "Installation"),
    ("CONFIGURE", "Configuration"),
    ("USAGE", "Usage"),
    ("ROADMAP", "Known issues / Roadmap"),
]
HEADER = """\
..
   Generated from readme/*.md by scripts/gen_readme.py (make readme):
   edit those files, not this one.
"""


def to_rst(markdown):
    return pypandoc.convert_text(
        markdown, "rst", format="markdown-smart", extra_args=["--wrap=preserve", "--columns=100"]
    ).strip()


def section(title, body, underline="="):
    return f"{title}\n{underline * len(title)}\n\n{body}\n"


def fragment(name):
    """A fragment, without its HTML comments (markers of generated blocks,
    such as make bench's tables)."""
    path = ROOT / "readme" / f"{name}.md"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return re.sub(r"^<!--.*-->\n", "", text, flags=re.MULTILINE)


def generate():
    manifest = ast.literal_eval((ROOT / "__manifest__.py").read_text(encoding="utf-8"))
    name = manifest["name"]
    bar = "=" * len(name)
    parts = [HEADER, f"{bar}\n{name}\n{bar}\n"]
    parts.append(
        f"**{manifest['summary']}** (Odoo 18.0, {manifest['license']}, "
        f"{manifest['development_status']})\n"
    )
    for fragment_name, title in FRAGMENTS:
        text = fragment(fragment_name)
        if not text.strip():
            continue
        body = to_rst(text)
        parts.append(section(title, body) if title else body + "\n")
        if fragment_name == "DESCRIPTION":
            parts.append("**Table of contents**\n\n.. contents::\n   :local:\n")
    credits = [section("Authors", f"* {manifest['author']}", "-")]
    contributors = fragment("CONTRIBUTORS")
    if contributors.strip():
        credits.append(section("Contributors", to_rst(contributors), "-"))
    parts.append(section("Credits", "\n".join(credits).strip()))
    return "\n".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if README.rst is stale")
    args = parser.parse_args(argv)
    readme = ROOT / "README.rst"
    text = generate()
    if not args.check:
        readme.write_text(text, encoding="utf-8")
        return 0
    current = readme.read_text(encoding="utf-8") if readme.exists() else ""
    if current == text:
        return 0
    sys.stdout.writelines(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            "README.rst",
            "README.rst generated from readme/",
        )
    )
    sys.stderr.write(
        "README.rst is not the one generated from readme/*.md: edit the fragments in "
        "readme/, then run `make readme`\n"
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
