#!/usr/bin/python3
"""The annotated edition's generator: minigrad's source and chapters as a browsable book.

    /usr/bin/python3 scripts/docs.py --out build/docs --graph-program build/examples/graph

scripts/docs.sh runs it after building the graph program; read that script first, and then this
one, top to bottom. It only splits files into prose and code and lays out pages. The rest is done
by Debian's libraries: markdown-it-py with the dollarmath and anchors plugins renders Markdown,
Pygments highlights the code, KaTeX typesets the math in the browser (docs/site/math.js) and
Graphviz draws the graphs. The templates, styles and script of the pages are in docs/site/;
tests/site/check_site.py opens every page in a real browser.

The book, in the order of its reading path:
  - The reading path is docs/README.md's list: every backticked path of a file in the tree
    (`core/tensor.h`) and every link to a chapter ([bptt.md](bptt.md)), in the order they first
    appear, under the `##` heading they appear under. Its index page is docs/README.md itself.
  - Every chapter docs/<name>.md has the page <name>.html; every source file on the path, and
    every examples/*.cpp and examples/*.h, the page <path>.html (nn/rnn.h -> nn/rnn.h.html).
    Pages that the path does not name (and source files a chapter links to) come after it.
  - In prose, a file's path (core/autograd.h, or autograd.cpp beside it) or a chapter's name
    (docs/bptt.md, bptt.md) links to its page when it has one, and Markdown links between
    chapters or to sources are pointed at the pages.

How a source file becomes an annotated page (the splitting rules):
  - A run of line comments that stand on their own lines (`//`, or `#` for Python, shell and
    meson) is prose; the lines after it, up to the next such run, are the code it explains.
    One run of prose and its code make one section: a row with the prose on the left and the
    code on the right. Comments at the end of a line of code stay in the code.
  - The file's opening comment heads the page: it is the first section's prose, beside the
    first code (`#pragma once`, the includes).
  - `// ---- Title ----` becomes the heading of the section that follows it.
  - Inside prose, lines indented by two or more spaces beyond the prose are a block of their
    own: a list when it starts with `- ` or `1. `, a displayed formula when it is `$$ ... $$`,
    and otherwise preformatted text (a formula or a code example), shown as written, never
    reflowed. All other prose is Markdown, with `$...$` and `$$...$$` typeset.
"""
import argparse
import dataclasses
import html
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
KATEX = Path("/usr/share/javascript/katex")
FONTS = Path("/usr/share/fonts/truetype/dejavu")
PYGMENTS_STYLE = "xcode"  # colour only: the fonts carried in have no bold or italic code
# The files that can have an annotated page: how a line comment starts, and the lexer.
LANGUAGES = {".h": ("//", CppLexer), ".cpp": ("//", CppLexer), ".py": ("#", PythonLexer),
             ".sh": ("#", BashLexer), "meson.build": ("#", MesonLexer)}
# A path in prose: optional ../, directories, a name with one of the extensions above (or .md).
PATH = re.compile(r"(?<![\w./-])(?:\.\./)*(?:[\w-]+/)*[\w-]+\.(?:h|cpp|py|sh|md|build)(?![\w/])")
EXTRA_GROUP = "Not on the reading path"
GRAPH_CAPTIONS = {
    "expression": "A small expression, as `mg::autograd::to_dot` draws it.",
    "gru_composed": "One GRU step through the composed layer: every op a node.",
    "gru_fused": "The same step through the fused layer: one node.",
}


def language(path):
    return LANGUAGES.get(Path(path).name) or LANGUAGES.get(Path(path).suffix)


@dataclasses.dataclass
class Page:
    source: str  # its file in the tree: "nn/rnn.h", "docs/bptt.md"
    group: str  # the heading of docs/README.md it stands under
    title: str = ""
    headings: list = dataclasses.field(default_factory=list)  # (id, text), for the sidebar

    @property
    def output(self):  # its file in the site
        if self.source == "docs/README.md":
            return "index.html"
        if self.source.startswith("docs/") and self.source.endswith(".md"):
            return self.source[len("docs/"):-len(".md")] + ".html"
        return self.source + ".html"

    @property
    def is_chapter(self):
        return self.source.endswith(".md")


