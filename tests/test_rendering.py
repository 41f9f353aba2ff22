"""Markdown rendering and sanitising: what authors mean survives, script never does."""

import json
import re
from html.parser import HTMLParser

import pytest

from blog.rendering import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    render_markdown,
    summarise,
    without_control_characters,
)
from tests.conftest import shared_file


class Inspector(HTMLParser):
    """Collect every tag and attribute of a fragment, as a browser's parser sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | ALLOWED_ATTRIBUTES["*"] | {"rel"}
        for name, value in attrs:
            if name not in allowed:
                self.problems.append(f"attribute {name} on <{tag}>")
            if name in ("href", "src", "cite") and value:
                scheme = url_scheme(value)
                if scheme and scheme not in ("http", "https", "mailto"):
                    self.problems.append(f"URL scheme {scheme!r} in {name}")

    handle_startendtag = handle_starttag


def url_scheme(url: str) -> str:
    """The scheme a browser would read (WHATWG URL: control characters and tabs dropped)."""
    cleaned = re.sub(r"[\t\n\r]", "", url).lstrip("\x00\x01\x02\x03 \x0b\x0c\x1f")
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", cleaned)
    return match.group(1).lower() if match else ""


def problems_in(html: str) -> list[str]:
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems


def payloads(name: str) -> list[str]:
    text = shared_file("fixtures", name).read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize(
    "name", ["xss-payloads.txt", "xss-polyglots.txt", "xss-payloads-quick.txt"]
)
def test_no_xss_payload_survives_rendering(name):
    failures = {}
    for payload in payloads(name):
        for text in (payload, f"Some text {payload} more", f"[link]({payload})"):
            found = problems_in(str(render_markdown(text)))
            if found:
                failures[text] = found

    assert not failures, (
        f"{len(failures)} payloads got through, e.g. {next(iter(failures.items()))}"
    )


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("*em* **strong** `code`", "<p><em>em</em> <strong>strong</strong> <code>code</code></p>"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        ("[site](https://example.com)", '<a href="https://example.com" rel="noopener">site</a>'),
        ("```text\nx = 1\n```", '<pre><code class="language-text">x = 1\n</code></pre>'),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "<td>1</td>"),
        ("~~gone~~", "<s>gone</s>"),
        ("<figure><img src=\"/a.png\" alt=\"A\"><figcaption>Cap</figcaption></figure>",
         '<figure><img src="/a.png" alt="A"><figcaption>Cap</figcaption></figure>'),
        ("“Curly” quotes and it’s — fine", "<p>“Curly” quotes and it’s — fine</p>"),
        ("Text[^1]\n\n[^1]: The note.", "The note."),
    ],
)  # fmt: skip
def test_markdown_features_authors_use(markdown, html):
    assert html in str(render_markdown(markdown))


@pytest.mark.parametrize(
    "dangerous",
    [
        "<script>alert(1)</script>",
        '<a href="javascript:alert(1)">x</a>',
        '<img src=x onerror="alert(1)">',
        '<p style="position:fixed">x</p>',
        "<iframe src=https://evil.example></iframe>",
        '<code class="evil">x</code>',
        "[x](javascript:alert(1))",
        "![x](javascript:alert(1))",
        "<svg><script>alert(1)</script></svg>",
    ],
)
def test_dangerous_markup_is_removed(dangerous):
    html = str(render_markdown(dangerous))

    assert problems_in(html) == []
    assert "<script" not in html and "alert(1)</script" not in html


def test_summary_is_the_first_55_words_as_plain_text():
    body = render_markdown(" ".join(f"word{n}" for n in range(80)) + "\n\n*second*")

    summary = summarise(str(body))

    assert summary.startswith("word0 word1") and summary.endswith("word54 …")
    assert summarise("<p>Short &amp; <em>sweet</em>.</p><p>Next</p>") == "Short & sweet. Next"


def test_a_more_break_makes_the_teaser_lists_show(client, add_post):
    body = "A teaser with **bold** words.\n\n<!--more-->\n\nThe rest, for readers who click."
    add_post("With a break", body=body)
    add_post("No teaser", body="<!-- more -->\n\nOnly after the break.")

    home = client.get("/").text
    page = client.get("/with-a-break/").text

    assert '<p class="post-excerpt">A teaser with bold words.</p>' in home
    assert "The rest, for readers who click." not in home
    assert '<p class="post-excerpt">Only after the break.</p>' in home  # nothing before it
    assert "The rest, for readers who click." in page and "more--" not in page


def test_an_excerpt_beats_the_more_break(app, writer):
    writer.post("/admin/posts/new", data={
        "title": "Both", "excerpt": "The excerpt.", "body": "Teaser.\n\n<!--more-->\n\nRest.",
        "publish": "1"})  # fmt: skip

    assert '<p class="post-excerpt">The excerpt.</p>' in writer.get("/").text


def test_naughty_strings_make_posts_that_render(client, add_post):
    strings = json.loads(shared_file("fixtures", "blns.json").read_text(encoding="utf-8"))
    failures = []
    for number, text in enumerate(strings):
        post_id = add_post(
            # Only spaces or control characters (dropped) would be no title at all.
            title=text if without_control_characters(text).split() else "empty",
            body=text,
            slug=f"naughty-{number}",
        )
        response = client.get(f"/naughty-{number}/")
        if response.status_code != 200 or problems_in(
            response.text.partition('<div class="post-body">')[2].partition("</article>")[0]
        ):
            failures.append((post_id, text))

    assert failures == []
    assert client.get("/").status_code == 200
