"""The navigation menu (#16): built at /admin/menu from pages, categories, tags and links,
in order with one level of nesting; shown on every page, fresh after every change."""

import re

import pytest

from blog.database import db
from blog.editing import PostData, delete_post, save_post
from blog.models import Category, MenuItem, Post, Tag, User
from blog.wordpress.exporter import export_wordpress
from blog.wordpress.importer import import_wordpress
from tests.conftest import shared_file


def nav(html: str) -> list[str]:
    """The site navigation's links, as 'label -> address', nested ones indented."""
    block = re.search(r'<nav class="site-nav".*?</nav>', html, re.S).group(0)
    links, depth = [], 0
    for token in re.finditer(r"<ul>|</ul>|<a href=\"([^\"]*)\">([^<]*)</a>", block):
        if token.group(0) == "<ul>":
            depth += 1
        elif token.group(0) == "</ul>":
            depth -= 1
        else:
            links.append("  " * (depth - 1) + f"{token.group(2)} -> {token.group(1)}")
    return links


def make(app, add_user):
    """A page under a page, a draft page, a category with a post, a tag."""
    with app.app_context():
        ann = db.session.get(User, add_user("ann", role="admin"))
        news = Category(name="World News", slug="world-news")
        quiet = Category(name="Quiet", slug="quiet")
        tag = Tag(name="Elections", slug="elections")
        db.session.add_all([news, quiet, tag])
        db.session.commit()
        about = save_post(PostData(title="About", type="page", status="published"), ann)
        team = save_post(
            PostData(title="Team", type="page", status="published", parent_id=about.id), ann
        )
        draft = save_post(PostData(title="Secret", type="page"), ann)
        save_post(PostData(title="A story", status="published", categories=[news], tags=[tag]), ann)
        return {"about": about.id, "team": team.id, "draft": draft.id, "news": news.id,
                "quiet": quiet.id, "tag": tag.id}  # fmt: skip


def add(client, **form):
    return client.post("/admin/menu", data={"target": "", "url": "", "label": "", **form})


def act(client, app, name, action, **form):
    """Press a button of the item called `name` (its label, or its target's title or name)."""
    with app.app_context():
        for item in db.session.scalars(db.select(MenuItem)):
            target = item.post or item.category or item.tag
            names = (item.label, getattr(target, "title", None), getattr(target, "name", None))
            if name in names:
                return client.post(f"/admin/menu/{item.id}", data={"action": action, **form})
    raise AssertionError(f"no menu item {name!r}")


@pytest.mark.plugins("categories")
def test_a_menu_replaces_the_categories_and_keeps_its_order_and_nesting(app, client, add_user):
    ids = make(app, add_user)
    client.post("/login", data={"username": "ann", "password": "password123"})
    # Before there is a menu: the categories with posts.
    assert nav(client.get("/").text) == ["Home -> /", "World News -> /category/world-news/"]

    assert add(client, target=f"post:{ids['about']}").status_code == 302
    add(client, target=f"post:{ids['team']}", label="Our team")
    add(client, target=f"category:{ids['quiet']}")
    add(client, target=f"tag:{ids['tag']}")
    add(client, url="https://example.org/rss", label="Elsewhere")
    add(client, target=f"post:{ids['draft']}")
    act(client, app, "Our team", "indent")
    act(client, app, "Elsewhere", "up")

    assert nav(client.get("/").text) == [
        "Home -> /",
        "About -> /about/",
        "  Our team -> /about/team/",
        "Quiet -> /category/quiet/",
        "Elsewhere -> https://example.org/rss",
        "Elections -> /tag/elections/",
    ]  # the draft page is not shown, though it is in the menu
    admin = client.get("/admin/menu").text
    assert "Page: Secret, draft: not shown" in admin

    act(client, app, "Our team", "outdent")
    act(client, app, "About", "remove")
    act(client, app, "Quiet", "rename", label="Calm")
    assert nav(client.get("/").text)[:3] == [
        "Home -> /",
        "Our team -> /about/team/",
        "Calm -> /category/quiet/",
    ]


