"""Search: ranked, highlighted, only public posts, in step with every save, any query."""

import json
import re

import pytest

from blog import search
from blog.database import db
from blog.models import Post
from tests.conftest import ON_POSTGRES, shared_file


def titles(client, words, **params) -> list[str]:
    response = client.get("/search", query_string={"q": words, **params})
    assert response.status_code == 200, words
    return [
        re.sub(r"</?mark>", "", title)
        for title in re.findall(r'<h2><a href="[^"]+">(.*?)</a></h2>', response.text)
    ]


@pytest.fixture
def library(add_post):
    add_post("Harbour lights", body="Boats come home at night. The lighthouse keeps watch.")
    add_post("Mountain walks", body="A long walk past the harbour, then up into the hills.")
    add_post("Kitchen notes", body="Bread, soup and running the oven all day.")
    add_post("Draft about harbours", body="harbour harbour harbour", status="draft")
    add_post("Unlisted harbour", body="harbour", status="unlisted")
    add_post("Private harbour", body="harbour", status="private")


def test_title_matches_rank_first_and_words_are_marked(client, library):
    response = client.get("/search?q=harbour")

    assert titles(client, "harbour") == ["Harbour lights", "Mountain walks"]
    assert "<mark>Harbour</mark> lights" in response.text
    assert "past the <mark>harbour</mark>" in response.text
    assert "2 posts match." in response.text
    assert response.headers["X-Robots-Tag"] == "noindex"


def test_only_published_posts_and_pages_are_found(client, library, add_post):
    add_post("About the harbour", body="Who writes here.", status="published")
    with client.application.app_context():
        db.session.execute(
            db.update(Post).where(Post.title == "About the harbour").values(type="page")
        )
        db.session.commit()

    found = titles(client, "harbour")

    assert "About the harbour" in found
    assert not {"Draft about harbours", "Unlisted harbour", "Private harbour"} & set(found)


def test_stemming_phrases_or_and_exclusion(client, library):
    assert titles(client, "runs") == ["Kitchen notes"]  # "running" in the body
    assert titles(client, '"long walk"') == ["Mountain walks"]
    assert titles(client, '"walk long"') == []
    assert set(titles(client, "bread OR lighthouse")) == {"Kitchen notes", "Harbour lights"}
    assert titles(client, "harbour -hills") == ["Harbour lights"]
    assert titles(client, "harbour boats") == ["Harbour lights"]  # every word, by default


def test_the_index_follows_every_save_and_delete(app, writer, library):
    with app.app_context():
        post_id = db.session.scalar(db.select(Post.id).where(Post.title == "Kitchen notes"))

    writer.post(f"/admin/posts/{post_id}/edit", data={
        "title": "Kitchen notes", "body": "Now all about pancakes.", "publish": "1"})  # fmt: skip
    assert titles(writer, "pancakes") == ["Kitchen notes"]
    assert titles(writer, "bread") == []

    writer.post(f"/admin/posts/{post_id}/delete")
    assert titles(writer, "pancakes") == []


def test_imported_posts_are_found(app, runner):
    seed = shared_file("fixtures", "wordpress-seed.xml")
    assert runner.invoke(args=["import", "wordpress", str(seed)]).exit_code == 0
    client = app.test_client()
    with app.app_context():
        title = db.session.scalar(
            db.select(Post.title).where(Post.status == "published").order_by(Post.id).limit(1)
        )
    word = max(re.findall(r"[A-Za-z]{5,}", title), key=len)

    assert title in titles(client, word)


