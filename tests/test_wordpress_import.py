"""Importing WordPress exports: the real ones in ../shared/fixtures, and hostile ones."""

from html.parser import HTMLParser

import pytest

from blog.database import db
from blog.models import (
    Attachment,
    Category,
    ImportedItem,
    Post,
    Redirect,
    Tag,
    User,
    attachment_use,
)
from blog.wordpress.importer import import_wordpress
from blog.wordpress.wxr import WxrError
from tests.conftest import TEST_PASSWORD_HASH, run_jobs, shared_file

ALL_PLUGINS = ("categories", "related_posts", "comments")


def fixture(name):
    return str(shared_file("fixtures", name))


def counts(app) -> dict:
    from plugins.comments.models import Comment

    with app.app_context():
        return {
            model.__name__: db.session.scalar(db.select(db.func.count()).select_from(model))
            for model in (User, Post, Category, Tag, Attachment, Redirect, ImportedItem, Comment)
        }


def add_owner(app):
    with app.app_context():
        owner = User(username="owner", email="owner@example.com", role="admin")
        owner.password_hash = TEST_PASSWORD_HASH
        db.session.add(owner)
        db.session.commit()


def run_import(app, path, **options):
    with app.app_context():
        return import_wordpress(path, **options)


class BodyCheck(HTMLParser):
    """Collects what must never reach a page from an imported post."""

    def __init__(self):
        super().__init__()
        self.problems = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "iframe", "object", "embed", "form", "input"):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"{tag} {name}=")
            if name in ("href", "src") and (value or "").strip().lower().startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                self.problems.append(f"{tag} {name}={value}")


def post_body(page: str) -> str:
    start = page.index('<div class="post-body">')
    return page[start : page.index("</article>", start)]


def test_wordpress_export_fixture_is_all_accounted_for(make_app):
    """wordpress-export.xml: 1,004 posts, 2 pages (one a draft), 2 authors, 12 categories,
    28 tags, 5 comments (one a threaded reply)."""
    app = make_app(ALL_PLUGINS)

    summary = run_import(app, fixture("wordpress-export.xml"))

    assert summary.created["posts"] == 1004
    assert summary.created["pages"] == 2
    assert summary.created["authors"] == 2
    assert summary.created["categories"] == 12
    assert summary.created["tags"] == 28
    assert summary.created["comments"] == 5
    assert not summary.skipped
    found = counts(app)
    assert (found["Post"], found["User"], found["Category"], found["Tag"], found["Comment"]) == (
        1006,
        2,
        12,
        28,
        5,
    )
    with app.app_context():
        from plugins.comments.models import Comment

        replies = db.session.scalars(db.select(Comment).where(Comment.parent_id.is_not(None)))
        assert [reply.parent.post_id == reply.post_id for reply in replies] == [True]
        assert db.session.scalar(db.select(Post).where(Post.type == "page", Post.status == "draft"))
        slugs = db.session.execute(db.select(Post.slug, Post.status)).all()
        imported_users = db.session.scalars(db.select(User)).all()
        assert all(not user.check_password("") for user in imported_users)
        assert all(user.password_hash == "" for user in imported_users)

    # Every imported post and page answers 200: published ones to anyone,
    # the rest to an admin; no body carries script.
    add_owner(app)
    client = app.test_client()
    for slug, status in slugs:
        if status != "published":
            continue
        response = client.get(f"/{slug}/")
        assert response.status_code == 200, slug
    client.post("/login", data={"username": "owner", "password": "password123"})
    for slug, status in slugs:
        if status != "published":
            assert client.get(f"/{slug}/").status_code == 200, slug


def test_the_reference_article_comes_over_with_its_box_and_comments(make_app):
    # Four posts are too few for the themes to mean much: take every pick.
    app = make_app(ALL_PLUGINS, related_posts={"min_score": 0.0})
    summary = run_import(app, fixture("wordpress-seed.xml"))
    client = app.test_client()

    page = client.get("/iraq-hosts-both-u-s-and-iranian-backed-forces-its-getting-tense/").text

    assert summary.created["posts"] == 4
    assert summary.created["comments"] == 5
    assert '<a href="/category/world-news/"' in page
    assert "Iraq cannot be a mailbox for messages between other capitals." in page
    assert page.count('<article class="comment"') + page.count('class="comment ') >= 1
    box = page[page.index('<section class="related-posts"') :]
    assert box.count("<li") >= 3
    with app.app_context():
        world = db.session.scalar(db.select(Category).where(Category.slug == "world-news"))
        assert world.description == "International news and analysis."