class Book:
    """Every page, in reading order, and the rules that turn a path in the text into a link."""

    def __init__(self, root, markdown):
        self.root, self.md = root, markdown
        self.pages = {}  # source path -> Page, in reading order
        index = self.add("docs/README.md", "")
        self.path = []  # the reading path, as docs/README.md gives it
        group = ""
        for token in markdown.parse(self.read(index.source), {"page": None}):
            if token.type == "heading_open" and token.tag == "h2":
                group = None  # the next inline token is the heading's text
            elif token.type == "inline" and group is None:
                group = token.content
            elif token.type == "inline":
                for child in token.children:
                    ref = (child.content if child.type == "code_inline" else
                           child.attrGet("href") if child.type == "link_open" else None)
                    source = ref and self.find_file(ref.split("#")[0], "docs")
                    if source and source not in self.pages:
                        self.path.append(self.add(source, group))
        examples = sorted(p.relative_to(root).as_posix() for pattern in ("*.cpp", "*.h")
                          for p in (root / "examples").glob(pattern))
        chapters = sorted(p.relative_to(root).as_posix() for p in (root / "docs").glob("*.md"))
        for source in chapters + examples:
            if source not in self.pages:
                self.add(source, EXTRA_GROUP)
        for page in [p for p in self.pages.values() if p.is_chapter]:  # sources chapters link to
            for token in markdown.parse(self.read(page.source), {"page": None}):
                for child in token.children or []:
                    href = child.attrGet("href") if child.type == "link_open" else None
                    source = href and self.find_file(href.split("#")[0], "docs")
                    if source and source not in self.pages:
                        self.add(source, EXTRA_GROUP)

    def add(self, source, group):
        self.pages[source] = Page(source, group)
        return self.pages[source]

    def read(self, source):
        return (self.root / source).read_text(encoding="utf-8")

    def find_file(self, ref, base):
        """The file of the tree that `ref`, written in a file of directory `base`, names, if it
        is one that has a page: a chapter, or a source file in one of LANGUAGES."""
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
        """The URL, relative to `page`, of the page that `ref` (written in `page`) names."""
        path, _, fragment = ref.partition("#")
        target = self.pages.get(self.find_file(path, posixpath.dirname(page.source)))
        if target is None or target is page:
            return None
        url = posixpath.relpath(target.output, posixpath.dirname(page.output) or ".")
        return url + ("#" + fragment if fragment else "")

    def relative(self, site_path, page):
        return posixpath.relpath(site_path, posixpath.dirname(page.output) or ".")


# ---- Markdown ---------------------------------------------------------------------------------

def markdown():
    """markdown-it (CommonMark, tables; raw HTML shown as text, so that `<T>` in a comment is
    seen) with $-math, heading ids as GitHub makes them, and the book's links (link_paths)."""
    md = MarkdownIt("commonmark", {"html": False, "highlight": highlight_fence})
    md.enable(["table", "strikethrough"])
    md.use(dollarmath_plugin, allow_space=False, double_inline=True)
    md.use(anchors_plugin, min_level=1, max_level=6)
    md.core.ruler.push("link_paths", link_paths)
    # The math is left as its TeX source, which math.js typesets; a display is a block.
    math = {"math_inline": ("span", ""), "math_inline_double": ("span", " display"),
            "math_block": ("div", " display"), "math_block_label": ("div", " display")}
    for kind, (tag, display) in math.items():
        md.add_render_rule(kind, lambda self, tokens, i, options, env, tag=tag, display=display:
                           f'<{tag} class="math{display}">{html.escape(tokens[i].content.strip())}'
                           f'</{tag}>' + ("\n" if tag == "div" else ""))
    return md


def highlight_fence(code, lang, attrs):
    """A fenced block in a chapter that names its language (```cpp) is highlighted too."""
    try:
        lexer = get_lexer_by_name(lang, stripnl=False)
    except ClassNotFound:
        return None  # no language, or "text": shown as written
    return f'<pre class="highlight"><code>{highlight(code, lexer, HtmlFormatter(nowrap=True))}' \
           '</code></pre>\n'


def link_paths(state):
    """A core rule: points Markdown links at the book's pages, and makes a link of every path in
    the text or in `code` that names a page. env["book"] and env["page"] say where we are."""
    book, page = state.env.get("book"), state.env.get("page")
    if book is None:
        return
    for token in state.tokens:
        if token.type != "inline":
            continue
        children, inside_link = [], 0
        for child in token.children:
            if child.type == "link_open":
                inside_link += 1
                href = child.attrGet("href")
                url = book.link(href, page)
                if url:
                    child.attrSet("href", url)
                elif PATH.fullmatch(href.split("#")[0]) and book.pages.get(book.find_file(
                        href.split("#")[0], posixpath.dirname(page.source))) is None:
                    print(f"docs.py: {page.source}: the link {href} leads to no page",
                          file=sys.stderr)
            elif child.type == "link_close":
                inside_link -= 1
            elif child.type == "image":
                state.env["images"].add(child.attrGet("src"))
            if inside_link or child.type not in ("text", "code_inline"):
                children.append(child)
            elif child.type == "code_inline":
                children += linked([child], book.link(child.content, page))
            else:  # text: split it around the paths it mentions
                at = 0
                for match in PATH.finditer(child.content):
                    url = book.link(match.group(), page)
                    if url:
                        children.append(text_token(child.content[at:match.start()]))
                        children += linked([text_token(match.group())], url)
                        at = match.end()
                children.append(text_token(child.content[at:]))
        token.children = [c for c in children if c.type != "text" or c.content]


