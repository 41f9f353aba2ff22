"""WordPress post content to Pressroom Markdown.

WordPress stores HTML in two dialects: the block editor's (paragraphs already in
<p>, blocks marked by <!-- wp:... --> comments) and the classic editor's (blank lines
for paragraphs, which WordPress's wpautop() turns into <p> when it shows a post), both
sprinkled with shortcodes such as [caption] and [gallery]. This module expands what
WordPress itself would have expanded, turns embeds into plain links (no third-party
request from our pages), sanitises the HTML with the same allow-list as every other
piece of content, and converts the result to Markdown so that the author can go on
editing the post in Pressroom's editor.
"""

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

import lxml.html
from markdownify import MarkdownConverter

from blog.rendering import MORE, check_length, check_nesting, sanitise
from blog.wordpress.items import MORE_PLACEHOLDER


@dataclass
class Media:
    url: str
    alt: str = ""
    caption: str = ""


# Gives the images of a [gallery]: its ids="…", or the attachments of the post.
GalleryLookup = Callable[[list[int]], list[Media]]

# A lazy scan for an end ("-->", "[/caption]") never reads past the next opening of the
# same thing: one left unclosed, repeated, was read to the end of the post from each
# opening (an export of "<!--more " lines held the import for minutes).
_UNTIL_NEXT_COMMENT = r"(?:(?!<!--).)*?"
_block_comment = re.compile(rf"<!--\s*/?wp:{_UNTIL_NEXT_COMMENT}-->", re.S)
_more = re.compile(rf"<!--more(?:\s{_UNTIL_NEXT_COMMENT})?-->", re.S)
_other_breaks = re.compile(rf"<!--(?:nextpage|noteaser)(?:\s{_UNTIL_NEXT_COMMENT})?-->", re.S)


def to_markdown(content: str, gallery: GalleryLookup = lambda ids: []) -> str:
    """A WordPress post's content as clean, safe Markdown.

    Raises BodyRefused for content too long or nested too deep to be a post here (the
    HTML parser below would drop what lies past its own depth limit, without a word).
    """
    check_length(content)
    check_nesting(content)
    is_blocks = "<!-- wp:" in content
    content = _other_breaks.sub("", content)
    content = _more.sub(f"\n\n<p>{MORE_PLACEHOLDER}</p>\n\n", content, count=1)
    content = _more.sub("", content)
    content = _block_comment.sub("", content)
    content = expand_shortcodes(content, gallery)
    if not is_blocks:
        content = autop(content)
    content = _fix_dom(content)
    markdown = _Converter().convert(sanitise(content)).strip()
    markdown = re.sub(rf"^{MORE_PLACEHOLDER}$", MORE, markdown, count=1, flags=re.M)
    markdown = markdown.replace(MORE_PLACEHOLDER, "")  # wherever markup left it inline
    return re.sub(r"\n{3,}", "\n\n", markdown) + "\n"


# -- Shortcodes --------------------------------------------------------------------

_attribute = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))|"([^"]*)"|(\S+)""")


def shortcode_attributes(text: str) -> dict[str, str]:
    attributes = {}
    for match in _attribute.finditer(html.unescape(text)):
        if match.group(1):
            value = next(v for v in match.group(2, 3, 4) if v is not None)
            attributes[match.group(1).lower()] = value
    return attributes


def _shortcode(name: str) -> re.Pattern:
    """[name attrs]inner[/name] or [name attrs] or [name attrs /]; [[name]] is escaped."""
    opening = rf"\[{name}(?![\w-])"
    return re.compile(
        rf"(\[?){opening}([^\[\]]*?)(?:/\]|\](?:((?:(?!{opening}).)*?)\[/{name}\])?)(\]?)",
        re.S | re.I,
    )


_caption = _shortcode("(?:wp_)?caption")
_gallery = _shortcode("gallery")
_embed = _shortcode("embed")
_media = _shortcode("(?:audio|video|playlist)")
_code = _shortcode("(?:code|sourcecode)")


def _escaped(match: re.Match) -> bool:
    """[[name]]: WordPress shows the shortcode itself, less one pair of brackets."""
    return bool(match.group(1) and match.group(4))


def expand_shortcodes(content: str, gallery: GalleryLookup) -> str:
    """WordPress core's own shortcodes, expanded as WordPress would; others stay text."""

    def caption(match):
        if _escaped(match):
            return match.group(0)[1:-1]
        inner = match.group(3) or ""
        # The caption is the text after the image: [caption]<img …> A caption[/caption]
        parts = re.match(r"\s*((?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(.*)", inner, re.S)
        if parts is None:
            return inner
        text = shortcode_attributes(match.group(2)).get("caption") or parts.group(2).strip()
        return f"<figure>{parts.group(1)}<figcaption>{text}</figcaption></figure>"

    def gallery_images(match):
        if _escaped(match):
            return match.group(0)[1:-1]
        attributes = shortcode_attributes(match.group(2))
        ids = [int(n) for n in re.findall(r"\d+", attributes.get("ids", "") or "")]
        images = gallery(ids)
        if not images:
            return ""
        figures = "".join(
            f'<figure><img src="{html.escape(image.url)}" alt="{html.escape(image.alt)}">'
            + (f"<figcaption>{html.escape(image.caption)}</figcaption>" if image.caption else "")
            + "</figure>"
            for image in images
        )
        return f"\n\n{figures}\n\n"

    def link(match):
        if _escaped(match):
            return match.group(0)[1:-1]
        attributes = shortcode_attributes(match.group(2))
        url = (match.group(3) or "").strip() or attributes.get("src", "")
        if not url:
            url = next((v for k, v in attributes.items() if k in ("mp3", "mp4", "ogg")), "")
        if not url:
            return ""
        return f'\n\n<p><a href="{html.escape(url)}">{html.escape(url)}</a></p>\n\n'

    def code(match):
        if _escaped(match):
            return match.group(0)[1:-1]
        attributes = shortcode_attributes(match.group(2))
        language = attributes.get("lang") or attributes.get("language", "")
        css = f' class="language-{html.escape(language)}"' if language else ""
        # The code inside was written as text, not HTML: keep every character.
        return f"\n\n<pre><code{css}>{html.escape(match.group(3) or '')}</code></pre>\n\n"

    content = _code.sub(code, content)
    content = _caption.sub(caption, content)
    content = _gallery.sub(gallery_images, content)
    content = _embed.sub(link, content)
    content = _media.sub(link, content)
    return content


