"""Fixtures: an app per test (plugins chosen by @pytest.mark.plugins), its client and CLI.

Tests run on in-memory SQLite, or on the server DATABASE_URL names (PostgreSQL in CI),
with every table dropped and created again for each test.
"""

import os
from pathlib import Path

import pytest
from sqlalchemy import event

from blog import create_app
from blog.database import db
from blog.editing import PostData, categories_from_names, save_post, tags_from_names
from blog.models import User

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
FIXTURES = SHARED / "fixtures"
DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite://")
ON_POSTGRES = DATABASE_URL.startswith("postgresql")


def skip_unless_ci(reason: str):
    """Skip for a missing tool or file; in CI, where everything is installed, fail instead."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run every test, but: {reason}")
    pytest.skip(reason)


def shared_file(*parts: str) -> Path:
    """A file from ../shared, or a skip saying it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        skip_unless_ci(f"{path} is not here (../shared is laid beside the project in CI)")
    return path


def app_config(tmp_path: Path, enabled=(), **plugin_settings) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test",
        "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": DATABASE_URL,
        "SITE": {"title": "My Blog", "url": "http://blog.test"},
        "PLUGINS": {"enabled": list(enabled), **plugin_settings},
    }


@pytest.fixture
def app(request, tmp_path, monkeypatch):
    monkeypatch.setenv("PRESSROOM_INSTANCE", str(tmp_path / "instance"))
    marker = request.node.get_closest_marker("plugins")
    enabled, settings = (marker.args, marker.kwargs) if marker else ((), {})
    extra = request.node.get_closest_marker("config")
    config = app_config(tmp_path, enabled, **settings)
    if extra:
        config.update(extra.kwargs)
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        if ON_POSTGRES:
            db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def add_user(app):
    """Make a user; returns its id. The password is always 'password123'."""

    def make(username="alice", role="admin", email=None, display_name=""):
        with app.app_context():
            user = User(
                username=username,
                email=email or f"{username}@example.test",
                role=role,
                display_name=display_name,
            )
            user.set_password("password123")
            db.session.add(user)
            db.session.commit()
            return user.id

    return make


@pytest.fixture
def add_post(app, add_user):
    """Make a post through the same code as the editor; returns its id."""

    def make(
        title="Hello",
        body="Some *text*.",
        author="alice",
        status="published",
        categories=(),
        tags=(),
        slug="",
    ):
        with app.app_context():
            user = db.session.scalar(db.select(User).where(User.username == author))
            if user is None:
                user = db.session.get(User, add_user(author))
            data = PostData(
                title=title,
                body=body,
                status=status,
                slug=slug,
                categories=categories_from_names(list(categories), create=True),
                tags=tags_from_names(list(tags)),
            )
            return save_post(data, author=user).id

    return make


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, username="alice", password="password123"):
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


class QueryCounter:
    def __init__(self):
        self.statements = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    @property
    def count(self):
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """Count the SQL statements run inside a `with count_queries() as counter:` block."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        counter = QueryCounter()
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    return counting
