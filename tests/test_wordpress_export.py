"""Exporting WXR 1.2: read back by Pressroom the same, and shaped as WordPress reads it."""

import re

from lxml import etree

from blog.database import db
from blog.models import Category, Post, Tag, User
from blog.rendering import plain_text
from blog.wordpress.exporter import export_wordpress
from blog.wordpress.importer import import_wordpress
from tests.conftest import shared_file

ALL_PLUGINS = ("categories", "related_posts", "comments")
WP = "http://wordpress.org/export/1.2/"


def snapshot(app) -> dict:
    """Everything a round trip must keep, keyed by what survives it (slugs, names)."""
    from plugins.comments.models import Comment

    with app.app_context():
        posts = db.session.scalars(db.select(Post)).all()
        comments = db.session.scalars(db.select(Comment)).all()

        def comment_key(comment):
            if comment is None:
                return None
            return (comment.post.slug, comment.author_name, comment.created_at, comment.status)

        return {
            "posts": {
                (
                    post.type,
                    post.title,
                    post.slug,
                    post.path,  # under its parent pages
                    post.menu_order,
                    post.status,
                    post.published_at,
                    post.sticky,
                    post.author.username,
                    tuple(c.name for c in post.categories),
                    tuple(t.name for t in post.tags),
                    post.excerpt,
                    post.summary,  # from the <!--more--> break, where there is one
                    plain_text(post.body_html),
                    post.featured_image.url if post.featured_image else None,
                )
                for post in posts
            },
            "categories": {
                (c.name, c.slug, c.parent.slug if c.parent else None, c.description)
                for c in db.session.scalars(db.select(Category))
            },
            "tags": {(t.name, t.slug) for t in db.session.scalars(db.select(Tag))},
            "authors": {
                (u.username, u.email, u.display_name) for u in db.session.scalars(db.select(User))
            },
            "comments": {
                (comment_key(c), comment_key(c.parent), plain_text(c.body_html)) for c in comments
            },
        }


def export_from(app, path):
    with app.app_context(), path.open("wb") as out:
        return export_wordpress(out)


def write_and_export(make_app, tmp_path, enabled=(), **fields):
    """One post by ada, saved with `fields` on a site with the `enabled` plugins, then
    exported: (its body, body_html, table_of_contents) and the file."""
    from blog.editing import PostData, save_post

    app = make_app(enabled)
    with app.app_context():
        author = User(username="ada", email="ada@example.com")
        post = save_post(PostData(**fields), author)
        written = (post.body, post.body_html, post.table_of_contents)
    exported = tmp_path / "export.xml"
    export_from(app, exported)
    return written, exported


def imported_into_a_new_site(make_app, exported):
    """A new site that has imported `exported`: read it inside its app_context()."""
    again = make_app()
    with again.app_context():
        import_wordpress(str(exported))
    return again


def test_round_trip_keeps_posts_terms_comments_and_authors(make_app, tmp_path):
    first = make_app(ALL_PLUGINS)
    with first.app_context():
        import_wordpress(str(shared_file("fixtures", "themeunittestdata.wordpress.xml")))
    original = snapshot(first)
    exported = tmp_path / "export.xml"

    counts = export_from(first, exported)
    second = make_app(ALL_PLUGINS)  # an empty site on a database of its own
    with second.app_context():
        assert db.session.scalar(db.select(db.func.count(Post.id))) == 0
        summary = import_wordpress(str(exported))
    copy = snapshot(second)

    assert counts["posts"] == 58 and counts["pages"] == 21 and counts["comments"] == 29
    assert summary.created["posts"] == 58 and summary.created["comments"] == 29
    for part in ("categories", "tags", "authors", "posts", "comments"):
        assert copy[part] == original[part], part
    threaded = [entry for entry in copy["comments"] if entry[1] is not None]
    assert len(threaded) >= 5  # "Template: Comments" nests replies several deep