@pytest.mark.plugins("categories", "comments", "related_posts")
def test_an_import_brings_postgresql_statistics_up_to_date(app, runner):
    """Every table it fills, the plugins' too: a planner that thinks post_category empty
    reads every category's posts to find a feed's categories (blog/database.py)."""
    seed = shared_file("fixtures", "wordpress-seed.xml")
    assert runner.invoke(args=["import", "wordpress", str(seed)]).exit_code == 0
    if ON_POSTGRES:  # ANALYZE sets the row estimate (-1 for a table never analysed)
        with app.app_context():
            never_analysed = db.session.scalars(
                db.text(
                    "SELECT relname FROM pg_class WHERE relname IN "
                    "('post', 'post_search', 'post_category', 'post_tag', 'comments_comment',"
                    " 'related_posts_pick') AND reltuples < 0"
                )
            ).all()
            tables = db.session.scalar(
                db.text("SELECT count(*) FROM pg_class WHERE relname = 'related_posts_pick'")
            )
        assert tables == 1
        assert never_analysed == []


def test_markup_in_posts_is_escaped_in_snippets(client, add_post):
    add_post("Escaping", body="Write `<script>alert(1)</script>` to test the filter.")

    response = client.get("/search?q=filter")

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>alert(1)" not in response.text


def test_results_are_paginated_with_rel_links(app, client, add_post):
    app.config["SITE"]["posts_per_page"] = 2
    for number in range(5):
        add_post(f"Lighthouse {number}", body="lamp")

    first = client.get("/search?q=lamp").text
    last = client.get("/search?q=lamp&page=3").text

    assert 'rel="next" href="/search?page=2&amp;q=lamp"' in first
    assert 'rel="prev"' in last and 'rel="next"' not in last
    assert client.get("/search?q=lamp&page=4").status_code == 404
    assert client.get("/search?q=lamp&page=0").status_code == 404
    assert client.get("/search?q=lamp&page=99999999999999999999").status_code == 404


def test_a_query_ranks_only_its_newest_matches(app, client, add_post, monkeypatch):
    """A word in every post costs what a word in CANDIDATES posts does (blog/search.py)."""
    monkeypatch.setattr(search, "CANDIDATES", 3)
    add_post("Lamp lamp lamp", body="lamp lamp lamp")  # the best match, and the oldest
    for number in range(4):
        add_post(f"Lighthouse {number}", body="A lamp.")
    add_post("Draft lamp", body="lamp", status="draft")  # newer, never a candidate

    page = client.get("/search?q=lamp").text

    assert titles(client, "lamp") == ["Lighthouse 3", "Lighthouse 2", "Lighthouse 1"]
    assert "More than 3 posts match: these are the best of the newest 3." in page
    assert titles(client, "lamp lamp") == ["Lighthouse 3", "Lighthouse 2", "Lighthouse 1"]
    assert titles(client, "lamp -lighthouse") == ["Lamp lamp lamp"]  # among fewer matches
    assert "1 post matches." in client.get("/search?q=lamp+-lighthouse").text


def test_the_empty_search_page_offers_the_form(client):
    page = client.get("/search").text
    assert '<label for="search-page-q">Search posts</label>' in page
    assert "match" not in page


NASTY = ['"', '"unclosed', "AND", "OR", "NOT", "-", "--", "*", "a*", "NEAR(a b)", "title:x",
         "^a", "(", ")", "a OR", "OR a", "-a", "'", "\\", "%", "_", "\x00", "a\x00b",
         "x" * 5000, "🎉", "日本語", "<script>alert(1)</script>", "' OR 1=1 --",
         "a & b | !c", "a <-> b", "{}", "[]", ":"]  # fmt: skip


def test_any_query_text_is_answered_without_an_error(client, library):
    strings = json.loads(shared_file("fixtures", "blns.json").read_text(encoding="utf-8"))
    for words in [*NASTY, *strings]:
        response = client.get("/search", query_string={"q": words})
        assert response.status_code == 200, repr(words)
        assert "<script>alert" not in response.text


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("harbour", '("harbour")'),
        ('"long walk" boats', '("long walk" "boats")'),
        ("a OR b", '("a" OR "b")'),
        ("OR OR a OR", '("a")'),
        ("harbour -hills", '("harbour") NOT "hills"'),
        ("-only", None),
        ('NEAR(x y) "', '("NEAR x" "y")'),
        ("* ^ :", None),
    ],
)
def test_the_fts5_query_is_always_well_formed(words, expected):
    assert search.fts5_query(words) == expected


