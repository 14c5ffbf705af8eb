#!/usr/bin/python3
"""The annotated edition's generator: minigrad's source and chapters as a browsable book.

    /usr/bin/python3 scripts/docs.py --out build/docs --graph-program build/examples/graph

scripts/docs.sh runs it; read that first, then this, top to bottom. It only splits files into
prose and code and lays out pages. Debian's libraries do the rest: markdown-it-py (with its
dollarmath and anchors plugins) renders Markdown, Pygments highlights code, KaTeX typesets math in
the browser (docs/site/math.js), Graphviz draws graphs. The pages' template, style sheet and
scripts are in docs/site/; tests/site/check_site.py opens every page in a real browser.

The book: docs/README.md is the index, and its list is the reading path, the order of the
pages: every backticked path of a file in the tree (`core/tensor.h`) and every link to a chapter
([bptt.md](bptt.md)), in order of first appearance, under the ## heading they appear under. Then
come the pages it does not name: the other chapters, examples/*.cpp and *.h, and the files the
chapters name. A chapter docs/<name>.md has the page <name>.html, a file the page <path>.html
(nn/rnn.h.html). In prose, a path (core/autograd.h, or autograd.cpp beside it) or a chapter's
name (docs/bptt.md, bptt.md) links to its page, and so do Markdown links to chapters and files.

How a source file becomes an annotated page, the splitting rules:
  - A run of line comments standing on their own lines (`//`; `#` in Python, shell and meson)
    is prose, and the lines after it, up to the next such run, are the code it explains: one
    section, a row with the prose on the left and the code on the right. A comment at the end of
    a line of code stays in the code.
  - The file's opening comment heads the page, above the sections. `// ---- Title ----` is the
    heading of the section after it.
  - In prose, lines indented by two or more spaces beyond it are a block of their own: a list
    when they start with `- ` or `1. `, a displayed formula when they are `$$ ... $$`, and
    otherwise preformatted text (a formula, a usage example), shown as written. All other prose
    is Markdown, with `$...$` and `$$...$$` typeset.
"""
import argparse
import dataclasses
import html
import itertools
import posixpath
import re
import shutil
import string
import subprocess
import sys
import tempfile
from base64 import b64encode
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.anchors.index import slugify, unique_slug
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import format as format_tokens, highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import BashLexer, CppLexer, MesonLexer, PythonLexer, get_lexer_by_name
from pygments.util import ClassNotFound

ROOT = Path(__file__).resolve().parent.parent
KATEX = Path("/usr/share/javascript/katex")  # libjs-katex
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")  # fonts-dejavu-core
FONTS = [("Book Serif", "DejaVuSerif", "normal", 400), ("Book Serif", "DejaVuSerif-Italic",
         "italic", 400), ("Book Serif", "DejaVuSerif-Bold", "normal", 700),
         ("Book Mono", "DejaVuSansMono", "normal", 400)]
PYGMENTS_STYLE = "xcode"  # colour only, so the code needs no bold or italic font
# The files that can have an annotated page: how their line comments start, and their lexer.
LANGUAGES = {".h": ("//", CppLexer), ".cpp": ("//", CppLexer), ".py": ("#", PythonLexer),
             ".sh": ("#", BashLexer), "meson.build": ("#", MesonLexer)}
# A path in prose: ../ or directories, then a name with one of the extensions above, or .md.
PATH = re.compile(r"(?<![\w./-])(?:\.\./)*(?:[\w-]+/)*[\w-]+\.(?:h|cpp|py|sh|md|build)(?![\w/])")
EXTRA_GROUP = "Not on the reading path"


def language(path):
    return LANGUAGES.get(Path(path).name) or LANGUAGES.get(Path(path).suffix)


@dataclasses.dataclass
class Page:
    source: str  # its file in the tree: "nn/rnn.h", "docs/bptt.md"
    group: str  # the heading of docs/README.md it stands under
    title: str = ""
    headings: list = dataclasses.field(default_factory=list)  # (id, HTML), for the sidebar

    @property
    def is_chapter(self):
        return self.source.endswith(".md")

    @property
    def output(self):  # its file in the site: index.html, bptt.html, nn/rnn.h.html
        name = "index" if self.source == "docs/README.md" else self.source[len("docs/"):-3]
        return name + ".html" if self.is_chapter else self.source + ".html"