def text_token(content):
    token = Token("text", "", 0)
    token.content = content
    return token


def linked(tokens, url):
    if not url:
        return tokens
    link_open = Token("link_open", "a", 1)
    link_open.attrSet("href", url)
    return [link_open, *tokens, Token("link_close", "a", -1)]


# ---- Splitting a source file into sections ------------------------------------------------------

@dataclasses.dataclass
class Section:
    prose: list  # comment lines, without their comment marker
    code: list  # numbers of the lines of code
    heading: str = ""


def split(lines, marker):
    """The file's lines as sections: each run of whole-line comments and the code after it."""
    comment = re.compile(rf"^\s*{re.escape(marker)}(?!!) ?(.*)$")
    heading = re.compile(rf"^\s*{re.escape(marker)}\s*-{{2,}}\s*(.*?)\s*-{{2,}}\s*$")
    sections = [Section([], [])]
    for number, line in enumerate(lines):
        title, text, current = heading.match(line), comment.match(line), sections[-1]
        if (title and (current.prose or current.code)) or (text and current.code):
            sections.append(Section([], []))
            current = sections[-1]
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
    """A section's comment lines as Markdown: runs indented by two or more spaces become blocks
    of their own, as the rules at the top say; the rest is Markdown as written."""
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
    """An indented run of comment lines, dedented: a list, or preformatted lines with displayed
    formulas ($$ ... $$, on one line or over several) among them."""
    if re.match(r"([-*+]|\d+[.)]) ", block[0]):
        return block
    out, plain, i = [], [], 0
    while i < len(block):
        end = formula_end(block, i)
        if end is None and block[i].startswith("$$"):  # unclosed: left in the text, to be seen
            print(f"docs.py: a $$ without its closing $$: {block[i]}", file=sys.stderr)
            out += [*fenced(plain), block[i], ""]
            plain, i = [], i + 1
        elif end is None:  # not a formula: shown as it is written
            plain.append(block[i])
            i += 1
        else:
            tex = "\n".join(text.strip() for text in block[i:end + 1])[2:-2]
            out += [*fenced(plain), "$$", tex.strip(), "$$", ""]
            plain, i = [], end + 1
    return out + fenced(plain)


def formula_end(block, start):
    """The line that closes the formula opened by $$ at the start of line `start`, if any."""
    if not block[start].startswith("$$"):
        return None
    for end in range(start, len(block)):
        closing = block[end].rstrip()
        if closing.endswith("$$") and (end > start or len(closing) > 2):
            return end
    return None


def fenced(lines):
    while lines and not lines[-1].strip():
        lines.pop()
    return ["```text", *lines, "```", ""] if lines else []


def highlighted(text, lexer_class):
    """The file's lines as HTML: lexed as one text, so that nothing is cut at a section's border,
    then formatted line by line."""
    lexer = lexer_class(stripnl=False, ensurenl=True)
    formatter = HtmlFormatter(nowrap=True)
    lines, line = [], []
    for kind, value in lexer.get_tokens(text):
        for i, part in enumerate(value.split("\n")):
            if i:
                lines.append(line)
                line = []
            if part:
                line.append((kind, part))
    # The formatter ends each line it writes with a newline: the line's span ends it instead.
    return [format_tokens(tokens, formatter).replace("\n", "") for tokens in lines]


# ---- Pages --------------------------------------------------------------------------------------