def test_theme_unit_test_data_every_piece_accounted_for(make_app):
    """The theme unit test data: 58 posts, 21 pages, 37 attachments, 70 menu items (of
    five menus), 33 comments, 68 categories, 110 tags (and 4 tags only named on posts)."""
    app = make_app(ALL_PLUGINS)

    summary = run_import(app, fixture("themeunittestdata.wordpress.xml"))

    assert summary.total("posts") == summary.created["posts"] == 58
    assert summary.total("pages") == summary.created["pages"] == 21
    assert summary.total("attachments") == summary.created["attachments"] == 37
    assert summary.total("comments") == 33
    assert summary.created["comments"] == 29
    assert summary.skipped["comments"] == {"pingbacks and trackbacks are not kept": 4}
    assert summary.created["categories"] == 68
    assert summary.created["tags"] == 114
    assert summary.total("menu items") == 70  # tests/test_menus.py: where they go
    assert summary.total("other items") == 0
    lines = "\n".join(summary.lines())
    assert "had a password in WordPress; imported as private" in lines

    with app.app_context():
        posts = [(p.path, p.status, p.type) for p in db.session.scalars(db.select(Post))]
        statuses = {status for _, status, _ in posts}
        assert {"published", "draft", "scheduled", "private"} <= statuses
        protected = db.session.scalar(
            db.select(Post).where(Post.title.like("%Password Protected%"))
        )
        assert protected.status == "private"
        child = db.session.scalar(db.select(Category).where(Category.slug == "child-category-01"))
        assert child.parent.slug == "parent-category"
        sticky = db.session.scalars(db.select(Post).where(Post.sticky.is_(True))).all()
        assert [post.title for post in sticky] == ["Template: Sticky"]
        featured = db.session.scalars(
            db.select(Post).where(Post.featured_image_id.is_not(None))
        ).all()
        assert featured and all(post.featured_image.url.startswith("https://") for post in featured)
        more = db.session.scalar(db.select(Post).where(Post.title == "Template: More Tag"))
        assert more.summary == (
            "This content is before the more tag. Right after this sentence should be a "
            '"continue reading" button of some sort on list pages of themes that show full '
            "content. It won't show on single pages or on themes showing excerpts."
        )
        assert "\n\n<!--more-->\n\nAnd this content is after the more tag." in more.body
        shown = db.session.scalar(
            db.select(db.func.count(attachment_use.c.attachment_id.distinct()))
        )
        assert shown == 37  # the media library knows which posts show each imported file

    add_owner(app)
    client = app.test_client()
    client.post("/login", data={"username": "owner", "password": "password123"})
    for path, _, _ in posts:
        response = client.get(f"/{path}/")
        assert response.status_code == 200, path
        check = BodyCheck()
        check.feed(post_body(response.text))
        assert check.problems == [], path
    home = client.get("/").text
    first = home.index('<article class="post post-summary')
    assert home.startswith('<article class="post post-summary sticky">', first)
    assert home.index("Template: Sticky") < home.index('<article class="post post-summary">')
    # Pages have addresses but stay out of the lists and the feed.
    assert "About The Tests" not in home and "About The Tests" not in client.get("/feed/").text
    assert client.get("/about/").status_code == 200


def test_reimporting_creates_no_duplicates(make_app):
    app = make_app(ALL_PLUGINS)
    run_import(app, fixture("themeunittestdata.wordpress.xml"))
    before = counts(app)

    summary = run_import(app, fixture("themeunittestdata.wordpress.xml"))

    assert counts(app) == before
    assert sum(summary.created.values()) == 0
    assert summary.existing["posts"] == 58
    assert summary.existing["comments"] == 29


def test_a_new_comment_in_a_later_export_is_added(make_app, tmp_path):
    app = make_app(ALL_PLUGINS)
    seed = shared_file("fixtures", "wordpress-seed.xml").read_text()
    first = tmp_path / "first.xml"
    # The first export lacks the last comment of the file.
    last = seed.rindex("<wp:comment>")
    first.write_text(seed[:last] + seed[seed.index("</wp:comment>", last) + len("</wp:comment>") :])
    run_import(app, str(first))

    summary = run_import(app, fixture("wordpress-seed.xml"))

    assert summary.created["comments"] == 1
    assert summary.existing["comments"] == 4
    assert counts(app)["Comment"] == 5