class Book:
    """Every page, in reading order, and the rules that turn a path in the text into a link."""

    def __init__(self, root):
        self.root, self.md, self.comments = root, markdown(), markdown(comments=True)
        self.pages = {}  # source path -> Page, in order
        self.add("docs/README.md", "")
        self.path = [self.add(source, group) for group, source in self.named("docs/README.md")
                     if source not in self.pages]
        chapters = sorted(p.relative_to(root).as_posix() for p in (root / "docs").glob("*.md"))
        examples = sorted(p.relative_to(root).as_posix() for pattern in ("*.cpp", "*.h")
                          for p in (root / "examples").glob(pattern))
        mentioned = [source for chapter in chapters for _, source in self.named(chapter)]
        for source in chapters + examples + mentioned:
            self.add(source, EXTRA_GROUP)

    def add(self, source, group):
        return self.pages.setdefault(source, Page(source, group))

    def read(self, source):
        return (self.root / source).read_text(encoding="utf-8")

    def named(self, chapter):
        """(heading, file) for each file a chapter names in `code` or links to, in order, with
        the ## heading it stands under."""
        tokens, heading = self.md.parse(self.read(chapter), {}), ""
        for i, token in enumerate(tokens):
            if token.type == "heading_open" and token.tag == "h2":
                heading = tokens[i + 1].content
            for child in token.children if token.type == "inline" else []:
                ref = (child.content if child.type == "code_inline" else
                       child.attrGet("href") if child.type == "link_open" else None)
                source = ref and self.find_file(ref.split("#")[0], "docs")
                if source:
                    yield heading, source

    def find_file(self, ref, base):
        """The file of the tree that `ref`, written in directory `base`, names, if it is one
        that can have a page: a chapter, or a source file in one of LANGUAGES."""
        if not ref or ":" in ref or ref.startswith("/"):
            return None
        for candidate in (posixpath.join(base, ref), ref, posixpath.join("docs", ref)):
            candidate = posixpath.normpath(candidate)
            is_chapter = candidate.startswith("docs/") and candidate.endswith(".md")
            if ((is_chapter or language(candidate)) and not candidate.startswith("..")
                    and (self.root / candidate).is_file()):
                return candidate
        return None

    def link(self, ref, page):
        """The URL, from `page`, of the page that `ref` (written in `page`) names, if any."""
        path, _, fragment = ref.partition("#")
        target = self.pages.get(self.find_file(path, posixpath.dirname(page.source)))
        if target is None or target is page:
            return None
        return self.relative(target.output, page) + ("#" + fragment if fragment else "")

    def relative(self, site_path, page):
        return posixpath.relpath(site_path, posixpath.dirname(page.output) or ".")


# ---- Markdown ---------------------------------------------------------------------------------

def markdown(comments=False):
    """markdown-it: CommonMark and tables, raw HTML shown as text (so that `<T>` in a comment is
    seen), $-math, heading ids as GitHub makes them, and the book's links (link_paths). For
    comments, written for a terminal, * and _ are never emphasis: x (*, in) or __metadata__."""
    md = MarkdownIt("commonmark", {"html": False, "highlight": highlight_fence})
    md.enable(["table", "strikethrough"])
    if comments:
        md.disable("emphasis")
    md.use(dollarmath_plugin, allow_space=False, double_inline=True)
    md.use(anchors_plugin, min_level=1, max_level=6)
    md.core.ruler.push("link_paths", link_paths)

    # A formula stays TeX source, for math.js to typeset; "display" marks a displayed one.
    def math(tag, kind):
        return lambda self, tokens, i, options, env: (
            f'<{tag} class="math{kind}">{html.escape(tokens[i].content.strip())}</{tag}>')
    md.add_render_rule("math_inline", math("span", ""))
    md.add_render_rule("math_inline_double", math("span", " display"))  # $$...$$ in a line
    md.add_render_rule("math_block", math("div", " display"))
    md.add_render_rule("math_block_label", math("div", " display"))  # $$...$$ (label)
    return md


def highlight_fence(code, lang, attrs):
    """A fenced block that names its language (```cpp) is highlighted too."""
    try:
        lexer = get_lexer_by_name(lang, stripnl=False)
    except ClassNotFound:
        return None  # no language: markdown-it shows it as written
    return f'<pre class="highlight"><code>{highlight(code, lexer, HtmlFormatter(nowrap=True))}' \
           '</code></pre>\n'


