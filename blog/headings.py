"""A post's headings: an id and a self-link each, and the table of contents made of them.

Ids come from the heading's own words (`## Getting started` -> `getting-started`), and a
repeated heading is numbered in order (`-2`, `-3`), so a heading keeps its id through
every edit that does not touch it or an earlier heading of the same words. An id the
page around the post already uses (the comment form's `name`, `comments`, `main`…) is
numbered too, so that no label or skip link ever points into a post by mistake.
"""

import html
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

from blog.names import first_free, make_slug

# Ids the post page itself gives out: the layout's, the comment form's fields and the
# plugins' sections. tests/test_headings.py renders a post page whose headings are
# every id it finds there, so a new one is caught.
# (A slug has no "_", so `csrf_token` and `parent_id` need no place here.)
PAGE_IDS = {
    "main", "site-search", "site-search-q", "search", "search-q", "featured-caption",
    "comments", "respond", "reply-title", "related-posts-title", "name", "email", "website",
    "body", "remember", "homepage", "started", "submit", "contents", "top",
}  # fmt: skip
ID_MAX = 60  # characters of a heading's id: enough to tell headings apart
TOC_MARKER = re.compile(r"<p>\[toc\]</p>\n?", re.I)  # "[toc]" alone in a paragraph


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


def heading_text(inline: Token) -> str:
    """A heading's words as a reader sees them (markup, raw HTML and images left out)."""
    words = [
        child.content
        for child in inline.children or []
        if child.type in ("text", "code_inline", "math_inline", "html_entity")
    ]
    return " ".join("".join(words).split())


def _links_already(inline: Token) -> bool:
    for child in inline.children or []:
        if child.type in ("link_open", "footnote_ref"):
            return True
        if child.type == "html_inline" and child.content.lower().startswith("<a"):
            return True
    return False


def _number_headings(state) -> None:
    """The core rule: an id on every heading, its words made a link to it, and the
    headings listed in env["headings"] for the table of contents."""
    taken = set(PAGE_IDS)
    headings = []
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        inline = tokens[index + 1]
        text = heading_text(inline)
        base = make_slug(text, max_length=ID_MAX) or "section"
        heading_id = first_free(base, taken.__contains__, ID_MAX + 4)
        taken.add(heading_id)
        token.attrSet("id", heading_id)
        if inline.children and not _links_already(inline):
            opening = Token("link_open", "a", 1, attrs={"href": f"#{heading_id}"})
            inline.children = [opening, *inline.children, Token("link_close", "a", -1)]
        headings.append(Heading(int(token.tag[1]), heading_id, text))
    state.env["headings"] = headings


def heading_plugin(md: MarkdownIt) -> None:
    md.core.ruler.push("heading_ids", _number_headings)


def table_of_contents(headings: list[Heading]) -> str:
    """The headings as nested lists of links, each level under the one before it."""
    if not headings:
        return ""
    parts = ['<nav class="toc" aria-label="Contents"><p class="toc-title">Contents</p>']
    levels: list[int] = []  # the levels of the lists open now
    for heading in headings:
        while levels and heading.level < levels[-1]:
            parts.append("</li></ol>")
            levels.pop()
        if levels and heading.level == levels[-1]:
            parts.append("</li>")
        else:
            parts.append("<ol>")
            levels.append(heading.level)
        text = html.escape(heading.text) or "(untitled)"
        parts.append(f'<li><a href="#{html.escape(heading.id)}">{text}</a>')
    parts.append("</li></ol>" * len(levels))
    parts.append("</nav>\n")
    return "".join(parts)


def place_table_of_contents(body_html: str, headings: list[Heading], at_top: bool) -> str:
    """The table of contents where the body says `[toc]` (the first; any other goes),
    else at its top when `at_top`; without headings, the markers only go."""
    toc = table_of_contents(headings)
    marked = TOC_MARKER.search(body_html)
    if marked:
        before, after = body_html[: marked.start()], body_html[marked.end() :]
        return before + toc + TOC_MARKER.sub("", after)
    return toc + body_html if at_top else body_html


TOC_BLOCK = re.compile(r'<nav class="toc"[^>]*>.*?</nav>\n?', re.S)


def without_table_of_contents(body_html: str) -> str:
    """The body with its table of contents taken out (for summaries and search, which
    want the post's words, not its headings twice)."""
    return TOC_BLOCK.sub("", body_html)
