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
    from blog.editing import PostData, save_post

    app = make_app()
    with app.app_context():
        author = User(username="ada", email="ada@example.com")
        save_post(PostData(title="Tricky ]]> title\x07", body="Body with ]]> inside"), author)
    exported = tmp_path / "export.xml"
    export_from(app, exported)

    again = make_app()
    with again.app_context():
        import_wordpress(str(exported))
        post = db.session.scalar(db.select(Post))
        assert post.title == "Tricky ]]> title"
        assert "Body with ]]&gt; inside" in post.body_html


def test_unlisted_posts_leave_as_private_and_come_back_unlisted(make_app, tmp_path):
    from blog.editing import PostData, save_post

    app = make_app()
    with app.app_context():
        author = User(username="ada", email="ada@example.com")
        save_post(PostData(title="By invitation", status="unlisted"), author)
    exported = tmp_path / "export.xml"
    export_from(app, exported)

    item = etree.parse(str(exported)).find(".//item")
    assert item.findtext(f"{{{WP}}}status") == "private"  # never more public in WordPress
    meta = {m.findtext(f"{{{WP}}}meta_key"): m.findtext(f"{{{WP}}}meta_value")
            for m in item.iter(f"{{{WP}}}postmeta")}  # fmt: skip
    assert meta["_pressroom_status"] == "unlisted"
    again = make_app()
    with again.app_context():
        import_wordpress(str(exported))
        assert db.session.scalar(db.select(Post.status)) == "unlisted"
