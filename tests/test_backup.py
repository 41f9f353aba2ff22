"""`flask --app app backup FILE` / `restore FILE`: a site with every kind of content goes
through one file and comes back the same, SQLite to SQLite, SQLite to PostgreSQL and
PostgreSQL to SQLite; a damaged or foreign file is refused with nothing changed; an
older backup is upgraded; a backup taken during a burst of writes is one snapshot."""

import io
import json
import threading
import zipfile
from pathlib import Path

import flask_migrate
import pytest
from PIL import Image
from sqlalchemy import inspect, select

from blog import backup as backups
from blog import menus
from blog.accounts import create_account
from blog.database import db
from blog.editing import PostData, categories_from_names, save_post, tags_from_names
from blog.media.storage import store_image
from blog.models import User
from plugins.comments.models import Comment
from tests.conftest import ON_POSTGRES

PASSWORD = "a long enough password"


def png(colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (900, 600), colour).save(out, "PNG")
    return out.getvalue()


def fill(app) -> None:
    """Every kind of content: users with passwords, posts, pages (one under a page made
    after it, as an import makes them), a draft with revisions, categories (one a child),
    tags, threaded comments, an image shown as a post's image, related-posts data, and a
    menu (an item under one made after it)."""
    with app.app_context():
        ann = create_account("ann", "ann@example.com", role="admin", password=PASSWORD)
        bob = create_account("bob", "bob@example.com", role="author", password=PASSWORD)
        db.session.commit()
        image = store_image(png(), "harbour.png", "The harbour at dawn", ann)
        news = categories_from_names(["News"], create=True)
        posts = []
        for number, (title, body) in enumerate(
            [
                ("Harbour strike ends", "Dockers voted to return to work at the harbour."),
                ("Ferry timetable changes", "The harbour ferry runs every hour from May."),
                ("Lighthouse restored", "The old lighthouse at the harbour shines again."),
                ("Recipe: fish soup", "Fish from the harbour market, slowly simmered."),
            ]
        ):
            posts.append(
                save_post(
                    PostData(
                        title=title,
                        body=body,
                        status="published",
                        categories=news,
                        tags=tags_from_names(["harbour", f"tag{number}"]),
                        featured_image_id=image.id if number == 0 else None,
                    ),
                    ann if number % 2 == 0 else bob,
                )  # fmt: skip
            )
        child = categories_from_names(["Local"], create=True)[0]
        child.parent_id = news[0].id
        team = save_post(PostData(title="Team", body="Who we are.", status="published",
                                  type="page"), ann)  # fmt: skip
        about = save_post(PostData(title="About", body="Who writes here.", status="published",
                                   type="page"), ann)  # fmt: skip
        save_post(PostData(title="Team", body="Who we are.", status="published", type="page",
                           parent_id=about.id), ann, post=team)  # fmt: skip
        team_item, about_item = menus.append(team, ""), menus.append(about, "Who")
        menus.move(about_item, -1)
        menus.indent(team_item)  # under the About item, made after it
        menus.append(news[0], "")
        draft = save_post(PostData(title="Draft", body="First words."), bob)
        save_post(PostData(title="Draft", body="Second words.", slug=draft.slug), bob, post=draft)
        first = Comment(post_id=posts[0].id, author_name="Reader", author_email="r@example.com",
                        body="Good news.", body_html="<p>Good!</p>", status="approved")  # fmt: skip
        db.session.add(first)
        db.session.flush()
        db.session.add(
            Comment(
                post_id=posts[0].id,
                parent_id=first.id,
                author_name="Ann",
                author_email="ann@example.com",
                body="Thanks!",
                body_html="<p>Thanks!</p>",
                status="approved",
            )  # fmt: skip
        )
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["related_posts", "rebuild"])
    assert result.exit_code == 0, result.output


