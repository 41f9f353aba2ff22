"""Fixtures: an app per test (plugins chosen by @pytest.mark.plugins), its client and CLI.

Tests run on in-memory SQLite, or on the server DATABASE_URL names (PostgreSQL in CI),
with every table dropped and created again for each test.
"""

import contextlib
import copy
import http.server
import os
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text
from werkzeug.security import generate_password_hash

# Debian's Chromium and its flags, and the test servers' response closing, in one place
from audit.site import CHROMIUM, CHROMIUM_ARGS, closing_responses
from blog import create_app
from blog.database import db
from blog.editing import PostData, categories_from_names, save_post, tags_from_names
from blog.models import User

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
FIXTURES = SHARED / "fixtures"
# Hashed once, cheaply: the real scrypt cost would dominate the suite's time.
TEST_PASSWORD_HASH = generate_password_hash("password123", method="pbkdf2:sha256:1000")
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


def run_jobs(app) -> None:
    """Run the background jobs that are due, as `flask --app app worker --burst` does (tests
    start no worker thread: TESTING)."""
    from blog import jobs

    with app.app_context():
        jobs.the_queue().work(burst=True)


def app_config(tmp_path: Path, enabled=(), **plugin_settings) -> dict:
    return {
        # Redis (in CI) is shared by every test: each app counts under its own prefix.
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "THROTTLE_KEY_PREFIX": f"pressroom-test-{uuid.uuid4().hex}",
        "TESTING": True,
        "SECRET_KEY": "test",
        "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": DATABASE_URL,
        "SITE": {"title": "My Blog", "url": "http://blog.test"},
        # A copy, so that a test changing its app's settings leaves the marker's dict alone.
        "PLUGINS": {"enabled": list(enabled), **copy.deepcopy(plugin_settings)},
    }


# The app's own background threads, by name (blog/jobs.py, blog/scheduling.py).
APP_THREADS = ("jobs", "publish-due")


@pytest.fixture(autouse=True, scope="module")
def no_app_thread_outlives_its_module(request):
    """A job or timer thread left running polls a database that later tests drop, and logs
    each failure with a traceback. Python 3.11.7 formats tracebacks with the `ast` module,
    whose constructor is not thread-safe (CPython gh-106905): such a thread made unrelated
    tests fail with "AST constructor recursion depth mismatch". Stop it and say which
    module left it (per module, as a module-scoped site may serve several tests)."""
    before = set(threading.enumerate())
    yield
    left = [
        thread
        for thread in threading.enumerate()
        if thread not in before and thread.name in APP_THREADS and thread.is_alive()
    ]
    for thread in left:
        thread._target.__self__.stop()  # the Scheduler or DatabaseQueue that runs it
    names = [thread.name for thread in left]
    assert not left, f"{request.module.__name__} left {names} running: blog.stop_threads(app)"


@pytest.fixture
def make_app(tmp_path, monkeypatch):
    """Build apps with the given plugins on a fresh database; all are cleaned up after."""
    monkeypatch.setenv("PRESSROOM_INSTANCE", str(tmp_path / "instance"))
    made = []

    def make(enabled=(), config=None, **plugin_settings):
        settings = app_config(tmp_path, enabled, **plugin_settings)
        settings.update(config or {})
        app = create_app(settings)
        with app.app_context():
            db.drop_all()
            db.create_all()
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            if ON_POSTGRES:
                db.drop_all()
            db.engine.dispose()


@pytest.fixture
def app(request, make_app):
    """The app, with the plugins named by the closest @pytest.mark.plugins (none by default)."""
    marker = request.node.get_closest_marker("plugins")
    enabled, settings = (marker.args, marker.kwargs) if marker else ((), {})
    extra = request.node.get_closest_marker("config")
    return make_app(enabled, config=extra.kwargs if extra else None, **settings)


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
                email=email or f"{username}@example.com",
                role=role,
                display_name=display_name,
            )
            user.password_hash = TEST_PASSWORD_HASH
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


@pytest.fixture
def writer(client, auth, add_user):
    """The client, logged in as alice, an admin."""
    add_user("alice", role="admin")
    auth.login("alice")
    return client


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


@pytest.fixture
def fake_plugins(monkeypatch):
    """Make plugins out of plain functions: fake_plugins(name={"hook_name": function})."""
    import types

    from blog.plugin_api import hookimpl
    from blog.plugins import available_plugins

    real = available_plugins()

    def install(**plugins):
        found = dict(real)
        for name, implementations in plugins.items():
            module = types.ModuleType(f"fake_{name}")
            for hook_name, function in implementations.items():
                marked = hasattr(function, "pressroom_impl")  # e.g. @hookimpl(optionalhook=True)
                setattr(module, hook_name, function if marked else hookimpl(function))
            monkeypatch.setitem(sys.modules, module.__name__, module)
            found[name] = (module.__name__, "test")
        monkeypatch.setattr("blog.plugins.available_plugins", lambda: found)

    return install


HELLO_SOURCE = Path(__file__).parent / "third_party" / "pressroom_hello"


@pytest.fixture(scope="session")
def hello_site_packages(tmp_path_factory):
    """Install tests/third_party/pressroom_hello with pip into a folder of its own."""
    target = tmp_path_factory.mktemp("site-packages")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(HELLO_SOURCE)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return target


