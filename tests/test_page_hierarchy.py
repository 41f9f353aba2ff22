"""Pages under pages, as in WordPress: /parent/child/, the old address redirecting, the
order among a parent's pages; kept by the editor, the WordPress import and export."""

import pytest

from blog.database import db
from blog.editing import PostData, PostError, delete_post, save_post
from blog.models import Post, User
from blog.wordpress.exporter import export_wordpress
from blog.wordpress.importer import import_wordpress
from tests.conftest import shared_file
from tests.test_hooks import WXR, import_text


def new_page(writer, title, parent=0, order=0, status="published", **extra):
    """A page made in the editor; its id."""
    form = {"title": title, "body": f"About {title}.", "type": "page", "status": status,
            "parent_id": parent, "menu_order": order, "save_draft" if status == "draft"
            else "publish": "Go", **extra}  # fmt: skip
    response = writer.post("/admin/posts/new", data=form)
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].split("/")[-2])


def edit(writer, app, page_id, **changes):
    with app.app_context():
        page = db.session.get(Post, page_id)
        form = {"title": page.title, "body": page.body, "slug": page.slug, "type": page.type,
                "status": page.status, "parent_id": page.parent_id or 0,
                "menu_order": page.menu_order, "version": page.version}  # fmt: skip
    form.update(changes)
    return writer.post(f"/admin/posts/{page_id}/edit", data=form)


def test_a_child_page_lives_under_its_parent_and_its_old_address_redirects(app, writer):
    about = new_page(writer, "About")
    team = new_page(writer, "Team")
    assert writer.get("/team/").status_code == 200

    assert edit(writer, app, team, parent_id=about).status_code == 302
    writer.post("/logout")

    page = writer.get("/about/team/")
    assert page.status_code == 200 and "About Team." in page.text
    assert '<link rel="canonical" href="http://blog.test/about/team/">' in page.text
    moved = writer.get("/team/?cpage=2")  # its address before it had a parent
    assert moved.status_code == 301 and moved.headers["Location"] == "/about/team/?cpage=2"
    assert writer.get("/anything/team/").headers["Location"] == "/about/team/"
    assert "http://blog.test/about/team/" in writer.get("/sitemap.xml").text


def test_three_levels_and_a_renamed_parent(app, writer):
    one = new_page(writer, "Level 1")
    two = new_page(writer, "Level 2", parent=one)
    three = new_page(writer, "Level 3", parent=two)
    assert writer.get("/level-1/level-2/level-3/").status_code == 200

    assert edit(writer, app, one, slug="first-level").status_code == 302

    assert writer.get("/first-level/level-2/level-3/").status_code == 200
    old = writer.get("/level-1/level-2/level-3/")
    assert old.status_code == 301 and old.headers["Location"] == "/first-level/level-2/level-3/"
    with app.app_context():
        assert db.session.get(Post, three).path == "first-level/level-2/level-3"


def test_a_page_cannot_sit_under_itself_or_below_itself(app, writer):
    one = new_page(writer, "Level 1")
    two = new_page(writer, "Level 2", parent=one)

    for parent in (one, two):
        refused = edit(writer, app, one, parent_id=parent)
        assert refused.status_code == 422
        assert "A page cannot sit under itself or under a page below it." in refused.text
    # A page below it is not even offered.
    editor = writer.get(f"/admin/posts/{one}/edit").text
    assert f'<option value="{two}"' not in editor and f'<option value="{one}"' not in editor
    assert f'value="{one}">Level 1</option>' in writer.get(f"/admin/posts/{two}/edit").text

    post = writer.post("/admin/posts/new", data={"title": "A post", "publish": "Go"})
    post_id = int(post.headers["Location"].split("/")[-2])
    assert edit(writer, app, two, parent_id=post_id).status_code == 422  # not a page
    assert edit(writer, app, two, menu_order="99999999999").status_code == 422
    with app.app_context():
        assert db.session.get(Post, one).parent_id is None
        assert db.session.get(Post, two).parent_id == one


def test_only_pages_have_parents(app, add_user):
    with app.app_context():
        user = db.session.get(User, add_user("ann", role="admin"))
        page = save_post(PostData(title="Home base", type="page", status="published"), user)
        post = save_post(PostData(title="News", parent_id=page.id, status="published"), user)
        assert post.parent_id is None and post.path == "news"
        child = save_post(
            PostData(title="Child", type="page", parent_id=page.id, status="published"), user
        )
        assert child.path == "home-base/child"
        # Made a post, it leaves its parent (and its address is /child/ again).
        data = PostData(title="Child", type="post", status="published")
        assert save_post(data, user, post=child).path == "child"
        with pytest.raises(PostError, match="Choose a page"):
            save_post(PostData(title="X", type="page", parent_id=10**6), user)


def test_an_unpublished_parent_is_left_out_of_the_address(app, writer, client):
    secret = new_page(writer, "Secret plans", status="draft")
    child = new_page(writer, "Public child", parent=secret)
    with app.app_context():
        assert db.session.get(Post, child).path == "public-child"
    writer.post("/logout")
    assert client.get("/public-child/").status_code == 200
    assert client.get("/secret-plans/public-child/").headers["Location"] == "/public-child/"
    assert "secret-plans" not in client.get("/sitemap.xml").text

    client.post("/login", data={"username": "alice", "password": "password123"})
    assert edit(writer, app, secret, status="published").status_code == 302
    writer.post("/logout")
    assert client.get("/secret-plans/public-child/").status_code == 200
    assert client.get("/public-child/").headers["Location"] == "/secret-plans/public-child/"


