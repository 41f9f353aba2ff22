"""The WordPress import and export as people use them: the command line and the admin page."""

import io

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from blog.database import db
from blog.models import Post, User
from tests.conftest import shared_file

SEED = ("fixtures", "wordpress-seed.xml")


def post_count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(Post.id)))


@pytest.mark.plugins("comments")
def test_cli_import_prints_the_summary(app, runner):
    result = runner.invoke(args=["import", "wordpress", str(shared_file(*SEED))])

    assert result.exit_code == 0, result.output
    assert "posts: 4 created" in result.output
    assert "comments: 5 created" in result.output
    assert post_count(app) == 4


def test_cli_dry_run_changes_nothing(app, runner):
    result = runner.invoke(args=["import", "wordpress", "--dry-run", str(shared_file(*SEED))])

    assert result.exit_code == 0
    assert "Dry run: nothing was written" in result.output
    assert "posts: 4 would be created" in result.output
    assert post_count(app) == 0


def test_cli_import_of_a_broken_file_is_one_line(app, runner, tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_bytes(shared_file(*SEED).read_bytes()[:5000])

    result = runner.invoke(args=["import", "wordpress", str(broken)])

    assert result.exit_code == 1
    error = result.output.strip().splitlines()[-1]
    assert error.startswith(f"Error: {broken}: line ")
    assert error.endswith("nothing was imported")
    assert post_count(app) == 0


def test_cli_export_writes_the_file(app, runner, add_post, tmp_path):
    add_post(title="Out it goes", status="published")
    target = tmp_path / "site.xml"

    result = runner.invoke(args=["export", "wordpress", str(target)])

    assert result.exit_code == 0
    assert "1 posts" in result.output
    assert "<title>Out it goes</title>" in target.read_text()
    assert not (tmp_path / "site.xml.partial").exists()


def test_cli_export_to_an_unwritable_place_is_one_line(app, runner, tmp_path):
    result = runner.invoke(args=["export", "wordpress", str(tmp_path / "missing" / "site.xml")])

    assert result.exit_code != 0
    assert "Error" in result.output


def test_the_import_page_is_for_admins_only(client, add_user, auth):
    add_user("bob", role="editor")
    auth.login("bob")

    assert client.get("/admin/import-export").status_code == 403
    assert client.post("/admin/export/wordpress.xml").status_code == 403


@pytest.mark.plugins("comments")
def test_upload_shows_progress_and_the_summary(app, client, add_user, auth):
    add_user("alice", role="admin")
    auth.login("alice")
    upload = (io.BytesIO(shared_file(*SEED).read_bytes()), "export.xml")

    response = client.post(
        "/admin/import-export", data={"file": upload}, content_type="multipart/form-data"
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (
        '<div class="import-log" role="status"><p>4 of 4 posts and pages, 5 comments…</p>' in page
    )
    assert "Import finished" in page
    assert "<li>posts: 4 created</li>" in page
    assert post_count(app) == 4


def test_upload_dry_run_changes_nothing(app, client, add_user, auth):
    add_user("alice", role="admin")
    auth.login("alice")
    upload = (io.BytesIO(shared_file(*SEED).read_bytes()), "export.xml")

    response = client.post(
        "/admin/import-export",
        data={"file": upload, "dry_run": "y"},
        content_type="multipart/form-data",
    )

    assert "Dry run finished: nothing was changed" in response.get_data(as_text=True)
    assert post_count(app) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose the .xml file"),
        ({"file": (io.BytesIO(b"<html>no</html>"), "x.xml")}, "expected an &lt;rss&gt; document"),
        ({"file": (io.BytesIO(b"\x89PNG..."), "x.png")}, "not well-formed XML"),
    ],
)
def test_upload_of_a_bad_file_is_refused_with_a_reason(app, client, add_user, auth, data, message):
    add_user("alice", role="admin")
    auth.login("alice")

    response = client.post("/admin/import-export", data=data, content_type="multipart/form-data")

    assert response.status_code == 422
    assert message in response.text
    assert post_count(app) == 0


def test_export_download(client, add_user, add_post, auth):
    add_user("alice", role="admin")
    add_post(title="Downloaded", status="published")
    auth.login("alice")

    with client.post("/admin/export/wordpress.xml") as response:
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment; filename=pressroom-")
        assert b"<title>Downloaded</title>" in response.data


def test_an_imported_author_sets_a_password_through_a_link(app, client, runner, add_user, auth):
    runner.invoke(args=["import", "wordpress", str(shared_file(*SEED))])
    assert auth.login("newsconquest", "").status_code == 422  # no password: cannot log in

    result = runner.invoke(args=["user", "password-link", "newsconquest"])
    link = result.output.strip()
    path = link.removeprefix("http://blog.test")
    assert result.exit_code == 0 and path.startswith("/password/")
    short = client.post(path, data={"password": "short", "confirm": "short"})
    chosen = client.post(path, data={"password": "a long secret", "confirm": "a long secret"})
    auth.logout()

    assert short.status_code == 422
    assert chosen.status_code == 302
    assert auth.login("newsconquest", "a long secret").status_code == 302
    assert client.get(path).status_code == 404  # used once: the password changed
    assert client.get("/password/forged-token").status_code == 404


def test_admins_make_password_links_on_the_user_page(app, client, add_user, auth):
    add_user("alice", role="admin")
    bob = add_user("bob", role="author")
    auth.login("alice")

    page = client.post(f"/admin/users/{bob}/password-link").text

    assert 'value="http://blog.test/password/' in page
    with app.app_context():
        assert db.session.get(User, bob).username == "bob"


@pytest.mark.plugins("comments")
def test_imported_pages_and_private_posts_keep_their_kind_when_edited(app, client, runner, auth):
    runner.invoke(
        args=["import", "wordpress", str(shared_file("fixtures", "wordpress-export.xml"))]
    )
    with app.app_context():
        owner = User(username="owner", email="owner@example.com", role="admin")
        owner.set_password("a long secret")
        db.session.add(owner)
        page = db.session.scalar(db.select(Post).where(Post.type == "page"))
        page.status = "private"
        db.session.commit()
        page_id, slug = page.id, page.slug
    auth.login("owner", "a long secret")

    form = client.get(f"/admin/posts/{page_id}/edit").text
    saved = client.post(
        f"/admin/posts/{page_id}/edit",
        data={"title": "Edited page", "body": "New words", "status": "private", "save": "Save"},
    )

    assert '<option selected value="private">Private</option>' in form
    assert saved.status_code == 302
    with app.app_context():
        edited = db.session.get(Post, page_id)
        assert (edited.type, edited.status, edited.title) == ("page", "private", "Edited page")
    auth.logout()
    assert client.get(f"/{slug}/").status_code == 404  # private: not for visitors


def test_an_upload_larger_than_the_site_wide_limit_reaches_the_importer(
    app, client, add_user, auth
):
    add_user("alice", role="admin")
    auth.login("alice")
    big = FileStorage(io.BytesIO(b"\n" * (app.config["MAX_CONTENT_LENGTH"] + 1024)), "big.xml")
    # Encoded here, in memory: the test client's own encoder leaves a temporary file open.
    boundary, body = encode_multipart(MultiDict({"file": big}))

    response = client.post(
        "/admin/import-export",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )

    assert response.status_code == 422  # read and refused as XML, not 413 Too Large
    assert "not well-formed XML" in response.text or "Document is empty" in response.text