@pytest.fixture
def hello_installed(hello_site_packages, monkeypatch):
    """Put the installed hello plugin on sys.path for one test, as pip would for a site.

    Afterwards its entry point is gone again, so other tests see only the built-ins
    (the module stays imported; include_object keeps its table out of `alembic check`).
    """
    monkeypatch.syspath_prepend(str(hello_site_packages))


def reset_postgres_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def migrated_app(tmp_path, monkeypatch):
    """Apps on one real database built by `flask db upgrade` (not create_all)."""
    monkeypatch.setenv("PRESSROOM_INSTANCE", str(tmp_path / "instance"))
    url = DATABASE_URL if ON_POSTGRES else f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    if ON_POSTGRES:
        reset_postgres_schema(url)
    made = []

    def make(enabled=()):
        settings = app_config(tmp_path, enabled)
        settings["SQLALCHEMY_DATABASE_URI"] = url
        app = create_app(settings)
        made.append(app)
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if ON_POSTGRES:
        reset_postgres_schema(url)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        skip_unless_ci(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_unless_ci("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """Serve `app` on a free 127.0.0.1 port from a thread; yields its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, closing_responses(app), threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def new_tab(browser, live_server):
    """Opens fresh browser tabs, each in its own context (`context_options` as Playwright
    takes them), that may only talk to the live server; a script error fails the test."""
    contexts, script_errors = [], []

    def only_this_site(route):
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            route.abort()

    def open_tab(**context_options):
        context = browser.new_context(base_url=live_server, **context_options)
        contexts.append(context)
        context.route("**/*", only_this_site)
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        tab.on("pageerror", lambda error: script_errors.append(str(error)))
        return tab

    yield open_tab
    for context in contexts:
        context.close()
    assert script_errors == [], f"the page's JavaScript failed: {script_errors}"


@pytest.fixture
def page(new_tab):
    """A fresh browser tab that may only talk to the live server."""
    return new_tab()


class _OtherSite(http.server.BaseHTTPRequestHandler):
    """Answers each path from the server's routes: {path: (status, headers, body)}; a
    body may be a function, called per request (to be slow); "{base}" in a header is the
    server's own address."""

    def do_GET(self):  # noqa: N802 -- http.server's name
        with contextlib.suppress(ConnectionError):  # a client that gave up
            self.answer()

    def answer(self):
        self.server.seen.append(self.path)
        status, headers, body = self.server.routes.get(self.path, (404, {}, b""))
        body = body() if callable(body) else body
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value.format(base=self.server.base))
        chunked = headers.get("Transfer-Encoding") == "chunked"
        if "Content-Length" not in headers and not chunked:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if chunked:
            for start in range(0, len(body), 4096):
                piece = body[start : start + 4096]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def running_web_server(routes: dict):
    """Another site, on 127.0.0.1 (a file host an import names): the server, with .base
    (its address) and .seen (the paths asked, in order)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OtherSite)
    server.routes, server.seen = routes, []
    server.base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def running_smtp_server():
    """A real SMTP server on 127.0.0.1 that keeps what it receives: (port, messages)."""
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 -- aiosmtpd's name
            self.messages.append(envelope)
            return "250 OK"

    with socket.socket() as probe:  # aiosmtpd needs a real port number, not 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler.messages
    finally:
        controller.stop()


@pytest.fixture
def smtp_server():
    with running_smtp_server() as server:
        yield server


# The local PostgreSQL, for tests that move a site between engines on either pass.
LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    """The PostgreSQL the suite may use: DATABASE_URL's, else the local server's."""
    url = DATABASE_URL if ON_POSTGRES else LOCAL_POSTGRES
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            pass
    except Exception:
        skip_unless_ci(f"no PostgreSQL at {url}")
    finally:
        engine.dispose()
    return url


class Sites:
    """Apps on databases of their own, each with its own instance folder."""

    def __init__(self, tmp_path: Path, monkeypatch):
        self.tmp_path, self.monkeypatch, self.made = tmp_path, monkeypatch, []

    def make(self, name: str, engine: str, upgrade: bool = True, **config):
        if engine == "postgresql":
            url = postgres_url()
            reset_postgres_schema(url)
        else:
            url = f"sqlite:///{self.tmp_path / f'{name}.sqlite3'}"
        instance = self.tmp_path / name
        self.monkeypatch.setenv("PRESSROOM_INSTANCE", str(instance))
        settings = app_config(self.tmp_path, ["categories", "related_posts", "comments"])
        settings.update(SQLALCHEMY_DATABASE_URI=url, WTF_CSRF_ENABLED=False)  # TESTING: no threads
        settings.update(config)
        app = create_app(settings)
        self.made.append((app, url))
        if upgrade:
            result = app.test_cli_runner().invoke(args=["db", "upgrade"])
            assert result.exit_code == 0, result.output
        return app

    def close(self):
        for app, url in self.made:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            if url.startswith("postgresql"):
                reset_postgres_schema(url)


@pytest.fixture
def sites(tmp_path, monkeypatch):
    made = Sites(tmp_path, monkeypatch)
    yield made
    made.close()
