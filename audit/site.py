"""A sample Pressroom site, served on 127.0.0.1, for the checkers in this folder.

The pages the audits look at: the home page, a post page with its related posts and
comments, a category page, the search page, the login page (each with the site's menu,
a page under a page among its items), and the admin's editor and menu pages.
"""

import contextlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from werkzeug.serving import make_server

AUDIT = Path(__file__).resolve().parent
NODE_MODULES = AUDIT / "node_modules"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PUBLIC_PAGES = {
    "home": "/",
    "post": "/harbour-lights-return/",
    "category": "/category/world-news/",
    "search": "/search?q=harbour",
    "login": "/login",
}
ADMIN_PAGES = {"editor": "/admin/posts/1/edit", "menu": "/admin/menu"}  # logged in
PASSWORD = "audit-password-1"  # noqa: S105 -- the throwaway sample site's admin

ARTICLES = [
    ("Harbour lights return", "World News",
     "After ten dark winters the harbour lights shine again over the bay. Fishermen say "
     "the boats come home safer, and the town council plans a festival in spring."),
    ("Ferries resume across the bay", "World News",
     "The ferries to the islands run again after the storm. Harbour staff worked through "
     "the night to repair the piers damaged by the waves."),
    ("Storm damages the old pier", "World News",
     "The storm tore planks from the old pier and flooded the harbour road. Engineers "
     "will decide this week whether the pier can be saved."),
    ("Lighthouse keeper retires", "People",
     "After forty years the lighthouse keeper hands over the keys. She remembers every "
     "storm, every ship and every night the harbour lights failed."),
    ("Spring festival planned", "People",
     "The town will celebrate the return of the harbour lights with music, food and a "
     "parade of boats in April."),
]  # fmt: skip

# Highlighted code (both palettes are checked for contrast) and MathML.
TIDE_TABLE = """

## The tide table

The lamps follow the tide, $h(t) = A \\cos(\\omega t)$, and the keeper's mean is

$$
\\bar{h} = \\frac{1}{n} \\sum_{i=1}^{n} h_i
$$

```python
def lamps_on(tide: "Tide") -> bool:
    # Lit while the water is high enough for the boats
    return tide.height > 1.5 and not tide.storm  # metres
```
"""


def closing_responses(app):
    """`app`, its every response closed even when the browser hangs up half way.

    Werkzeug's server reads what is left of a request before it closes the response
    (serving.py, run_wsgi); when the browser has gone that read raises, close() is never
    called, and a static file's handle stays open until garbage collection warns of it
    in whichever test runs then. A generator is closed when it is collected, and closes
    the response in its turn.
    """

    def wsgi(environ, start_response):
        response = app(environ, start_response)
        try:
            yield from response
        finally:
            if hasattr(response, "close"):
                response.close()

    return wsgi


@dataclass
class SampleSite:
    url: str
    app: object
    instance: Path


def build(app) -> None:
    """Fill an empty database: an admin, five posts in two categories, comments, a page
    under a page, and a menu of them with the categories."""
    from blog import menus
    from blog.database import db
    from blog.editing import PostData, categories_from_names, save_post
    from blog.models import User
    from plugins.comments.models import Comment
    from plugins.related_posts import index

    with app.app_context():
        db.create_all()
        editor = User(username="ada", email="ada@example.com", role="admin",
                      display_name="Ada Lovelace")  # fmt: skip
        editor.set_password(PASSWORD)
        db.session.add(editor)
        db.session.commit()
        for number, (title, category, body) in enumerate(ARTICLES):
            paragraphs = f"{body}\n\n{body}\n\n## What comes next\n\n{body}"
            if number == 0:  # the audited post: code, math and a table of contents too
                paragraphs += TIDE_TABLE
            save_post(
                PostData(title=title, body=paragraphs, status="published",
                         categories=categories_from_names([category], create=True),
                         table_of_contents=number == 0),
                author=editor,
            )  # fmt: skip
        db.session.add_all([
            Comment(post_id=1, author_name="Sam", author_email="sam@example.com",
                    body="Lovely news.", body_html="<p>Lovely news.</p>", status="approved"),
            Comment(post_id=1, parent_id=1, author_name="Ada Lovelace",
                    author_email="ada@example.com", body="Thank you, Sam.",
                    body_html="<p>Thank you, Sam.</p>", status="approved"),
        ])  # fmt: skip
        db.session.commit()
        page = PostData(title="About the paper", body=ARTICLES[0][2], type="page",
                        status="published")  # fmt: skip
        about = save_post(page, author=editor)
        page = PostData(title="Our newsroom", body=ARTICLES[1][2], type="page",
                        status="published", parent_id=about.id)  # fmt: skip
        newsroom = save_post(page, author=editor)
        top = menus.append(about, "About")
        menus.append(newsroom, "", under=top)
        for name in ("World News", "People"):
            menus.append(categories_from_names([name])[0], "")
        db.session.commit()
        index.rebuild()


@contextlib.contextmanager
def serve():
    """The sample site on a free port; yields a SampleSite."""
    from blog import create_app, stop_threads

    with tempfile.TemporaryDirectory(prefix="pressroom-audit-") as folder:
        instance = Path(folder)
        old = os.environ.get("PRESSROOM_INSTANCE")
        os.environ["PRESSROOM_INSTANCE"] = str(instance)
        server = make_server("127.0.0.1", 0, None, threaded=True)
        url = f"http://127.0.0.1:{server.server_port}"
        app = create_app({
            "SECRET_KEY": "audit",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'audit.sqlite3'}",
            "SITE": {"title": "Harbour News", "tagline": "News from the bay", "url": url},
            "PLUGINS": {"enabled": ["categories", "related_posts", "comments"]},
        })  # fmt: skip
        build(app)
        server.app = closing_responses(app)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield SampleSite(url, app, instance)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            stop_threads(app)  # before its database goes with the folder
            with app.app_context():
                from blog.database import db

                db.engine.dispose()
            if old is None:
                os.environ.pop("PRESSROOM_INSTANCE", None)
            else:
                os.environ["PRESSROOM_INSTANCE"] = old
