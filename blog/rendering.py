"""Markdown to safe HTML: the one road by which author text becomes page markup.

Code blocks are coloured (blog/highlighting.py), formulas become MathML
(blog/formulas.py) and headings get ids, self-links and a table of contents
(blog/headings.py) on the way, all before the sanitiser, which keeps only what they
are allowed to add.
"""

import html
import re
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

from blog.formulas import MATH_CLASSES, MATHML_ATTRIBUTES, MATHML_TAGS, math_plugin
from blog.headings import heading_plugin, place_table_of_contents, without_table_of_contents
from blog.highlighting import TOKEN_CLASSES, highlight

# Raw HTML is let through the parser on purpose (authors and imported posts use
# <figure>, <iframe>-less embeds, <sup>...), because the sanitiser below decides
# what survives. Typographer stays off: the author's own quotes are kept as typed.
_markdown = (
    MarkdownIt(
        "commonmark",
        {"html": True, "linkify": False, "typographer": False, "highlight": highlight},
    )
    .enable(["table", "strikethrough"])
    .use(footnote_plugin)
    .use(deflist_plugin)  # Pandoc-style "Term\n:   definition", what <dl> imports become
    .use(math_plugin)
    .use(heading_plugin)
)

# What readers may use (comments): emphasis, links, code and quotes. No raw HTML, no
# images (tracking pixels), no headings; the result passes the same sanitiser as posts.
_reader_markdown = (
    MarkdownIt(
        "zero", {"html": False, "linkify": False, "typographer": False, "breaks": True}
    ).enable(
        [
            "emphasis",
            "link",
            "backticks",
            "fence",
            "code",
            "blockquote",
            "newline",
            "escape",
            "autolink",
            "paragraph",
            "strikethrough",
        ]
    )  # fmt: skip
)

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup",
    "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark",
    "ol", "p", "pre", "q", "s", "samp", "section", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u",
    "ul", "var",
}  # fmt: skip
ALLOWED_TAGS |= MATHML_TAGS
ALLOWED_ATTRIBUTES = {
    "*": {"title", "id", "lang", "dir"},
    "a": {"href"},
    "abbr": {"title"},
    "code": {"class"},  # "language-python" from fenced code blocks
    "img": {"src", "alt", "width", "height", "loading"},
    "ol": {"start", "reversed"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "time": {"datetime"},
    "q": {"cite"},
    "blockquote": {"cite"},
    "span": {"class"},  # highlighted code's tokens, and formulas
    "div": {"class"},  # a displayed formula
    **{tag: MATHML_ATTRIBUTES for tag in MATHML_TAGS},
}
URL_SCHEMES = {"http", "https", "mailto"}
_language_class = re.compile(r"^language-[\w+#.-]{1,40}$")
_block_boundary = re.compile(
    r"<(?=/?(?:p|div|li|h[1-6]|br|blockquote|pre|tr|td|th|figcaption)\b)", re.I
)


# The classes each element may carry: only those our own rendering gives out.
_ALLOWED_CLASSES = {"span": TOKEN_CLASSES | MATH_CLASSES, "div": MATH_CLASSES}


def _keep_attribute(element: str, attribute: str, value: str) -> str | None:
    if attribute != "class":
        return value
    if element == "code":
        return value if _language_class.match(value) else None
    allowed = _ALLOWED_CLASSES.get(element, set())
    return value if value and set(value.split()) <= allowed else None


def sanitise(untrusted_html: str, link_rel: str | None = "noopener") -> str:
    """Keep only allow-listed tags, attributes and URL schemes; drop script entirely.

    No control character comes out (pages and feeds must stay well formed): those in the
    text are dropped before cleaning; one an entity decodes to (`&#1;`) becomes U+FFFD
    after it. Never dropped after: `java&#1;script:` is harmless, `javascript:` is not.
    """
    clean = nh3.clean(
        without_control_characters(untrusted_html),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_keep_attribute,
        url_schemes=URL_SCHEMES,
        link_rel=link_rel,
        strip_comments=True,
    )
    return replace_control_characters_in(clean)


# What one body may ask of the server, so that no post holds a worker for seconds.
BODY_MAX = 1_000_000  # characters of Markdown: some 150,000 words
# Elements inside one another in a body's HTML. The sanitiser's HTML parser slows with
# depth at every tag (150,000 nested <div> took it past 30 s); real posts stay far below.
NESTING_MAX = 200
# Elements that hold nothing, or whose end tag may be left out (<p>, <li>): they never
# make the HTML deeper, however many follow one another unclosed.
_NOT_NESTING = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead",
    "tbody", "tfoot", "colgroup", "rt", "rp",
}  # fmt: skip
_tag = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^<>]*)>")  # [^<>]: linear, even unclosed