def test_the_export_is_shaped_as_wordpress_reads_it(make_app, tmp_path):
    """What WordPress's importer (WXR_Parser_SimpleXML, and its regex fallback) relies on."""
    app = make_app(ALL_PLUGINS)
    with app.app_context():
        import_wordpress(str(shared_file("fixtures", "wordpress-seed.xml")))
    exported = tmp_path / "export.xml"
    export_from(app, exported)
    raw = exported.read_text()

    root = etree.parse(str(exported)).getroot()
    ns = {"wp": WP, "content": "http://purl.org/rss/1.0/modules/content/"}
    assert root.tag == "rss" and root.nsmap["wp"] == WP
    assert re.fullmatch(r"\d+\.\d+", root.findtext("channel/wp:wxr_version", namespaces=ns))
    assert root.findtext("channel/wp:base_site_url", namespaces=ns) == "http://blog.test"
    assert root.find("channel/wp:author/wp:author_login", ns).text == "newsconquest"
    assert root.find("channel/wp:category/wp:category_nicename", ns).text == "world-news"
    items = root.findall("channel/item")
    assert len(items) == 4
    for item in items:
        for field in (
            "post_id",
            "post_date",
            "post_date_gmt",
            "comment_status",
            "ping_status",
            "post_name",
            "status",
            "post_parent",
            "menu_order",
            "post_type",
            "post_password",
            "is_sticky",
        ):
            assert item.find(f"wp:{field}", ns) is not None, field
        assert item.findtext("content:encoded", namespaces=ns).startswith("<p>")
        category = item.find("category[@domain='category']")
        assert category.get("nicename") == "world-news" and category.text == "World News"
    comments = root.findall("channel/item/wp:comment", ns)
    assert len(comments) == 5
    assert any(c.findtext("wp:comment_parent", namespaces=ns) != "0" for c in comments)
    # The regex fallback finds items and terms by their bare tags, one per line.
    assert raw.count("\t<item>\n") == 4
    assert raw.count("<wp:category>") == 1


def test_cdata_breakers_and_control_characters_survive_an_export(make_app, tmp_path):
    _, exported = write_and_export(
        make_app, tmp_path, title="Tricky ]]> title\x07", body="Body with ]]> inside"
    )

    with imported_into_a_new_site(make_app, exported).app_context():
        post = db.session.scalar(db.select(Post))
        assert post.title == "Tricky ]]> title"
        assert "Body with ]]&gt; inside" in post.body_html


def test_unlisted_posts_leave_as_private_and_come_back_unlisted(make_app, tmp_path):
    _, exported = write_and_export(make_app, tmp_path, title="By invitation", status="unlisted")

    item = etree.parse(str(exported)).find(".//item")
    assert item.findtext(f"{{{WP}}}status") == "private"  # never more public in WordPress
    meta = {m.findtext(f"{{{WP}}}meta_key"): m.findtext(f"{{{WP}}}meta_value")
            for m in item.iter(f"{{{WP}}}postmeta")}  # fmt: skip
    assert meta["_pressroom_status"] == "unlisted"
    with imported_into_a_new_site(make_app, exported).app_context():
        assert db.session.scalar(db.select(Post.status)) == "unlisted"


WRITTEN_HERE = """Intro with $e^{i\\pi} + 1 = 0$ in it.

<!--more-->

## Setting up

```python
def greet(name):
    return f"Hello, {name}"
```

$$
\\int_0^1 x^2\\,dx = \\frac{1}{3}
$$

## Setting up

A [link to the first](#setting-up) and *emphasis*.
"""
NOTES = {"title": "Notes", "body": WRITTEN_HERE, "table_of_contents": True}


def test_a_posts_own_markdown_comes_back_word_for_word(make_app, tmp_path):
    """Its HTML alone would come back as other Markdown: code as a plain block, MathML as
    text, the table of contents as a list of links."""
    written, exported = write_and_export(make_app, tmp_path, **NOTES)

    with imported_into_a_new_site(make_app, exported).app_context():
        post = db.session.scalar(db.select(Post))
        assert (post.body, post.body_html, post.table_of_contents) == written
        assert written[2] is True and "<math" in post.body_html and "tok-" in post.body_html