@pytest.mark.plugins("categories")
@pytest.mark.config(CACHE={"pages": True})
def test_readers_see_a_changed_menu_and_a_renamed_page_at_once(app, client, add_user):
    ids = make(app, add_user)
    admin = app.test_client()
    admin.post("/login", data={"username": "ann", "password": "password123"})
    add(admin, target=f"post:{ids['team']}")
    # A post's page (kept until that post changes) with the navigation worked out before,
    # for another page: it loads no menu page of its own, so only the menu can tell it.
    client.get("/archive/")
    assert "Team -> /about/team/" in nav(client.get("/a-story/").text)
    assert client.get("/a-story/").headers.get("X-Page-Cache") == "hit"

    with app.app_context():  # the page in the menu gets a new title and its parent a slug
        about = db.session.get(Post, ids["about"])
        ann = db.session.scalar(db.select(User))
        save_post(PostData(title="About us", slug="us", type="page", status="published"), ann,
                  post=about)  # fmt: skip
        team = db.session.get(Post, ids["team"])
        save_post(PostData(title="The team", type="page", status="published"), ann, post=team)
    assert "The team -> /us/team/" in nav(client.get("/a-story/").text)

    act(admin, app, "The team", "remove")
    assert nav(client.get("/").text) == ["Home -> /", "World News -> /category/world-news/"]


@pytest.mark.plugins()
def test_a_category_item_needs_a_plugin_that_serves_category_pages(app, client, add_user):
    ids = make(app, add_user)
    client.post("/login", data={"username": "ann", "password": "password123"})
    add(client, target=f"category:{ids['news']}")
    add(client, target=f"tag:{ids['tag']}")
    assert nav(client.get("/").text) == ["Home -> /", "Elections -> /tag/elections/"]


def test_bad_items_are_refused_with_the_reason(app, client, add_user):
    make(app, add_user)
    client.post("/login", data={"username": "ann", "password": "password123"})
    for form, message in [
        ({"url": "javascript:alert(1)", "label": "x"}, "Give an address starting with https://"),
        ({"url": "//evil.example/", "label": "x"}, "Give an address starting with https://"),
        ({"url": "https://example.org/"}, "Give the link a label."),
        ({"target": "post:999999"}, "That page, category or tag is not there any more."),
        ({"target": "user:1"}, "That page, category or tag is not there any more."),
        ({"url": "/about/", "label": "x" * 201}, "Field cannot be longer than 200 characters."),
    ]:
        response = add(client, **form)
        assert response.status_code == 422 and message in response.text, form
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(MenuItem.id))) == 0
    add(client, url="/about/", label="First")
    refused = act(client, app, "First", "indent")
    assert refused.status_code == 302
    assert "The first item has no item above it to go under." in client.get("/admin/menu").text


def test_a_deleted_page_leaves_the_menu_and_its_items_come_up(app, client, add_user):
    ids = make(app, add_user)
    client.post("/login", data={"username": "ann", "password": "password123"})
    add(client, target=f"post:{ids['about']}")
    add(client, url="/archive/", label="Archive")
    act(client, app, "Archive", "indent")
    with app.app_context():
        delete_post(db.session.get(Post, ids["about"]))
    assert nav(client.get("/").text) == ["Home -> /", "Archive -> /archive/"]

    add(client, target=f"post:{ids['team']}")
    add(client, url="/search", label="Search")
    act(client, app, "Search", "indent")
    act(client, app, "Team", "remove")  # removed by hand: what was under it comes up
    assert nav(client.get("/").text) == ["Home -> /", "Archive -> /archive/", "Search -> /search"]


def test_only_admins_edit_the_menu(app, client, add_user):
    add_user("ed", role="editor")
    client.post("/login", data={"username": "ed", "password": "password123"})
    assert client.get("/admin/menu").status_code == 403
    assert add(client, url="/x/", label="x").status_code == 403


THEME_DATA = ("fixtures", "themeunittestdata.wordpress.xml")