def render_source(book, page):
    text = book.read(page.source)
    marker, lexer = language(page.source)
    lines = text.split("\n")
    code = highlighted(text, lexer)
    include = re.compile(r'<span class="cpf">&quot;(.+?)&quot;</span>')
    env = {"book": book, "page": page, "images": set()}
    sections, opening, rows, slugs = split(lines, marker), "", [], set()
    if sections[0].prose:  # the file's opening comment heads the page, across both columns
        opening = book.md.render(comment_markdown(sections[0].prose), env)
        opening = f'<div class="opening">\n{opening}</div>\n'
        sections[0].prose = []
    for section in sections:
        prose = ""
        if section.heading:
            slug = unique_slug(slugify(section.heading), slugs)
            page.headings.append((slug, section.heading))
            prose += f'<h2 id="{slug}">{html.escape(section.heading)}</h2>\n'
        prose += book.md.render(comment_markdown(section.prose), env)
        cells = []
        for i in section.code:
            indent = len(lines[i]) - len(lines[i].lstrip(" "))
            cell = include.sub(lambda m: include_link(book, page, m), code[i])
            style = f' style="--indent: {indent}ch"' if indent else ""
            cells.append(f'<span class="line"{style}>{cell}</span>')
        titled = " titled" if section.heading else ""
        rows.append(f'<div class="section{titled}">\n<div class="prose">\n{prose}</div>\n'
                    f'<pre class="code highlight"><code>{"".join(cells)}</code></pre>\n</div>')
    page.title = page.source
    group = f'<p class="kicker">{html.escape(page.group)}</p>\n' if page.group else ""
    return (f'<header>{group}<h1><code>{html.escape(page.source)}</code></h1>\n{opening}'
            '</header>\n' + "\n".join(rows))


def include_link(book, page, match):
    url = book.link(match.group(1), page)
    return f'<a href="{url}">{match.group()}</a>' if url else match.group()


def render_chapter(book, page, graphs, env):
    tokens = book.md.parse(book.read(page.source), env)
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h1", "h2"):
            title = tokens[i + 1].content
            if token.tag == "h1" and not page.title:
                page.title = title
            elif token.tag == "h2":
                page.headings.append((token.attrGet("id"), title))
    body = book.md.renderer.render(tokens, book.md.options, env)
    return f'<article>\n{body}{graphs}</article>'


def graph_section(book, graphs, shown):
    """The graphs that no chapter shows yet, at the end of the index."""
    missing = [name for name in graphs if f"images/graph-{name}.svg" not in shown]
    if not missing:
        return ""
    text = ["## The graph as a picture", "",
            "The graphs that `build/examples/graph` records, drawn by Graphviz:", ""]
    for name in missing:
        text += [GRAPH_CAPTIONS.get(name, f"`{name}.dot`"), "",
                 f"![{name}](images/graph-{name}.svg)", ""]
    env = {"book": book, "page": book.pages["docs/README.md"], "images": set()}
    return book.md.render("\n".join(text), env)


def sidebar(book, current):
    """The reading path beside every page: its groups, each file and chapter, the current page
    marked and opened to its headings."""
    index = book.pages["docs/README.md"]
    out = [f'<a class="book" href="{book.relative(index.output, current)}">'
           f'{html.escape(index.title)}</a>']
    group = None
    for page in list(book.pages.values())[1:]:
        if page.group != group:
            out.append(("</ol>\n" if group is not None else "")
                       + (f"<h2>{html.escape(page.group)}</h2>\n" if page.group else "")
                       + "<ol>")
            group = page.group
        name = (html.escape(page.title) if page.is_chapter else
                f"<code>{html.escape(page.source)}</code>")
        kind = "chapter" if page.is_chapter else "file"
        if page is current:
            headings = "".join(f'<li><a href="#{slug}">{book.md.renderInline(text)}</a></li>'
                               for slug, text in page.headings)
            out.append(f'<li class="{kind} current" aria-current="page"><a href="#top">{name}</a>'
                       + (f'<ol class="headings">{headings}</ol>' if headings else "") + "</li>")
        else:
            out.append(f'<li class="{kind}"><a href="{book.relative(page.output, current)}">'
                       f'{name}</a></li>')
    return "\n".join(out) + "\n</ol>"


def turns(book, page):
    """Previous and next, in reading order."""
    pages = list(book.pages.values())
    at = pages.index(page)
    links = []
    for rel, other in (("prev", pages[at - 1] if at else None),
                       ("next", pages[at + 1] if at + 1 < len(pages) else None)):
        if other:
            name = (html.escape(other.title) if other.is_chapter else
                    f"<code>{html.escape(other.source)}</code>")
            arrow = "← " if rel == "prev" else ""
            links.append(f'<a rel="{rel}" href="{book.relative(other.output, page)}">{arrow}'
                         f'{name}{" →" if rel == "next" else ""}</a>')
        else:
            links.append("<span></span>")
    return "".join(links)


# ---- The site ---------------------------------------------------------------------------------