def test_deleting_a_parent_brings_its_children_up(app, writer):
    about = new_page(writer, "About")
    team = new_page(writer, "Team", parent=about)
    with app.app_context():
        delete_post(db.session.get(Post, about))
    with app.app_context():
        assert db.session.get(Post, team).parent_id is None
    assert writer.get("/team/").status_code == 200
    assert writer.get("/about/team/").headers["Location"] == "/team/"


def test_a_post_at_a_longer_path_is_not_found_unless_it_lived_there(app, writer, client):
    writer.post("/admin/posts/new", data={"title": "A post", "publish": "Go"})
    writer.post("/logout")
    assert client.get("/a-post/").status_code == 200
    assert client.get("/2024/01/a-post/").status_code == 404
    assert client.get("/no/such/page/").status_code == 404


THEME_DATA = ("fixtures", "themeunittestdata.wordpress.xml")


@pytest.mark.skipif(not shared_file(*THEME_DATA).exists(), reason="no theme unit test data")
def test_the_theme_unit_test_pages_keep_their_tree_and_order(app, client, tmp_path):
    with app.app_context():
        summary = import_wordpress(str(shared_file(*THEME_DATA)))
    assert not [note for note in summary.notes if "parent" in note]

    for path in ("level-1/level-2/level-3", "level-1/level-2a", "about/clearing-floats",
                 "greek/epipedo-2/epipedo-3"):  # fmt: skip
        assert client.get(f"/{path}/").status_code == 200, path
    assert client.get("/level-3/").headers["Location"] == "/level-1/level-2/level-3/"
    old = client.get("/greek/επίπεδο-2/επίπεδο-3/")  # its WordPress address
    assert old.status_code == 301 and old.headers["Location"] == "/greek/epipedo-2/epipedo-3/"
    with app.app_context():
        orders = dict(db.session.execute(db.select(Post.slug, Post.menu_order)).all())
        assert (orders["about"], orders["lorem-ipsum"], orders["level-1"]) == (1, 7, 5)

    # Exported and imported again into an empty site: the same tree and order.
    exported = tmp_path / "export.xml"
    with app.app_context(), exported.open("wb") as out:
        export_wordpress(out)
    with app.app_context():
        before = {post.slug: (post.path, post.menu_order) for post in db.session.scalars(
            db.select(Post).where(Post.type == "page"))}  # fmt: skip
        for post in db.session.scalars(db.select(Post)).all():
            delete_post(post)
        import_wordpress(str(exported))
        after = {post.slug: (post.path, post.menu_order) for post in db.session.scalars(
            db.select(Post).where(Post.type == "page"))}  # fmt: skip
    assert after == before and before["level-3"] == ("level-1/level-2/level-3", 0)


PAGE = """<item><title>{title}</title><link>http://old.test/{slug}/</link>
  <wp:post_id>{id}</wp:post_id><wp:post_name>{slug}</wp:post_name><wp:status>publish</wp:status>
  <wp:post_parent>{parent}</wp:post_parent><wp:menu_order>{order}</wp:menu_order>
  <wp:post_type>page</wp:post_type><content:encoded>Words.</content:encoded></item>"""


def test_an_import_with_broken_parents_keeps_those_pages_at_the_top(app, tmp_path):
    items = "".join(PAGE.format(**page) for page in [
        {"title": "Loop A", "slug": "loop-a", "id": 1, "parent": 2, "order": -3},
        {"title": "Loop B", "slug": "loop-b", "id": 2, "parent": 1, "order": 99999999999},
        {"title": "Orphan", "slug": "orphan", "id": 3, "parent": 404, "order": 0},
    ])  # fmt: skip
    summary = import_text(app, tmp_path, WXR.format(items=items))

    assert "page 'Orphan': its parent page is not in the export; kept at the top level" in (
        summary.notes
    )
    assert "page 'Loop B': its parents go round in a loop; kept at the top level" in summary.notes
    with app.app_context():
        pages = {post.slug: post for post in db.session.scalars(db.select(Post))}
        assert pages["loop-a"].path == "loop-b/loop-a" and pages["loop-b"].path == "loop-b"
        assert pages["orphan"].path == "orphan"
        assert (pages["loop-a"].menu_order, pages["loop-b"].menu_order) == (-3, 2**31 - 1)


def test_a_redirect_keeps_any_query_as_it_was_read(app, writer, client):
    about = new_page(writer, "About")
    new_page(writer, "Team", parent=about)
    writer.post("/logout")

    moved = client.get("/team/?cpage=2&tag=a&tag=b&x=%FF%FE", headers={"Accept": "text/html"})
    assert moved.status_code == 301
    assert moved.headers["Location"].startswith("/about/team/?cpage=2&tag=a&tag=b&x=")
    # Bytes that are not UTF-8, as a raw request may carry them.
    raw = client.get("/team/", environ_overrides={"QUERY_STRING": "x=\xff\xfe"})
    assert raw.status_code == 301