@pytest.mark.plugins("categories")
def test_a_wordpress_menu_comes_over_nested_one_level(app, client):
    with app.app_context():
        summary = import_wordpress(str(shared_file(*THEME_DATA)))

    # Five menus in the export: the largest comes over, and the summary says so.
    assert summary.created["menu items"] == 23
    skipped = summary.skipped["menu items"]
    assert skipped["in menu 'All Pages' (one menu comes over: the largest, 'Testing Menu')"] == 18
    assert sum(skipped.values()) == 70 - 23
    links = nav(client.get("/").text)
    assert links[:5] == [
        "Home -> /",
        "Pages -> #",  # a heading for the items under it, as WordPress has it
        "  Page Image Alignment -> /about/page-image-alignment/",
        "  Page Markup And Formatting -> /about/page-markup-and-formatting/",
        "Categories -> #",
    ]
    # "Depth" nests ten levels in WordPress: here they all sit under it, in order.
    depth = links.index("Depth -> #")
    assert links[depth + 1 : depth + 11] == [f"  Level {n:02d} -> #" for n in range(1, 11)]
    assert "  New Window / Tab -> https://wordpressfoundation.org/" in links

    # Imported again: the menu is there already, and is left alone.
    with app.app_context():
        again = import_wordpress(str(shared_file(*THEME_DATA)))
    assert again.skipped["menu items"] == {"the site has a menu already": 70}
    assert nav(client.get("/").text) == links


@pytest.mark.plugins("categories")
def test_the_menu_leaves_in_the_export_and_comes_back(app, make_app, client, add_user, tmp_path):
    ids = make(app, add_user)
    client.post("/login", data={"username": "ann", "password": "password123"})
    add(client, target=f"post:{ids['about']}", label="Who we are")
    add(client, target=f"post:{ids['team']}")
    add(client, target=f"category:{ids['news']}")
    add(client, target=f"tag:{ids['tag']}")
    add(client, url="https://example.org/", label="Friends")
    act(client, app, "Team", "indent")
    act(client, app, "Friends", "indent")
    before = nav(client.get("/").text)
    exported = tmp_path / "site.xml"
    with app.app_context(), exported.open("wb") as out:
        counts = export_wordpress(out)
    assert counts["menu items"] == 5

    copy = make_app(("categories",))
    with copy.app_context():
        summary = import_wordpress(str(exported))
    assert summary.created["menu items"] == 5
    assert (
        nav(copy.test_client().get("/").text)
        == before
        == [
            "Home -> /",
            "Who we are -> /about/",
            "  Team -> /about/team/",
            "World News -> /category/world-news/",
            "Elections -> /tag/elections/",
            "  Friends -> https://example.org/",
        ]
    )


MENU_ITEM = """<item><title>{title}</title><wp:post_id>{id}</wp:post_id>
  <wp:status>publish</wp:status><wp:menu_order>{id}</wp:menu_order>
  <wp:post_type>nav_menu_item</wp:post_type>
  <category domain="nav_menu" nicename="main"><![CDATA[Main]]></category>
  <wp:postmeta><wp:meta_key>_menu_item_type</wp:meta_key><wp:meta_value>custom</wp:meta_value></wp:postmeta>
  <wp:postmeta><wp:meta_key>_menu_item_object</wp:meta_key><wp:meta_value>custom</wp:meta_value></wp:postmeta>
  <wp:postmeta><wp:meta_key>_menu_item_url</wp:meta_key><wp:meta_value>{url}</wp:meta_value></wp:postmeta>
</item>"""


def test_an_imported_menu_runs_nothing(app, client, tmp_path):
    from xml.sax.saxutils import escape

    from tests.test_hooks import WXR, import_text

    links = [
        ('<img src=x onerror="alert(1)">Hi', "http://old.test/about/"),
        ("Long " * 100, "/archive/"),  # a label past 200 characters is cut, not refused
        ("Run", "javascript:alert(1)"),
        ("Data", "data:text/html,<script>alert(1)</script>"),
        ("Elsewhere", "//evil.example/"),
    ]
    items = "".join(
        MENU_ITEM.format(id=number, title=escape(title), url=escape(url))
        for number, (title, url) in enumerate(links, start=1)
    )
    summary = import_text(app, tmp_path, WXR.format(items=items))

    assert summary.created["menu items"] == 2
    assert summary.skipped["menu items"] == {
        "a link to an address that is not http(s) or of this site": 3
    }
    html = client.get("/").text
    assert "Hi -> /about/" in nav(html)  # the old site's own page, as a path here
    assert "onerror" not in html and "javascript:" not in html and "evil.example" not in html