class BodyRefused(ValueError):
    """A body the site will not render; the message tells its author why and what to do."""

    status = 422  # the HTTP status that says why: the content cannot be processed


class BodyTooLong(BodyRefused):
    status = 413  # Content Too Large


def nesting_depth(fragment: str) -> int:
    """How deep the fragment's elements go inside one another (one linear pass)."""
    depth = deepest = 0
    for closing, name, rest in _tag.findall(fragment):
        if name.lower() in _NOT_NESTING or rest.endswith("/"):
            continue
        if closing:
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def check_length(text: str) -> None:
    """Raise BodyRefused for a body past BODY_MAX characters."""
    if len(text) > BODY_MAX:
        raise BodyTooLong(
            f"The body is {len(text):,} characters long; {BODY_MAX:,} is the most a post "
            "may have. Split it into several posts."
        )


def check_nesting(html_text: str) -> None:
    """Raise BodyRefused for HTML whose elements go more than NESTING_MAX deep."""
    if nesting_depth(html_text) > NESTING_MAX:
        raise BodyRefused(
            f"The body's HTML puts elements more than {NESTING_MAX} deep inside one "
            "another; close the tags you opened (</div>, </span>…)."
        )


def render_markdown(text: str, contents: bool = False) -> Markup:
    """Markdown (with optional inline HTML) to sanitised HTML, ready for a page.

    A table of contents goes where the body says `[toc]`, or at its top when `contents`.
    Raises BodyRefused for a body past BODY_MAX characters or NESTING_MAX levels of HTML.
    """
    check_length(text)
    env: dict = {}
    unsafe = _markdown.render(text, env)
    check_nesting(unsafe)
    clean = sanitise(unsafe)
    # Made of ids and escaped words after the sanitiser, which would drop its <nav>.
    clean = place_table_of_contents(clean, env.get("headings", []), contents)
    return Markup(clean)  # noqa: S704 -- sanitised, the table made of escaped text


# Characters no text needs and XML cannot carry (ESC, a form feed, BEL): typed or pasted
# into a title, a name or a comment (every form drops them, blog/forms.py), or brought
# by an import (plain_text drops them), they left pages and feeds ill formed.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def without_control_characters(value):
    return _CONTROL_CHARACTERS.sub("", value) if isinstance(value, str) else value


def replace_control_characters_in(text: str) -> str:
    """Each control character as U+FFFD: text keeps its length and never joins up."""
    return _CONTROL_CHARACTERS.sub("\ufffd", text)


def plain_text(fragment: str) -> str:
    """The words of an HTML fragment, tags and control characters removed and entities
    decoded."""
    # "</p><p>" must not glue two words; the table of contents repeats the headings.
    spaced = _block_boundary.sub(" <", without_table_of_contents(fragment))
    words = nh3.clean(spaced, tags=set(), strip_comments=True)
    return " ".join(without_control_characters(html.unescape(words)).split())


# The author's "read more" break, as WordPress writes it (the page never shows it: the
# sanitiser drops comments). What comes before it is the post's teaser in lists.
MORE = "<!--more-->"
# [^>\n]: a line of its own, read once (across lines, 100,000 unclosed "<!--more" lines
# were each read to the end of the body: 30 s to save).
_more_break = re.compile(r"^[ \t]*<!--[ \t]*more\b[^>\n]*-->", re.M | re.I)


def more_break(body: str) -> re.Match | None:
    """Where the body's first <!--more--> line is, if it has one."""
    return _more_break.search(body)


def post_summary(excerpt: str, body: str, body_html: str) -> str:
    """What lists show of a post: its excerpt; else all before a <!--more--> line; else
    the body's first 55 words."""
    if excerpt.strip():
        return excerpt.strip()
    more = more_break(body)
    if more and (teaser := plain_text(render_markdown(body[: more.start()]))):
        return teaser
    return summarise(body_html)


def summarise(body_html: str, words: int = 55) -> str:
    """The first `words` words of the body, as WordPress makes an automatic excerpt."""
    parts = plain_text(body_html).split(" ")
    if len(parts) <= words:
        return " ".join(parts)
    return " ".join(parts[:words]) + " …"


def render_reader_markdown(text: str) -> Markup:
    """A reader's text (a comment): a small Markdown subset; links marked as theirs."""
    html = sanitise(_reader_markdown.render(text), link_rel="nofollow ugc noopener")
    return Markup(html)  # noqa: S704 -- sanitised just now


def count_links(fragment: str) -> int:
    return fragment.count("<a ")


def link_address(url: str) -> str | None:
    """`url` stripped, if a page may link to it or show it: http(s) with a host, or a
    path on this site; None for anything else: javascript:, data:, and a
    protocol-relative "//other.example/x" (or "/\\other.example", which browsers read
    the same), another site's whatever it claims to be."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return url
    if url.startswith("/") and not url.startswith(("//", "/\\")):
        return url
    return None