def link_paths(state):
    """A core rule: points Markdown links at the book's pages, and makes a link of every path in
    the text or in `code` that names a page. env["book"] and env["page"] say where we are. (A
    link or image that leads nowhere is left as it is, for tests/site/check_site.py to report.)"""
    book, page = state.env.get("book"), state.env.get("page")
    if book is None:
        return
    for token in (t for t in state.tokens if t.type == "inline"):
        children, inside_link = [], 0
        for child in token.children:
            if child.type == "link_open":
                inside_link += 1
                url = book.link(child.attrGet("href"), page)
                if url:
                    child.attrSet("href", url)
            elif child.type == "link_close":
                inside_link -= 1
            if inside_link or child.type not in ("text", "code_inline"):
                children.append(child)
            elif child.type == "code_inline":
                children += linked([child], book.link(child.content, page))
            else:  # text: cut around the paths it names
                text, at = child.content, 0
                for match in PATH.finditer(text):
                    url = book.link(match.group(), page)
                    if url:
                        children += [Token("text", "", 0, content=text[at:match.start()]),
                                     *linked([Token("text", "", 0, content=match.group())], url)]
                        at = match.end()
                children.append(Token("text", "", 0, content=text[at:]))
        token.children = [c for c in children if c.type != "text" or c.content]


def linked(tokens, url):
    """The tokens inside a link to url, if there is one."""
    open_, close = Token("link_open", "a", 1, attrs={"href": url}), Token("link_close", "a", -1)
    return [open_, *tokens, close] if url else tokens


# ---- A source file, split into sections ---------------------------------------------------------

@dataclasses.dataclass
class Section:
    prose: list  # its comment lines, without their comment marker
    code: list  # the numbers of its lines of code
    heading: str = ""


def split(lines, marker):
    """The file's lines as sections: each run of whole-line comments and the code after it."""
    comment = re.compile(rf"^\s*{re.escape(marker)}(?!!) ?(.*)$")  # (#! starts a script)
    heading = re.compile(rf"^\s*{re.escape(marker)}\s*-{{2,}}\s*(.*?)\s*-{{2,}}\s*$")
    sections = [Section([], [])]
    for number, line in enumerate(lines):
        title, text, current = heading.match(line), comment.match(line), sections[-1]
        if (title and (current.prose or current.code)) or (text and current.code):
            current = Section([], [])
            sections.append(current)
        if title:
            current.heading = title.group(1)
        elif text:
            current.prose.append(text.group(1))
        elif line.strip() or current.code:
            current.code.append(number)
        elif current.prose:  # a blank line between two comments: a new paragraph
            current.prose.append("")
    for section in sections:
        while section.code and not lines[section.code[-1]].strip():
            section.code.pop()
    return [s for s in sections if s.prose or s.code or s.heading]


def comment_markdown(prose):
    """A section's comment lines as Markdown: each run of lines indented by two or more spaces
    becomes a block of its own (indented_block); the other lines are Markdown as written."""
    out, run = [], []
    for line in prose + [None]:
        if line is not None and (line.startswith("  ") or (run and not line.strip())):
            run.append(line)
            continue
        while run and not run[-1].strip():
            run.pop()
        if run:
            depth = min(len(text) - len(text.lstrip()) for text in run if text.strip())
            out += ["", *indented_block([text[depth:] for text in run]), ""]
            run = []
        if line is not None:
            out.append(line)
    return "\n".join(out)


def indented_block(block):
    """An indented run of comment lines, dedented, as Markdown: a list, or else preformatted
    lines, among which each `$$ ... $$` (on one line or several) is a displayed formula."""
    if re.match(r"([-*+]|\d+[.)]) ", block[0]):
        return block
    out, plain, i = [], [], 0
    while i < len(block):
        end = next((j for j in range(i, len(block)) if block[i].startswith("$$") and
                    block[j].rstrip().endswith("$$") and (j > i or len(block[j].strip()) > 2)),
                   None)
        if end is not None:
            tex = "\n".join(text.strip() for text in block[i:end + 1])[2:-2]
            out += [*fenced(plain), "$$", tex.strip(), "$$", ""]
            plain, i = [], end + 1
        elif block[i].startswith("$$"):  # never closed: left in the text, where it is seen
            print(f"docs.py: a $$ without its closing $$: {block[i]}", file=sys.stderr)
            out += [*fenced(plain), block[i], ""]
            plain, i = [], i + 1
        else:
            plain.append(block[i])
            i += 1
    return out + fenced(plain)


def fenced(lines):
    while lines and not lines[-1].strip():
        lines.pop()
    return ["```", *lines, "```", ""] if lines else []


