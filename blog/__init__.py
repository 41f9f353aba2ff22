"""Pressroom's core. create_app() is the one place where the parts meet."""

from pathlib import Path
from urllib.parse import quote, urlsplit

from flask import Flask, abort, current_app, render_template, request, url_for
from jinja2 import ChoiceLoader, FileSystemLoader
from werkzeug.datastructures import ImmutableMultiDict

from blog import (
    admin,
    auth,
    caching,
    cli,
    config,
    database,
    feeds,
    health,
    jobs,
    logs,
    menus,
    migrating,
    page_cache,
    posts,
    proxy,
    scheduling,
    security_log,
    theme,
    throttle,
)
from blog.arguments import IdConverter
from blog.forms import csrf
from blog.media import storage as media_storage
from blog.plugins import collect, load_plugins
from blog.posts.redirects import redirect_old_address
from blog.posts.search_pages import guess_from_path
from blog.proxy import site_url
from blog.sitetime import local_time, utc_iso
from blog.wordpress import views as wordpress_views

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config=None):
    """Build the app: settings, the core, then the plugins config.toml enables."""
    app = Flask(
        __name__,
        instance_path=config.instance_path(PROJECT_ROOT),  # PRESSROOM_INSTANCE wins
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.url_map.converters["int"] = IdConverter  # before any route: no id past LARGEST_ID
    app.config.from_mapping(config.defaults())
    if test_config is None:
        config.load(app)  # instance/config.toml, then env overrides
    else:
        app.config.from_mapping(test_config)
        app.config["SITE"] = {**config.SITE_DEFAULTS, **app.config["SITE"]}

    logs.init_app(app)  # first: every line of a request says which one, and who asked
    app.before_request(refuse_unknown_hosts)  # before anything builds an address
    app.before_request(drop_nul_bytes)
    database.init_app(app)
    migrating.init_app(app)  # flask alembic …, one branch per plugin
    health.init_app(app)  # /healthz for load balancers
    csrf.init_app(app)
    throttle.init_app(app)
    auth.init_app(app)
    scheduling.init_app(app)  # scheduled posts go out by themselves
    jobs.init_app(app)  # email and rebuilds, off the reader's request
    media_storage.init_app(app)  # /uploads/
    theme.init_app(app)  # instance/static/ at /site/, site.css on every page
    caching.init_app(app)  # ETag, Last-Modified, Cache-Control; fingerprinted static files
    app.register_blueprint(admin.bp)
    app.register_blueprint(wordpress_views.bp)
    app.register_blueprint(posts.bp)

    pm = load_plugins(app)
    with app.app_context():  # so that plugins can check their settings with plugin_config()
        blueprints = collect(pm.hook.register_blueprints())
    for blueprint in blueprints:
        app.register_blueprint(blueprint)

    # A site's own templates beat the theme; plugin templates come last
    # (Flask searches blueprint folders after the app's loader).
    site_templates = FileSystemLoader(Path(app.instance_path, "templates"))
    app.jinja_loader = ChoiceLoader([site_templates, app.jinja_loader])
    app.jinja_env.globals["absolute_url"] = absolute_url
    app.jinja_env.globals["canonical_url"] = canonical_url
    app.jinja_env.globals["navigation"] = menus.navigation
    app.jinja_env.globals["feed_links"] = feeds.feed_links
    app.jinja_env.filters["utc_iso"] = utc_iso
    app.jinja_env.filters["local_time"] = local_time
    register_error_pages(app)
    app.after_request(add_security_headers)

    cli.init_app(app)  # flask db upgrade, user, post, plugins
    page_cache.init_app(app)  # in front of the app, it answers stored pages itself
    proxy.init_app(app)  # X-Forwarded-* from trusted proxies, HTTPS's Secure and HSTS
    app.wsgi_app = EscapedQuery(app.wsgi_app)  # outermost: before anything reads the query
    if test_config is None:
        auth.announce_setup_link(app)
        security_log.record_plugin_changes(app)
    return app


def stop_threads(app: Flask) -> None:
    """End the threads the app starts for itself (the scheduled-post timer, the job worker
    without Redis), for an app dropped while its process goes on, as the audit's sample
    site is. A serving process never needs this: its daemon threads end with it."""
    app.extensions["pressroom_scheduler"].stop()
    queue = jobs.queues(app)
    if isinstance(queue, jobs.DatabaseQueue):
        queue.stop()


# Names that only ever lead back to the machine the request came from.
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]"}