def test_a_mistyped_address_suggests_posts(client, library):
    response = client.get("/harbour-lites/")

    assert response.status_code == 404
    assert "Perhaps one of these?" in response.text
    assert '<a href="/harbour-lights/">Harbour lights</a>' in response.text
    assert 'value="harbour lites"' in response.text  # the search box, filled in
    assert "Perhaps" not in client.get("/zz/").text


def test_the_index_is_the_databases_own_full_text_search(app):
    with app.app_context():
        if ON_POSTGRES:
            indexes = db.session.scalars(
                db.text("SELECT indexdef FROM pg_indexes WHERE tablename = 'post_search'")
            ).all()
            assert any("USING gin (document)" in index for index in indexes)
        else:
            sql = db.session.scalar(
                db.text("SELECT sql FROM sqlite_master WHERE name = 'post_search'")
            )
            assert "USING fts5" in sql


def test_the_migration_indexes_posts_already_there(migrated_app):
    app = migrated_app([])
    runner = app.test_cli_runner()
    assert runner.invoke(args=["alembic", "downgrade", "0003core"]).exit_code == 0
    user = {"id": 1, "username": "ann", "email": "ann@example.com", "display_name": "",
            "password_hash": "", "role": "admin", "created_at": "2026-01-01"}  # fmt: skip
    post = {"id": 1, "title": "Before search", "slug": "before-search", "body": "x",
            "body_html": "<p>Older words about zeppelins</p>", "excerpt": "", "summary": "",
            "status": "published", "type": "post", "sticky": False, "author_id": 1,
            "created_at": "2026-01-01", "published_at": "2026-01-01",
            "updated_at": "2026-01-01", "version": 1}  # fmt: skip
    with app.app_context():
        for table, row in (('"user"', user), ("post", post)):
            columns = ", ".join(row)
            values = ", ".join(f":{column}" for column in row)
            insert = f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608
            db.session.execute(db.text(insert), row)
        db.session.commit()

    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0

    assert titles(app.test_client(), "zeppelins") == ["Before search"]


def test_sqlite_reads_the_full_text_index_first(app):
    if ON_POSTGRES:
        return  # PostgreSQL's planner picks the GIN index itself (see bench/search.py)
    with app.app_context():
        plan = db.session.execute(
            db.text(f"EXPLAIN QUERY PLAN SELECT count(*) {search.SQLITE_MATCHES}"), {"q": "x"}
        ).all()
    assert "VIRTUAL TABLE" in plan[0][-1] and "post_search" in plan[0][-1]


def test_search_follows_the_site_language(app, writer, add_post):
    from sqlalchemy import text

    add_post("Au marché", body="Nous mangeons des pommes.")
    add_post("Running", body="She was running home.")
    settings = {"title": "My Blog", "url": "http://blog.test", "posts_per_page": "10",
                "timezone": "UTC"}  # fmt: skip
    english = titles(writer, "run")

    response = writer.post("/admin/settings", data={**settings, "language": "fr"})
    saved = writer.get(response.headers["Location"]).text

    assert english == ["Running"]  # "running" is "run" to the English stemmer
    assert "Search now reads 2 posts as fr." in saved
    assert titles(writer, "run") == []  # no English stemming on a French site
    if ON_POSTGRES:
        assert titles(writer, "pomme") == ["Au marché"]  # "pommes": the French stem
    else:
        with app.app_context():
            table = db.session.scalar(text("SELECT sql FROM sqlite_master WHERE name = :n"),
                                      {"n": search.TABLE})  # fmt: skip
        assert "tokenize = 'unicode61 remove_diacritics 2'" in table  # Porter is English only
    assert titles(writer, "pommes") == ["Au marché"]


def test_search_rebuild_on_the_command_line(app, runner, add_post):
    add_post("One", body="Harbour.")
    add_post("Two", body="Harbour again.")

    result = runner.invoke(args=["search-rebuild"])

    assert result.exit_code == 0 and "Indexed 2 posts for search." in result.output
    with app.app_context():
        assert search.search("harbour").total == 2