def contents(app) -> dict:
    """Every data table, row by row, as values comparable across engines."""
    with app.app_context(), db.engine.connect() as connection:
        found = {}
        for table in backups.data_tables(connection):
            order = list(table.primary_key.columns) or list(table.columns)
            rows = connection.execute(select(table).order_by(*order))
            found[table.name] = [
                {key: backups.encode(value) for key, value in row._mapping.items()} for row in rows
            ]
        return found


def files(app) -> dict:
    root = Path(app.instance_path, "uploads")
    return {path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}  # fmt: skip


def related_box(app) -> str:
    page = app.test_client().get("/harbour-strike-ends/").text
    return page.partition('<section class="related-posts"')[2].partition("</section>")[0]


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


@pytest.mark.parametrize(
    ("source", "target"),
    [("sqlite", "sqlite"), ("sqlite", "postgresql"), ("postgresql", "sqlite")],
)
def test_a_site_goes_through_one_file_and_comes_back_the_same(sites, tmp_path, source, target):
    old = sites.make("old", source)
    fill(old)
    before, uploads = contents(old), files(old)
    assert before["comments_comment"][1]["parent_id"] == before["comments_comment"][0]["id"]
    assert before["related_posts_pick"] and before["revision"] and len(uploads) >= 2

    made = cli(old, "backup", str(tmp_path / "site.zip"))
    assert made.exit_code == 0, made.output
    assert "Backed up" in made.output
    new = sites.make("new", target, upgrade=False)
    restored = cli(new, "restore", str(tmp_path / "site.zip"))
    assert restored.exit_code == 0, restored.output

    assert contents(new) == before
    assert files(new) == uploads
    client = new.test_client()
    assert client.post("/login", data={"username": "bob", "password": PASSWORD}).status_code == 302
    assert 'href="/ferry-timetable-changes/"' in client.get("/search?q=ferry").text  # rebuilt
    home = client.get("/").text  # the menu, an item under one made after it
    assert '<li><a href="/about/">Who</a>' in home and '<a href="/about/team/">Team</a>' in home
    assert client.get("/about/team/").status_code == 200
    picture = before["attachment"][0]["url"]
    with new.test_client().get(picture) as answer:
        assert answer.data == uploads[picture.removeprefix("/uploads/")]
    assert related_box(new) == related_box(old)
    with new.app_context():  # ids go on from where the backup's left off
        ann = db.session.scalar(select(User).where(User.username == "ann"))
        later = save_post(PostData(title="After the move", body="Still here."), ann)
        db.session.commit()
        assert later.id > max(row["id"] for row in before["post"])


