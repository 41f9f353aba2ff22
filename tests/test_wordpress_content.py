"""WordPress post HTML, blocks and shortcodes to clean Markdown, and the page it makes."""

import re

import pytest

from blog.rendering import render_markdown
from blog.wordpress.content import Media, autop, to_markdown


def page_html(content, gallery=lambda ids: []):
    return str(render_markdown(to_markdown(content, gallery)))


def test_classic_paragraphs_and_line_breaks_as_wpautop_makes_them():
    html = page_html("First line\nsecond line\n\nNext paragraph")

    assert html == "<p>First line<br>\nsecond line</p>\n<p>Next paragraph</p>\n"


def test_autop_leaves_preformatted_text_alone():
    assert "<pre>a\n\nb</pre>" in autop("Intro\n\n<pre>a\n\nb</pre>\n\nOutro")


def test_block_comments_vanish_and_block_html_stays():
    content = (
        "<!-- wp:heading -->\n<h2>Title</h2>\n<!-- /wp:heading -->\n\n"
        '<!-- wp:paragraph {"align":"center"} -->\n<p>Text with <strong>bold</strong>.</p>\n'
        "<!-- /wp:paragraph -->"
    )

    assert page_html(content) == (
        '<h2 id="title"><a href="#title" rel="noopener">Title</a></h2>\n'
        "<p>Text with <strong>bold</strong>.</p>\n"
    )


def test_caption_shortcode_becomes_an_image_with_its_caption():
    content = (
        '[caption id="attachment_1" align="alignnone" width="300"]<img src="https://img.test/a.jpg"'
        ' alt="A bell" width="300" /> A bell on a wharf[/caption]'
    )

    html = page_html(content)

    assert '<img src="https://img.test/a.jpg" alt="A bell">' in html
    assert "<em>A bell on a wharf</em>" in html
    assert "[caption" not in html


def test_gallery_shortcode_shows_the_attachments_it_names():
    asked = []

    def gallery(ids):
        asked.append(ids)
        return [Media("https://img.test/1.jpg", "One", "First"), Media("https://img.test/2.jpg")]

    html = page_html('[gallery ids="11,12" columns="2"]', gallery)

    assert asked == [[11, 12]]
    assert '<img src="https://img.test/1.jpg" alt="One">' in html
    assert '<img src="https://img.test/2.jpg" alt="">' in html
    assert "<em>First</em>" in html


@pytest.mark.parametrize(
    "content",
    [
        "[embed]https://www.youtube.com/watch?v=abc[/embed]",
        '<iframe src="https://www.youtube.com/watch?v=abc"></iframe>',
        "https://www.youtube.com/watch?v=abc",
        '<!-- wp:embed {"url":"https://www.youtube.com/watch?v=abc"} -->'
        '<figure class="wp-block-embed"><div class="wp-block-embed__wrapper">\nhttps://www.youtube.com/watch?v=abc\n</div></figure>'
        "<!-- /wp:embed -->",
    ],
)
def test_embeds_become_links_with_no_third_party_request(content):
    html = page_html(content)

    assert '<a href="https://www.youtube.com/watch?v=abc"' in html
    assert "<iframe" not in html


def test_code_shortcode_keeps_every_character():
    html = page_html('[code lang="python"]if a < b and c > d: print("<b>")[/code]')

    assert '<code class="language-python">' in html
    text = re.sub(r"</?span[^>]*>", "", html)  # the code as read, its colours aside
    assert 'if a &lt; b and c &gt; d: print("&lt;b&gt;")' in text


def test_escaped_and_unknown_shortcodes_stay_text():
    assert "[caption]" in page_html("Write [[caption]] to show it")
    assert "[youtube abc]" in page_html("[youtube abc]")


def test_literal_angle_brackets_in_text_stay_text():
    html = page_html("<p>Use &lt;div&gt; for blocks &amp; &lt;span&gt; inline</p>")

    assert "Use &lt;div&gt; for blocks &amp; &lt;span&gt; inline" in html


def test_script_and_handlers_never_reach_the_page():
    content = (
        '<p onclick="steal()">Hi<script>alert(1)</script></p><a href="javascript:alert(2)">x</a>'
        '<img src="x" onerror="alert(3)"><style>body{display:none}</style>'
    )

    html = page_html(content)

    for bad in ("script", "onclick", "onerror", "javascript:", "<style", "display:none"):
        assert bad not in html


def test_definition_lists_survive():
    html = page_html("<dl><dt>Term</dt><dd>Meaning</dd></dl>")

    assert "<dt>Term</dt>" in html and "<dd>Meaning</dd>" in html
