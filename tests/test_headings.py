"""Headings: stable ids and self-links, the table of contents, and the reading time."""

import json
import re
from collections import Counter

import pytest

from blog.database import db
from blog.headings import PAGE_IDS
from blog.models import Post
from blog.rendering import plain_text, post_summary, render_markdown

BODY = """Opening words of the post.

## Getting started

Install it.

### On Debian

apt.

## Getting started

Again.

## Why `make` and *not* a script?

Because.
"""


def ids(page: str) -> list[str]:
    return re.findall(r'<h\d id="([^"]+)">', page)


def test_every_heading_gets_an_id_and_links_to_itself():
    page = str(render_markdown(BODY))

    assert ids(page) == [
        "getting-started",
        "on-debian",
        "getting-started-2",
        "why-make-and-not-a-script",
    ]
    assert '<h3 id="on-debian"><a href="#on-debian" rel="noopener">On Debian</a></h3>' in page
    assert (
        '<a href="#why-make-and-not-a-script" rel="noopener">Why <code>make</code> and '
        "<em>not</em> a script?</a>" in page
    )


def test_a_heading_that_holds_a_link_keeps_it_and_gets_only_its_id():
    page = str(render_markdown("## See [the docs](https://example.com)"))
    assert '<h2 id="see-the-docs">See <a href="https://example.com"' in page
    assert 'href="#see-the-docs"' not in page


def test_ids_survive_edits_that_do_not_touch_the_heading():
    before = ids(str(render_markdown(BODY)))
    edited = (
        BODY.replace("Install it.", "Install it with pip, or from the package.")
        .replace("Opening words", "New opening words")
        .replace("## Why", "## So why")  # another heading changes...
        + "\n## A new heading at the end\n"  # ...and one is added after
    )
    after = ids(str(render_markdown(edited)))
    assert after[:3] == before[:3]
    assert after[3:] == ["so-why-make-and-not-a-script", "a-new-heading-at-the-end"]


@pytest.mark.parametrize("name", sorted(PAGE_IDS))
def test_a_heading_never_takes_an_id_the_page_uses(name):
    page = str(render_markdown(f"## {name}"))
    assert ids(page) == [f"{name}-2"]


def test_toc_goes_where_the_body_says():
    page = str(render_markdown("Intro.\n\n[TOC]\n\n## One\n\n### One a\n\n## Two\n\n[toc]"))
    assert page.count('<nav class="toc"') == 1
    assert page.index("<p>Intro.</p>") < page.index('<nav class="toc"') < page.index("<h2")
    assert "[toc]" not in page.lower()
    assert re.sub(
        r"\s", "", page.partition('<nav class="toc" aria-label="Contents">')[2]
    ).startswith(
        '<pclass="toc-title">Contents</p><ol><li><ahref="#one">One</a><ol><li><ahref="#one-a">'
        'Onea</a></li></ol></li><li><ahref="#two">Two</a></li></ol></nav>'
    )


def test_the_posts_choice_puts_the_toc_at_the_top_and_the_marker_still_wins():
    at_top = str(render_markdown("Intro.\n\n## One", contents=True))
    assert at_top.startswith('<nav class="toc"')
    marked = str(render_markdown("Intro.\n\n[toc]\n\n## One", contents=True))
    assert marked.startswith("<p>Intro.</p>") and marked.count('<nav class="toc"') == 1


def test_no_headings_no_toc_and_the_marker_goes():
    assert str(render_markdown("Just text.\n\n[toc]", contents=True)) == "<p>Just text.</p>\n"
    in_code = str(render_markdown("```\n[toc]\n```\n\n## One"))
    assert '<nav class="toc"' not in in_code and "[toc]" in in_code


def test_summaries_and_search_read_the_words_not_the_toc():
    body = "First words here.\n\n## A heading\n\nMore."
    body_html = str(render_markdown(body, contents=True))
    assert post_summary("", body, body_html).startswith("First words here.")
    assert plain_text(body_html) == "First words here. A heading More."


def test_the_editor_saves_the_choice_and_the_page_shows_it(writer, app):
    form = {
        "title": "Guide",
        "body": "Intro.\n\n## Step one\n\n## Step two",
        "type": "post",
        "table_of_contents": "y",
        "publish": "Publish",
    }
    assert writer.post("/admin/posts/new", data=form).status_code == 302
    page = writer.get("/guide/").text
    assert '<nav class="toc" aria-label="Contents">' in page
    assert '<a href="#step-two">Step two</a>' in page

    with app.app_context():
        post = db.session.scalar(db.select(Post).where(Post.slug == "guide"))
        assert post.table_of_contents is True
        post_id, version = post.id, post.version
    form.pop("table_of_contents")
    form["version"] = str(version)
    assert writer.post(f"/admin/posts/{post_id}/edit", data=form).status_code == 302
    assert '<nav class="toc"' not in writer.get("/guide/").text

    # The live preview follows the box too.
    preview = writer.post(
        "/admin/preview", data={"body": form["body"], "table_of_contents": "y"}
    ).text
    assert preview.startswith('<nav class="toc"')


@pytest.mark.plugins("comments", "categories", "related_posts")
def test_no_id_on_the_post_page_is_given_twice(app, add_post, client):
    add_post(title="Plain", body="Words.", slug="plain", categories=["News"])
    page = client.get("/plain/").text
    page_ids = set(re.findall(r'\bid="([^"]+)"', page))
    assert {"main", "comments", "name", "email"} <= page_ids  # the comment form is there
    # A post whose headings are every id the page has, each twice.
    body = "\n\n".join(f"## {name}\n\n## {name}" for name in sorted(page_ids))
    add_post(title="Clash", body=body, slug="clash", categories=["News"])
    seen = Counter(re.findall(r'\bid="([^"]+)"', client.get("/clash/").text))
    assert [name for name, count in seen.items() if count > 1] == []


def test_readers_see_the_reading_time_and_json_ld_the_word_count(app, add_post, client):
    add_post(title="Long", body="word " * 700, slug="long")
    add_post(title="Short", body="Three short words.", slug="short")
    add_post(title="Empty", body="![](/a.png)", slug="empty")

    page = client.get("/long/").text
    byline = page.partition('<p class="post-byline">')[2].partition("</p>")[0]
    assert '<span class="reading-time">4 min read</span>' in byline  # 700 words at 230 a minute
    data = json.loads(
        page.partition('<script type="application/ld+json">')[2].partition("</script>")[0]
    )
    assert data["wordCount"] == 700
    assert '<span class="reading-time">1 min read</span>' in client.get("/short/").text
    empty = client.get("/empty/").text
    assert "min read" not in empty and '"wordCount": 0' in empty