# -- wpautop -----------------------------------------------------------------------

_BLOCK = (
    "table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|"
    "form|map|area|blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section|"
    "article|aside|hgroup|header|footer|nav|figure|figcaption|details|menu|summary|"
    "iframe|video|audio|object|embed"
)
_starts_block = re.compile(rf"^\s*</?(?:{_BLOCK})\b", re.I)
_protected = re.compile(r"<(pre|script|style|textarea)\b(?:(?!<\1\b).)*?</\1>", re.S | re.I)


def autop(text: str) -> str:
    """Classic-editor text to paragraphs, as WordPress's wpautop() shows it."""
    saved: list[str] = []

    def protect(match):
        saved.append(match.group(0))
        return f"\x00{len(saved) - 1}\x00"

    text = _protected.sub(protect, text.replace("\r\n", "\n").replace("\r", "\n"))
    # A block tag starts a paragraph of its own, as in wpautop.
    text = re.sub(rf"(<(?:{_BLOCK})\b[^<>]*>)", r"\n\n\1", text, flags=re.I)
    text = re.sub(rf"(</(?:{_BLOCK})>)", r"\1\n\n", text, flags=re.I)
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        block = block.strip()
        if not block:
            continue
        if _starts_block.match(block) or re.fullmatch(r"\x00\d+\x00", block):
            paragraphs.append(block)
        else:
            paragraphs.append("<p>" + re.sub(r"\s*\n\s*", "<br>\n", block) + "</p>")
    text = "\n\n".join(paragraphs)
    return re.sub(r"\x00(\d+)\x00", lambda match: saved[int(match.group(1))], text)


# -- The document, before sanitising ----------------------------------------------

_url_line = re.compile(r"^\s*(https?://[^\s<>\"]+)\s*$")


def _fix_dom(content: str) -> str:
    """Turn what the sanitiser would silently drop into something readers still get."""
    if not content.strip():
        return ""
    root = lxml.html.fragment_fromstring(content, create_parent="div")
    for element in list(root.iter("iframe", "video", "audio", "embed", "object", "source")):
        url = element.get("src") or element.get("data") or ""
        if not url:
            source = element.find(".//source")
            url = source.get("src", "") if source is not None else ""
        _replace_with_link(element, url)
    for element in list(root.iter("figure", "div")):
        # A block-editor embed is a figure whose wrapper holds only the URL.
        if "wp-block-embed" in (element.get("class") or ""):
            url = " ".join(element.itertext()).split()
            if url and url[0].startswith(("http://", "https://")):
                _replace_with_link(element, url[0])
    for paragraph in list(root.iter("p")):
        # Classic auto-embeds: a URL alone on its line.
        if len(paragraph) == 0 and _url_line.match(paragraph.text or ""):
            url = paragraph.text.strip()
            paragraph.text = None
            anchor = lxml.html.Element("a", href=url)
            anchor.text = url
            paragraph.append(anchor)
    return lxml.html.tostring(root, encoding="unicode")[5:-6]  # without the <div></div>


def _replace_with_link(element, url: str) -> None:
    parent = element.getparent()
    if parent is None:
        return
    if url.startswith(("http://", "https://", "//")):
        if url.startswith("//"):
            url = "https:" + url
        replacement = lxml.html.Element("p")
        anchor = lxml.html.Element("a", href=url)
        anchor.text = url
        replacement.append(anchor)
        replacement.tail = element.tail
        parent.replace(element, replacement)
    else:
        parent.remove(element)


# -- HTML to Markdown ---------------------------------------------------------------


class _Converter(MarkdownConverter):
    def __init__(self):
        super().__init__(heading_style="ATX", bullets="-", code_language_callback=_language)

    def escape(self, text, parent_tags):
        # Literal "<" written as &lt; in WordPress must not turn into a tag in Markdown.
        text = super().escape(text, parent_tags)
        if "_noformat" in parent_tags:
            return text
        text = re.sub(r"&(?=#?\w+;)", "&amp;", text)
        return re.sub(r"<(?=[a-zA-Z/!?])", "&lt;", text)

    def convert_figcaption(self, el, text, parent_tags):
        text = text.strip()
        if not text:
            return ""
        # Emphasised, unless it carries emphasis of its own that would tangle with it.
        return f"\n\n*{text}*\n\n" if "*" not in text else f"\n\n{text}\n\n"


def _language(element) -> str | None:
    code = element.find("code")
    css = (code.get("class") if code is not None else element.get("class")) or []
    match = re.search(r"language-([\w+#.-]+)", " ".join(css))
    return match.group(1) if match else None