def host_name(host: str) -> str:
    """A Host header without its port: "Blog.example:8000" is "blog.example"."""
    host = host.lower()
    return host.partition("]")[0] + "]" if host.startswith("[") else host.partition(":")[0]


def refuse_unknown_hosts():
    """400 for a Host header that is not the site's: [site] url's, one of [site] hosts, or
    loopback. An address built from a forged one (the slash Werkzeug adds to /archive)
    would send readers elsewhere, and a shared cache might keep it for everyone."""
    site = current_app.config["SITE"]
    trusted = {host_name(urlsplit(site["url"]).netloc), *site.get("hosts", []), *LOOPBACK_HOSTS}
    if host_name(request.host) not in trusted:
        abort(400, "This site does not answer to that name.")


# Printable ASCII: what a browser sends in a query string as it is (it escapes the rest).
QUERY_AS_SENT = "".join(map(chr, range(0x21, 0x7F)))


class EscapedQuery:
    """WSGI middleware: bytes past ASCII in the query string, which a browser escapes but a
    hand-made request may send raw, are percent-escaped before anything reads them.
    Werkzeug decodes the query strictly as UTF-8 (request.args, request.full_path), so
    bytes that are not UTF-8 answered 500 on every page; escaped, they are kept as they
    are, as Werkzeug keeps escaped bytes that are not UTF-8."""

    def __init__(self, wsgi_app):
        self.app = wsgi_app

    def __call__(self, environ, start_response):
        raw = environ.get("QUERY_STRING", "")
        if not raw.isascii():  # WSGI gives the bytes as latin-1 text
            environ["QUERY_STRING"] = quote(raw.encode("latin-1"), safe=QUERY_AS_SENT)
        return self.app(environ, start_response)


def drop_nul_bytes():
    """A NUL byte never means anything in an address, and PostgreSQL refuses to compare
    text with one (every lookup would fail with a 500): a path with one names nothing
    (404), and the query string loses them, so that a search still gets its answer.
    (Forms drop control characters as they are read, blog/forms.py.)"""
    if "\x00" in request.path:
        abort(404)
    pairs = request.args.items(multi=True)
    if any("\x00" in key or "\x00" in value for key, value in pairs):
        request.args = ImmutableMultiDict(
            (key.replace("\x00", ""), value.replace("\x00", ""))
            for key, value in request.args.items(multi=True)
        )


def absolute_url(endpoint: str, **values) -> str:
    """A full URL on the site's public address ([site] url), for feeds and links out."""
    return site_url() + url_for(endpoint, **values)


# Defence in depth behind the sanitiser: no inline or foreign script can run, and no
# other site can frame the admin. Images may come from anywhere (imported posts link out).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "media-src 'self' https:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'self'"
)


PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), browsing-topics=()"
)


def add_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    # A blog asks for no camera, microphone, place or payment; no other window it opens
    # (a link with target=_blank, a pop-up) keeps a handle on the admin's.
    response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response


def canonical_url() -> str:
    """This page's one public address: the site's URL, the path, and ?page=N past page 1."""
    page = request.args.get("page", 1, type=int)
    query = f"?page={page}" if page > 1 else ""
    return site_url() + request.path + query


def register_error_pages(app: Flask) -> None:
    def error_page(error):
        code = getattr(error, "code", 500)
        suggestions, guess = None, ""
        if code == 404 and request.method in ("GET", "HEAD") and "\x00" not in request.path:
            moved = redirect_old_address(request.path)  # an imported post's old link
            if moved is not None:
                return moved
            guess, suggestions = guess_from_path(request.path)
        page = render_template(
            "errors/error.html", error=error, code=code, suggestions=suggestions, guess=guess
        )
        return page, code

    for code in (400, 403, 404, 405, 410, 413, 422, 429, 500):
        app.register_error_handler(code, error_page)
