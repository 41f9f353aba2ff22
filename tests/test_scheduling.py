"""Scheduled posts: set in the editor, published by themselves, loudly when they cannot be."""

import time
from datetime import datetime, timedelta

from blog.database import db
from blog.editing import publish_scheduled
from blog.models import Post, User, utcnow
from blog.scheduling import publish_due, scheduler
from tests.conftest import DATABASE_URL, ON_POSTGRES, TEST_PASSWORD_HASH


def in_minutes(minutes: float) -> datetime:
    return (utcnow() + timedelta(minutes=minutes)).replace(microsecond=0)


def field(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def schedule(writer, title="Tomorrow's news", when=None):
    when = when or in_minutes(60 * 24)
    response = writer.post(
        "/admin/posts/new",
        data={"title": title, "body": "Soon.", "published_at": field(when), "publish": "Publish"},
    )
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].split("/")[-2])


def set_due(app, post_id, minutes_ago=1):
    """Time passes: the post's moment came `minutes_ago` minutes ago."""
    with app.app_context():
        post = db.session.get(Post, post_id)
        post.published_at = in_minutes(-minutes_ago)
        db.session.commit()


def status_of(app, post_id):
    with app.app_context():
        return db.session.get(Post, post_id).status


def test_publish_with_a_future_date_schedules_the_post(app, writer, client):
    post_id = schedule(writer)

    assert status_of(app, post_id) == "scheduled"
    page = writer.get(f"/admin/posts/{post_id}/edit").text
    assert "Scheduled: Tomorrow&#39;s news goes out on" in page
    assert "is scheduled for" in page
    writer.post("/logout")
    assert client.get("/tomorrows-news/").status_code == 404
    assert "Tomorrow" not in client.get("/").text
    assert "Tomorrow" not in client.get("/feed/").text
    assert "tomorrows-news" not in client.get("/sitemap.xml").text


def test_a_due_post_goes_out_on_the_next_request(app, writer, client):
    post_id = schedule(writer)
    set_due(app, post_id)
    with app.app_context():
        scheduler().next_check = datetime.min  # the last look was longer ago than CHECK_SECONDS

    writer.post("/logout")
    assert client.get("/tomorrows-news/").status_code == 200
    assert status_of(app, post_id) == "published"
    assert "Tomorrow" in client.get("/feed/").text


def test_requests_look_at_most_once_per_interval(app, client, count_queries):
    def looks(statements):
        return sum("post.published_at <=" in statement for statement in statements)

    with count_queries() as first:
        client.get("/robots.txt")
    with count_queries() as second:
        client.get("/robots.txt")

    assert (looks(first.statements), looks(second.statements)) == (1, 0)


def test_scheduling_a_post_brings_the_next_look_forward(app, writer):
    writer.get("/")
    when = in_minutes(0.05)
    schedule(writer, when=when)
    with app.app_context():
        assert scheduler().next_check <= when


def test_scheduled_and_immediate_publishing_fire_the_same_hooks(fake_plugins, make_app):
    calls = []
    fake_plugins(spy={"post_saved": lambda post, form: calls.append((post.status, dict(form)))})
    app = make_app(["spy"])
    from blog.editing import PostData, save_post

    with app.app_context():
        user = User(username="alice", email="a@example.com")
        save_post(PostData(title="Now", status="published"), author=user)
        later = save_post(
            PostData(title="Later", status="published", published_at=in_minutes(5)), author=user
        )
        assert later.status == "scheduled"
        calls.clear()
        published, failed = publish_due(in_minutes(6))

    assert [post.title for post in published] == ["Later"] and failed == []
    assert calls == [("published", {})]  # as "Publish now": post_saved, status published


def test_only_one_process_publishes_a_post(app, add_post):
    post_id = add_post("Racy", status="draft")
    with app.app_context():
        db.session.execute(
            db.update(Post)
            .where(Post.id == post_id)
            .values(status="scheduled", published_at=in_minutes(-1))
        )
        db.session.commit()
        first, second = publish_scheduled(post_id), publish_scheduled(post_id)
        assert first is not None and second is None
        assert db.session.get(Post, post_id).version == 2