def highlighted(text, lexer_class):
    """The file's lines as HTML, lexed as one text (so that no construct is cut at a section's
    border) and formatted line by line."""
    lexer, formatter = lexer_class(stripnl=False, ensurenl=True), HtmlFormatter(nowrap=True)
    lines, line = [], []
    for kind, value in lexer.get_tokens(text):
        for i, part in enumerate(value.split("\n")):
            if i:
                lines.append(line)
                line = []
            if part:
                line.append((kind, part))
    # The formatter ends each line with a newline; here the line's own element ends it.
    return [format_tokens(tokens, formatter).replace("\n", "") for tokens in lines]


# ---- Pages --------------------------------------------------------------------------------------

def render_source(book, page):
    """An annotated page: the opening comment, then a row per section, prose beside code."""
    text = book.read(page.source)
    marker, lexer = language(page.source)
    lines, code = text.split("\n"), highlighted(text, lexer)
    include = re.compile(r'<span class="cpf">&quot;(.+?)&quot;</span>')  # #include "core/x.h"

    def include_link(match):
        url = book.link(match.group(1), page)
        return f'<a href="{url}">{match.group()}</a>' if url else match.group()

    env = {"book": book, "page": page}
    sections, opening, rows, slugs = split(lines, marker), "", [], set()
    if sections[0].prose:
        opening = book.comments.render(comment_markdown(sections[0].prose), env)
        opening, sections[0].prose = f'<div class="opening">\n{opening}</div>\n', []
    for section in sections:
        prose = ""
        if section.heading:
            slug = unique_slug(slugify(section.heading), slugs)
            page.headings.append((slug, html.escape(section.heading)))
            prose = f'<h2 id="{slug}">{page.headings[-1][1]}</h2>\n'
        prose += book.comments.render(comment_markdown(section.prose), env)
        cells = []
        for i in section.code:
            indent = len(lines[i]) - len(lines[i].lstrip(" "))  # wrapped lines hang below it
            cell = include.sub(include_link, code[i])
            style = f' style="--indent: {indent}ch"' if indent else ""
            cells.append(f'<span class="line"{style}>{cell}</span>')
        titled = " titled" if section.heading else ""
        rows.append(f'<div class="section{titled}">\n<div class="prose">\n{prose}</div>\n'
                    f'<pre class="code highlight"><code>{"".join(cells)}</code></pre>\n</div>')
    group = f'<p class="kicker">{html.escape(page.group)}</p>\n' if page.group else ""
    return (f'<header>{group}<h1><code>{html.escape(page.source)}</code></h1>\n{opening}'
            '</header>\n' + "\n".join(rows))


def render_chapter(book, page):
    env = {"book": book, "page": page}
    tokens = book.md.parse(book.read(page.source), env)
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h1" and not page.title:
            page.title = tokens[i + 1].content
        elif token.type == "heading_open" and token.tag == "h2":
            page.headings.append((token.attrGet("id"), book.md.renderInline(tokens[i + 1].content)))
    page.title = page.title or page.source
    return f'<article>\n{book.md.renderer.render(tokens, book.md.options, env)}</article>'


def label(book, page):
    """How the reading path and the turns name a page: a chapter by its title, a file by path."""
    if page.is_chapter:
        return book.md.renderInline(page.title)
    return f"<code>{html.escape(page.source).replace('/', '/<wbr>')}</code>"  # breaks after a /


def sidebar(book, current):
    """The reading path beside every page: its groups, each file and chapter, and the current
    page marked, opened to its headings."""
    index = book.pages["docs/README.md"]
    out = [f'<a class="book" href="{book.relative(index.output, current)}">'
           f'{label(book, index)}</a>']
    for group, pages in itertools.groupby(list(book.pages.values())[1:], lambda p: p.group):
        out.append((f"<h2>{html.escape(group)}</h2>\n" if group else "") + "<ol>")
        for page in pages:
            kind = "chapter" if page.is_chapter else "file"
            if page is not current:
                out.append(f'<li class="{kind}"><a href="{book.relative(page.output, current)}">'
                           f'{label(book, page)}</a></li>')
                continue
            headings = "".join(f'<li><a href="#{slug}">{text}</a></li>'
                               for slug, text in page.headings)
            out.append(f'<li class="{kind} current" aria-current="page"><a href="#top">'
                       f'{label(book, page)}</a>'
                       + (f'<ol class="headings">{headings}</ol>' if headings else "") + "</li>")
        out.append("</ol>")
    return "\n".join(out)