def test_dry_run_reports_and_writes_nothing(make_app):
    app = make_app(ALL_PLUGINS)
    before = counts(app)

    summary = run_import(app, fixture("wordpress-seed.xml"), dry_run=True)

    assert summary.created["posts"] == 4 and summary.created["comments"] == 5
    assert summary.lines()[0].startswith("authors: 1 would be created")
    assert counts(app) == before


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (0.5, "not well-formed XML"),
        (0.999, "not well-formed XML"),
    ],
)
def test_a_truncated_file_changes_nothing_and_names_the_line(make_app, tmp_path, cut, message):
    app = make_app(ALL_PLUGINS)
    text = shared_file("fixtures", "wordpress-seed.xml").read_bytes()
    broken = tmp_path / "broken.xml"
    broken.write_bytes(text[: int(len(text) * cut)])
    before = counts(app)

    with pytest.raises(WxrError, match=rf"^line \d+: {message}"):
        run_import(app, str(broken))

    assert counts(app) == before


def test_an_error_in_the_middle_of_writing_rolls_everything_back(make_app, monkeypatch):
    app = make_app(ALL_PLUGINS)
    before = counts(app)
    calls = []

    def failing_markdown(content, gallery=None):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return content

    monkeypatch.setattr("blog.wordpress.importer.to_markdown", failing_markdown)

    with pytest.raises(RuntimeError):
        run_import(app, fixture("wordpress-seed.xml"))

    assert counts(app) == before


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel>
<wp:wxr_version>1.2</wp:wxr_version>
<item><title>&xxe;</title><wp:post_id>1</wp:post_id><wp:post_type>post</wp:post_type></item>
</channel></rss>
"""

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel>
<wp:wxr_version>1.2</wp:wxr_version>
<item><title>&lol9;</title><wp:post_id>1</wp:post_id><wp:post_type>post</wp:post_type></item>
</channel></rss>
"""


@pytest.mark.parametrize("payload", [XXE, BOMB], ids=["xxe", "billion-laughs"])
def test_xml_attacks_are_refused(make_app, tmp_path, payload):
    app = make_app(ALL_PLUGINS)
    path = tmp_path / "evil.xml"
    path.write_bytes(payload)

    with pytest.raises(WxrError, match="declares a DTD"):
        run_import(app, str(path))

    assert counts(app)["Post"] == 0


def test_a_file_that_is_not_a_wordpress_export_is_refused(make_app, tmp_path):
    app = make_app()
    path = tmp_path / "feed.xml"
    path.write_text('<rss version="2.0"><channel><item><title>x</title></item></channel></rss>')

    with pytest.raises(WxrError, match="not a WordPress export"):
        run_import(app, str(path))


def test_old_links_redirect_to_the_new_addresses(make_app):
    app = make_app(ALL_PLUGINS)
    run_import(app, fixture("themeunittestdata.wordpress.xml"))
    client = app.test_client()

    dated = client.get("/2013/01/11/markup-html-tags-and-formatting/")
    plain = client.get("/?p=1178")

    assert dated.status_code == 301
    assert dated.headers["Location"] == "/markup-html-tags-and-formatting/"
    assert plain.status_code == 301
    assert plain.headers["Location"] == "/markup-html-tags-and-formatting/"
    assert client.get("/2013/01/11/no-such-post/").status_code == 404
    assert client.get("/?p=999999").status_code == 404
    assert client.get("/?p=abc").status_code == 404


def test_wp_old_slug_addresses_redirect(make_app, tmp_path):
    app = make_app()
    path = tmp_path / "old-slug.xml"
    path.write_text(
        """<?xml version="1.0"?>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel>
<wp:wxr_version>1.2</wp:wxr_version><wp:base_blog_url>https://old.example/blog</wp:base_blog_url>
<item><title>Renamed</title><link>https://old.example/blog/2020/05/renamed/</link>
<wp:post_id>5</wp:post_id><wp:post_name>renamed</wp:post_name><wp:status>publish</wp:status>
<wp:post_type>post</wp:post_type>
<wp:postmeta><wp:meta_key>_wp_old_slug</wp:meta_key><wp:meta_value>first-name</wp:meta_value></wp:postmeta>
</item></channel></rss>"""
    )
    run_import(app, str(path))
    client = app.test_client()

    assert client.get("/2020/05/renamed/").headers["Location"] == "/renamed/"
    assert client.get("/2020/05/first-name/").headers["Location"] == "/renamed/"
    assert client.get("/renamed/").status_code == 200