def test_publish_due_command(app, runner, writer):
    assert runner.invoke(args=["publish-due"]).output == "Nothing is due.\n"
    post_id = schedule(writer)
    assert runner.invoke(args=["publish-due"]).output == "Nothing is due.\n"
    set_due(app, post_id)

    result = runner.invoke(args=["publish-due"])

    assert result.exit_code == 0
    assert result.output == "Published: Tomorrow's news (/tomorrows-news/)\n"
    assert status_of(app, post_id) == "published"


def test_a_post_that_cannot_go_out_is_reported_as_overdue(fake_plugins, make_app, add_user):
    def post_saved(post, form):
        if post.status == "published":
            raise RuntimeError("the spam filter is down")

    fake_plugins(grumpy={"post_saved": post_saved})
    app = make_app(["grumpy"])
    with app.app_context():
        user = User(username="alice", email="a@example.com", role="admin")
        user.password_hash = TEST_PASSWORD_HASH
        db.session.add(user)
        post = Post(title="Stuck", slug="stuck", status="scheduled", author=user)
        post.published_at = in_minutes(-10)
        db.session.add(post)
        db.session.commit()

    result = app.test_cli_runner().invoke(args=["publish-due"])
    assert result.exit_code == 1
    assert "Failed: Stuck (post 1): RuntimeError: the spam filter is down" in result.output

    client = app.test_client()
    client.post("/login", data={"username": "alice", "password": "password123"})
    page = client.get("/admin/").text  # this request tries again, and fails again
    assert "1 scheduled post has not gone out on time" in page
    assert "Stuck</a>, due" in page
    assert status_of(app, 1) == "scheduled"  # rolled back whole, not half-published


def test_scheduling_needs_a_future_date(app, writer):
    response = writer.post(
        "/admin/posts/new", data={"title": "When?", "body": "", "status": "scheduled"}
    )
    assert response.status_code == 422
    assert "To schedule the post, give it a date in the future." in response.text

    response = writer.post(
        "/admin/posts/new",
        data={"title": "When?", "published_at": "next tuesday", "publish": "Publish"},
    )
    assert response.status_code == 422
    assert 'id="published_at-errors"' in response.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Post.id))) == 0


def test_a_past_date_backdates_a_published_post(app, writer):
    response = writer.post(
        "/admin/posts/new",
        data={"title": "Old news", "published_at": "2020-05-01T09:30", "publish": "Publish"},
    )
    post_id = int(response.headers["Location"].split("/")[-2])
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert (post.status, post.published_at) == ("published", datetime(2020, 5, 1, 9, 30))


def test_publishing_a_scheduled_post_without_its_date_publishes_it_now(app, writer):
    post_id = schedule(writer)
    writer.post(
        f"/admin/posts/{post_id}/edit",
        data={"title": "Tomorrow's news", "published_at": "", "publish": "Publish"},
    )
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post.status == "published" and post.published_at <= utcnow()


def test_the_timer_publishes_without_any_request(make_app, monkeypatch, tmp_path):
    monkeypatch.setattr("blog.scheduling.CHECK_SECONDS", 0.05)
    # The timer is another thread: on SQLite it needs a file (an in-memory database is
    # one connection shared by every thread, whose transactions would get mixed up).
    url = DATABASE_URL if ON_POSTGRES else f"sqlite:///{tmp_path / 'timer.sqlite3'}"
    app = make_app(config={"SQLALCHEMY_DATABASE_URI": url})
    app.config["TESTING"] = False  # the timer stays off in tests unless asked for
    with app.app_context():
        user = User(username="alice", email="a@example.com")
        db.session.add(
            Post(title="Timed", slug="timed", status="scheduled", author=user,
                 published_at=in_minutes(-1))
        )  # fmt: skip
        db.session.commit()
        schedule_ = scheduler()
    schedule_.next_check = datetime.max  # no request-time look: only the timer
    schedule_.start_timer()
    try:
        deadline = time.monotonic() + 10
        while status_of(app, 1) != "published" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        schedule_.stop()
    assert status_of(app, 1) == "published"