def copy_assets(site, out):
    assets = out / "assets"
    assets.mkdir()
    for name in ("style.css", "math.js", "path.js"):
        shutil.copy(site / name, assets / name)
    shutil.copy(KATEX / "katex.min.js", assets / "katex.min.js")
    # Fonts travel inside the style sheets, as data: URLs, so that a browser that does not load
    # fonts from other file:// directories (Firefox) shows them too. woff2 is enough for KaTeX.
    katex = (KATEX / "katex.min.css").read_text()
    katex, count = re.subn(r"src:url\(fonts/([\w-]+)\.woff2\)[^;}]*", lambda m: (
        "src:url(data:font/woff2;base64," +
        b64encode((KATEX / "fonts" / f"{m.group(1)}.woff2").read_bytes()).decode() +
        ') format("woff2")'), katex)
    if count == 0:
        sys.exit("docs.py: katex.min.css names its fonts in a way this script does not know")
    (assets / "katex.css").write_text(katex)
    faces = []
    for family, file, weight, style in [("Book Serif", "DejaVuSerif", 400, "normal"),
                                        ("Book Serif", "DejaVuSerif-Italic", 400, "italic"),
                                        ("Book Serif", "DejaVuSerif-Bold", 700, "normal"),
                                        ("Book Mono", "DejaVuSansMono", 400, "normal")]:
        data = b64encode((FONTS / f"{file}.ttf").read_bytes()).decode()
        faces.append(f"@font-face {{ font-family: '{family}'; font-weight: {weight}; "
                     f"font-style: {style}; src: url(data:font/ttf;base64,{data}) "
                     f"format('truetype'); }}")
    (assets / "fonts.css").write_text("\n".join(faces) + "\n")
    (assets / "pygments.css").write_text(
        HtmlFormatter(style=PYGMENTS_STYLE).get_style_defs(".highlight"))


def draw(out, root, graph_program):
    """Copies docs/images/ (png, svg), renders its .dot files to svg, and the graphs that
    graph_program writes to images/graph-<name>.svg. Returns the names of those graphs."""
    images = out / "images"
    images.mkdir()
    for pattern in ("*.png", "*.svg"):
        for file in (root / "docs" / "images").glob(pattern):
            shutil.copy(file, images / file.name)
    dots = [(file, images / f"{file.stem}.svg")
            for file in sorted((root / "docs" / "images").glob("*.dot"))]
    graphs = []
    with tempfile.TemporaryDirectory() as scratch:
        if graph_program:
            subprocess.run([graph_program, scratch], check=True, stdout=subprocess.DEVNULL)
            for file in sorted(Path(scratch).glob("*.dot")):
                graphs.append(file.stem)
                dots.append((file, images / f"graph-{file.stem}.svg"))
        else:
            print("docs.py: no --graph-program, so no graphs are drawn", file=sys.stderr)
        for dot, svg in dots:
            subprocess.run(["dot", "-Tsvg", str(dot), "-o", str(svg)], check=True)
    return graphs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "docs",
                        help="the site's directory (replaced; default build/docs)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the source tree")
    parser.add_argument("--graph-program", help="the program that writes the graphs' DOT files "
                        "into the directory it is given (build/examples/graph)")
    args = parser.parse_args()
    out, root, site = args.out.resolve(), args.root.resolve(), args.root.resolve() / "docs/site"
    marker = out / ".minigrad-docs"
    if out.exists() and any(out.iterdir()) and not marker.exists():
        sys.exit(f"docs.py: {out} is not empty and not a site this script wrote; not replacing it")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    marker.write_text("Written by scripts/docs.py, which replaces this directory.\n")
    copy_assets(site, out)
    graphs = draw(out, root, args.graph_program)

    book = Book(root, markdown())
    template = string.Template((site / "page.html").read_text())
    bodies, shown = {}, set()
    for page in list(book.pages.values())[1:] + [book.pages["docs/README.md"]]:  # index last
        env = {"book": book, "page": page, "images": shown}
        if page.is_chapter:
            extra = graph_section(book, graphs, shown) if page.output == "index.html" else ""
            bodies[page.source] = render_chapter(book, page, extra, env)
        else:
            bodies[page.source] = render_source(book, page)
    for src in sorted(shown):
        if ":" not in src and not (out / src).is_file():
            print(f"docs.py: a chapter shows {src}, which the site does not have", file=sys.stderr)
    for page in book.pages.values():
        file = out / page.output
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(template.substitute(
            title=html.escape(page.title), assets=book.relative("assets", page) + "/",
            kind="chapter" if page.is_chapter else "annotated", sidebar=sidebar(book, page),
            turns=turns(book, page), content=bodies[page.source]), encoding="utf-8")
    print(f"docs.py: {len(book.pages)} pages ({len(book.path)} on the reading path) in {out}")


if __name__ == "__main__":
    main()