def turns(book, page):
    """Previous and next, in reading order."""
    pages = [None, *book.pages.values(), None]
    at = pages.index(page)
    return "".join(f'<a rel="{rel}" href="{book.relative(other.output, page)}">{before}'
                   f'{label(book, other)}{after}</a>' if other else "<span></span>"
                   for other, rel, before, after in [(pages[at - 1], "prev", "← ", ""),
                                                     (pages[at + 1], "next", "", " →")])


# ---- The site ---------------------------------------------------------------------------------

def copy_assets(site, out):
    """docs/site's style sheet and scripts, KaTeX, the fonts and the highlighting's colours.
    The fonts travel inside the style sheets as data: URLs, because a browser may refuse a font
    from another file:// directory (Firefox does)."""
    assets = out / "assets"
    assets.mkdir()
    for name in ("style.css", "math.js", "path.js"):
        shutil.copy(site / name, assets / name)
    shutil.copy(KATEX / "katex.min.js", assets / "katex.min.js")
    katex, count = re.subn(  # woff2 is enough: every browser of today reads it
        r"src:url\(fonts/([\w-]+)\.woff2\)[^;}]*",
        lambda m: f'src:url({data_url(KATEX / "fonts" / (m.group(1) + ".woff2"))}) format("woff2")',
        (KATEX / "katex.min.css").read_text())
    if count == 0:
        sys.exit("docs.py: katex.min.css names its fonts in a way this script does not know")
    (assets / "katex.css").write_text(katex)
    (assets / "fonts.css").write_text("".join(
        f"@font-face {{ font-family: '{family}'; font-style: {style}; font-weight: {weight}; "
        f"src: url({data_url(DEJAVU / (file + '.ttf'))}) format('truetype'); }}\n"
        for family, file, style, weight in FONTS))
    (assets / "pygments.css").write_text(
        HtmlFormatter(style=PYGMENTS_STYLE).get_style_defs(".highlight"))


def data_url(font):
    return f"data:font/{font.suffix[1:]};base64,{b64encode(font.read_bytes()).decode()}"


def draw(out, root, graph_program):
    """Copies docs/images/ (png, svg) and renders its .dot files to images/<name>.svg, and the
    DOT files that graph_program writes to images/graph-<name>.svg."""
    images = out / "images"
    images.mkdir()
    for pattern in ("*.png", "*.svg"):
        for file in (root / "docs" / "images").glob(pattern):
            shutil.copy(file, images / file.name)
    dots = [(file, images / f"{file.stem}.svg")
            for file in sorted((root / "docs" / "images").glob("*.dot"))]
    with tempfile.TemporaryDirectory() as scratch:
        if graph_program:
            subprocess.run([graph_program, scratch], check=True, stdout=subprocess.DEVNULL)
            dots += [(file, images / f"graph-{file.stem}.svg")
                     for file in sorted(Path(scratch).glob("*.dot"))]
        else:
            print("docs.py: no --graph-program, so no graphs are drawn", file=sys.stderr)
        for dot, svg in dots:
            subprocess.run(["dot", "-Tsvg", str(dot), "-o", str(svg)], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "docs",
                        help="the site's directory, replaced (default: build/docs)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the source tree")
    parser.add_argument("--graph-program", help="the program that writes the graphs' DOT files "
                        "into the directory it is given (build/examples/graph)")
    args = parser.parse_args()
    out, root = args.out.resolve(), args.root.resolve()
    marker, site = out / ".minigrad-docs", root / "docs" / "site"
    if out.exists() and any(out.iterdir()) and not marker.exists():
        sys.exit(f"docs.py: {out} is not empty and not a site this script wrote; not replacing it")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    marker.write_text("Written by scripts/docs.py, which replaces this directory.\n")
    copy_assets(site, out)
    draw(out, root, args.graph_program)

    book = Book(root)
    bodies = {page.source: render_chapter(book, page) if page.is_chapter else
              render_source(book, page) for page in book.pages.values()}
    template = string.Template((site / "page.html").read_text())
    for page in book.pages.values():  # the reading path needs every title: laid out last
        (out / page.output).parent.mkdir(parents=True, exist_ok=True)
        (out / page.output).write_text(template.substitute(
            title=html.escape(re.sub(r"[`$*]", "", page.title or page.source)),
            assets=book.relative("assets", page) + "/",
            kind="chapter" if page.is_chapter else "annotated", sidebar=sidebar(book, page),
            turns=turns(book, page), content=bodies[page.source]), encoding="utf-8")
    print(f"docs.py: {len(book.pages)} pages ({len(book.path)} on the reading path) in {out}")


if __name__ == "__main__":
    main()