def test_old_addresses_lead_only_to_published_posts(make_app, tmp_path):
    """WordPress ids are easy to count through; a redirect names the post's slug (title)."""
    item = """<item><title>{title}</title><link>https://old.example/2020/05/{slug}/</link>
<wp:post_id>{number}</wp:post_id><wp:post_name>{slug}</wp:post_name>
<wp:status>{status}</wp:status><wp:post_type>post</wp:post_type>
<wp:post_date_gmt>2020-05-01 10:00:00</wp:post_date_gmt>{more}</item>"""
    statuses = {"publish": 1, "draft": 2, "private": 3, "pending": 4}
    items = "".join(
        item.format(title=status, slug=f"{status}-post", number=number, status=status, more="")
        for status, number in statuses.items()
    ) + item.format(title="Secret", slug="secret-post", number=5, status="publish",
                    more="<wp:post_password>sesame</wp:post_password>")  # fmt: skip
    path = tmp_path / "statuses.xml"
    path.write_text(
        '<?xml version="1.0"?><rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/">'
        "<channel><wp:wxr_version>1.2</wp:wxr_version>"
        f"<wp:base_blog_url>https://old.example</wp:base_blog_url>{items}</channel></rss>"
    )
    app = make_app()
    run_import(app, str(path))
    client = app.test_client()

    assert client.get("/?p=1").headers["Location"] == "/publish-post/"
    assert client.get("/2020/05/publish-post/").headers["Location"] == "/publish-post/"
    for number, slug in ((2, "draft"), (3, "private"), (4, "pending"), (5, "secret")):
        hidden = client.get(f"/?p={number}")
        assert hidden.status_code == 404 and f"{slug}-post" not in hidden.text, slug
        assert client.get(f"/2020/05/{slug}-post/").status_code == 404, slug
    assert client.get("/?p=99999999999999999999").status_code == 404


def test_related_posts_are_rebuilt_only_when_an_import_brings_posts(make_app, monkeypatch):
    from plugins.related_posts import index

    app = make_app(ALL_PLUGINS)
    rebuilds = []
    real_rebuild = index.rebuild
    monkeypatch.setattr(index, "rebuild", lambda: rebuilds.append(1) or real_rebuild())

    run_import(app, fixture("wordpress-seed.xml"))
    assert rebuilds == []  # queued: the import does not wait for it
    run_jobs(app)
    assert rebuilds == [1]
    run_import(app, fixture("wordpress-seed.xml"))  # nothing new: the index stays
    run_jobs(app)

    assert rebuilds == [1]


def test_an_attachment_address_of_no_site_or_another_in_disguise_is_skipped(make_app, tmp_path):
    item = """<item><title>{title}</title><wp:post_id>{number}</wp:post_id>
<wp:post_type>attachment</wp:post_type><wp:status>inherit</wp:status>
<wp:attachment_url><![CDATA[{url}]]></wp:attachment_url></item>"""
    addresses = ["https://old.example/wp-content/a.png", "/wp-content/b.png",
                 "//other.example/c.png", "/\\other.example/d.png", "javascript:e.png"]  # fmt: skip
    items = "".join(
        item.format(title=f"File {n}", number=n + 1, url=url) for n, url in enumerate(addresses)
    )
    path = tmp_path / "files.xml"
    path.write_text(
        '<?xml version="1.0"?><rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/">'
        "<channel><wp:wxr_version>1.2</wp:wxr_version>"
        f"<wp:base_blog_url>https://old.example</wp:base_blog_url>{items}</channel></rss>"
    )
    app = make_app()

    summary = run_import(app, str(path))
    with app.app_context():
        kept = db.session.scalars(db.select(Attachment.url).order_by(Attachment.id)).all()

    assert kept == addresses[:2]
    assert summary.skipped["attachments"]["no address for the file"] == 3
