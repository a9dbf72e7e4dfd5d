"""README.rst from the readme/*.md fragments, as OCA's readme generator does.

    python scripts/gen_readme.py            # write README.rst
    python scripts/gen_readme.py --check    # exit 1 if README.rst is not up to date

Edit the fragments in readme/ (pandoc Markdown; "##" for a subsection),
never README.rst. Blocks between ``<!-- nginx: ARGS -->`` and
``<!-- /nginx -->`` are scripts/nginx/bus_mobile.conf rendered with ARGS
(``listen=80 server_name=... http=HOST:PORT,... gevent=HOST:PORT,...``,
``indent=8`` inside a list item, and ``upstreams`` for its upstream
blocks alone): the configuration the
tests run in nginx. Writing README.rst writes them again; ``--check``
fails when they drift. The fragments are converted with pandoc (pypandoc-binary,
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
from nginx_proxy import render, upstreams

ROOT = Path(__file__).resolve().parents[1]
NGINX_BLOCK = re.compile(
    r"^(?P<open><!-- nginx: (?P<args>[^>]*) -->\n)(?P<body>.*?)(?P<close>^<!-- /nginx -->\n)",
    flags=re.MULTILINE | re.DOTALL,
)
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


def nginx_block(args):
    """The configuration a block's ARGS ask for, as a Markdown code block."""
    options = dict(arg.split("=", 1) for arg in args.split() if "=" in arg)
    site = render(
        options.get("listen", "80"),
        options["http"].split(","),
        options["gevent"].split(","),
        options.get("server_name", "_"),
    )
    if "upstreams" in args.split():
        site = upstreams(site)
    indent = " " * int(options.get("indent", 4))
    return "".join(f"{indent}{line}\n" if line else "\n" for line in site.splitlines())


def with_nginx_blocks(text):
    return NGINX_BLOCK.sub(lambda m: m["open"] + nginx_block(m["args"]) + m["close"], text)


def stale_fragments():
    """``{path: (current, expected)}`` of the fragments whose nginx blocks
    are not the configuration rendered."""
    stale = {}
    for path in sorted((ROOT / "readme").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        expected = with_nginx_blocks(text)
        if expected != text:
            stale[path] = (text, expected)
    return stale


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
    stale = stale_fragments()
    if not args.check:
        for path, (_current, expected) in stale.items():
            path.write_text(expected, encoding="utf-8")
        readme.write_text(generate(), encoding="utf-8")
        return 0
    for path, (current, expected) in stale.items():
        name = str(path.relative_to(ROOT))
        sys.stdout.writelines(
            difflib.unified_diff(
                current.splitlines(keepends=True), expected.splitlines(keepends=True), name, name
            )
        )
        sys.stderr.write(
            f"{name}: its nginx configuration is not scripts/nginx/bus_mobile.conf as the "
            "tests run it: run `make readme`\n"
        )
    if stale:
        return 1
    text = generate()
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