def test_a_post_edited_in_wordpress_since_keeps_wordpresss_words(make_app, tmp_path):
    written, exported = write_and_export(make_app, tmp_path, **NOTES)
    # Edited in WordPress, which kept Pressroom's fields beside the new HTML.
    text = exported.read_text()
    assert text.count("Intro with") == 2  # the HTML, and the Markdown in its field
    exported.write_text(text.replace("<p>Intro with", "<p>Revised intro with", 1))

    with imported_into_a_new_site(make_app, exported).app_context():
        post = db.session.scalar(db.select(Post))
        assert post.body.startswith("Revised intro with")
        assert post.body != written[0] and post.table_of_contents is False


def test_markdown_in_a_file_is_rendered_and_sanitised_as_an_authors(make_app, tmp_path):
    """Anyone can write the field and its fingerprint: what it holds is treated as a body
    typed in the editor, payloads included, and refused as one when too long."""
    from xml.sax.saxutils import escape

    from blog.editing import render_post_body
    from blog.feeds import NOT_XML
    from blog.rendering import BODY_MAX
    from blog.wordpress.items import content_digest
    from tests.test_hooks import WXR

    payloads = shared_file("fixtures", "xss-payloads-quick.txt").read_text().splitlines()
    bodies = [NOT_XML.sub("", line) for line in payloads if line.strip()][:200]
    bodies.append("x" * (BODY_MAX + 1))
    item = """<item><title>Item {number}</title><dc:creator>ada</dc:creator>
      <content:encoded>&lt;p&gt;{number}&lt;/p&gt;</content:encoded>
      <wp:post_id>{number}</wp:post_id><wp:post_name>item-{number}</wp:post_name>
      <wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
      <wp:postmeta><wp:meta_key>_pressroom_markdown</wp:meta_key>
        <wp:meta_value>{body}</wp:meta_value></wp:postmeta>
      <wp:postmeta><wp:meta_key>_pressroom_content_sha256</wp:meta_key>
        <wp:meta_value>{digest}</wp:meta_value></wp:postmeta></item>"""
    items = "".join(
        item.format(number=n, body=escape(body), digest=content_digest(f"<p>{n}</p>"))
        for n, body in enumerate(bodies, start=1)
    )
    path = tmp_path / "crafted.xml"
    path.write_text(WXR.format(items=items))

    app = make_app()
    with app.app_context():
        summary = import_wordpress(str(path))
        posts = {p.slug: p for p in db.session.scalars(db.select(Post))}
        assert len(posts) == len(bodies) - 1  # the one past BODY_MAX refused, and said
        assert any(f"Item {len(bodies)}" in reason for reason in summary.skipped["posts"])
        for number, body in enumerate(bodies[:-1], start=1):
            post = posts[f"item-{number}"]
            assert post.body == body.replace("\r\n", "\n").replace("\r", "\n")
            assert post.body_html == str(render_post_body(post.body))


def test_html_a_plugin_changed_on_export_is_what_comes_back(fake_plugins, make_app, tmp_path):
    """posts_exporting may rewrite an item's HTML: an import then converts that HTML, since
    the post's own Markdown no longer says what the file shows."""

    def posts_exporting(items):
        for item in items.values():
            item.content = item.content.replace("<p>Plain", "<p>Stamped plain", 1)

    fake_plugins(stamp={"posts_exporting": posts_exporting})
    _, exported = write_and_export(
        make_app, tmp_path, enabled=["stamp"], title="Notes", body="Plain words."
    )

    with imported_into_a_new_site(make_app, exported).app_context():
        assert db.session.scalar(db.select(Post.body)).strip() == "Stamped plain words."