def test_a_damaged_file_is_refused_and_nothing_changes(sites, tmp_path):
    old = sites.make("old", "sqlite")
    fill(old)
    assert cli(old, "backup", str(tmp_path / "site.zip")).exit_code == 0
    with zipfile.ZipFile(tmp_path / "site.zip") as archive:
        members = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    members["tables/post.jsonl"] = members["tables/post.jsonl"].replace(b"Harbour", b"Harb0ur")
    with zipfile.ZipFile(tmp_path / "changed.zip", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    cut = (tmp_path / "site.zip").read_bytes()
    (tmp_path / "cut.zip").write_bytes(cut[: len(cut) // 2])
    (tmp_path / "foreign.zip").write_bytes(zip_of({"manifest.json": b'{"format": "other"}'}))
    (tmp_path / "text.zip").write_text("hello")

    new = sites.make("new", "sqlite")
    before = contents(new)
    for name, said in [
        ("changed.zip", "damaged: tables/post.jsonl does not match its checksum"),
        ("cut.zip", "not a Pressroom backup (not a zip archive)"),
        ("foreign.zip", "not a Pressroom backup (manifest.json is another's)"),
        ("text.zip", "not a Pressroom backup (not a zip archive)"),
        ("missing.zip", "no such file"),
    ]:
        result = cli(new, "restore", str(tmp_path / name))
        assert result.exit_code == 1, name
        assert said in result.output, result.output
        assert result.output.count("\n") == 1  # one line, no traceback
        assert contents(new) == before
        assert not Path(new.instance_path, "uploads").exists()


def zip_of(members: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_site_with_content_is_never_restored_over(sites, tmp_path):
    old = sites.make("old", "sqlite")
    fill(old)
    assert cli(old, "backup", str(tmp_path / "site.zip")).exit_code == 0
    result = cli(old, "restore", str(tmp_path / "site.zip"))
    assert result.exit_code == 1
    assert "the database here is not empty" in result.output


def test_an_older_backup_is_upgraded_on_restore(sites, tmp_path):
    old = sites.make("old", "sqlite", upgrade=False)
    with old.app_context():
        flask_migrate.upgrade(revision="0010core")  # before the job table
        for branch in ("related_posts", "comments"):
            flask_migrate.upgrade(revision=f"{branch}@head")
        create_account("ann", "ann@example.com", role="admin", password=PASSWORD)
        db.session.commit()
    assert cli(old, "backup", str(tmp_path / "old.zip")).exit_code == 0
    with zipfile.ZipFile(tmp_path / "old.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert "0010core" in manifest["revisions"] and "job" not in manifest["tables"]

    new = sites.make("new", "sqlite", upgrade=False)
    result = cli(new, "restore", str(tmp_path / "old.zip"))
    assert result.exit_code == 0, result.output
    with new.app_context(), db.engine.connect() as connection:
        assert inspect(connection).has_table("job")
        assert "parent_id" in {column["name"] for column in inspect(connection).get_columns("post")}
        upgraded = backups.revisions(connection)
    fresh = sites.make("fresh", "sqlite")
    with fresh.app_context(), db.engine.connect() as connection:
        assert upgraded == backups.revisions(connection)  # every branch at its head
    assert (
        new.test_client().post("/login", data={"username": "ann", "password": PASSWORD}).status_code
        == 302
    )


def test_a_backup_during_a_burst_of_writes_is_one_snapshot(sites, tmp_path):
    app = sites.make("busy", "postgresql" if ON_POSTGRES else "sqlite")
    with app.app_context():
        writer = create_account("ann", "ann@example.com", role="admin", password=PASSWORD)
        db.session.commit()
        writer_id = writer.id
    stop = threading.Event()
    written = []

    def write():
        with app.app_context():
            author = db.session.get(User, writer_id)
            number = 0
            while not stop.is_set():
                post = save_post(
                    PostData(title=f"Burst {number}", body="Words " * 50, status="published",
                             categories=categories_from_names([f"Topic {number % 7}"], create=True),
                             tags=tags_from_names([f"t{number % 5}"])),
                    author,
                )  # fmt: skip
                db.session.commit()
                written.append(post.id)
                number += 1

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(written) < 20:
            stop.wait(0.05)
        made = cli(app, "backup", str(tmp_path / "busy.zip"))
        during = len(written)
        stop.wait(0.5)
    finally:
        stop.set()
        thread.join()
    assert made.exit_code == 0, made.output
    assert len(written) > during >= 20  # writes went on while the backup ran

    with zipfile.ZipFile(tmp_path / "busy.zip") as archive:
        tables = {
            name.removeprefix("tables/").removesuffix(".jsonl"): rows(archive, name)
            for name in archive.namelist()
            if name.startswith("tables/")
        }
    posts = {row["id"] for row in tables["post"]}
    assert posts, "the backup holds no post"
    assert {row["post_id"] for row in tables["revision"]} <= posts
    assert {row["post_id"] for row in tables["post_category"]} == posts
    assert {row["post_id"] for row in tables["post_tag"]} == posts
    categories = {row["id"] for row in tables["category"]}
    assert {row["category_id"] for row in tables["post_category"]} <= categories


def rows(archive, name) -> list[dict]:
    lines = archive.read(name).decode().splitlines()
    columns = json.loads(lines[0])["columns"]
    return [dict(zip(columns, json.loads(line), strict=True)) for line in lines[1:]]
