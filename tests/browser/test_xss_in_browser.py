"""XSS, proved in Chromium: every payload of the lists, in every field a person or an
import can fill, rendered where it shows, executes nothing.

Each payload goes in as a post's title, body, excerpt and slug; a category's and a
tag's name and description; an author's display name; a comment's name, email, website
and body (approved, and pending for the moderation queue); an upload's file name and alt
text; the site's title and tagline; a WordPress export's titles, author names and
comments; a search query and a 404 address. Chromium then opens the public pages, the
admin (editor, lists, moderation queue, media, categories, users, security log) and the
feeds' HTML, which is loaded into a blank page with no CSP at all, as a feed reader
might show it. Every request that does not go to the test server is blocked.

What counts as executing, on any page: a dialog (alert, confirm, prompt, print); a CSP
refusal of script, a plugin, a frame, <base> or a form target (something tried: blocked
here, it would run under a weaker policy); and, in the DOM once loaded, an on*
attribute, a script that is not one of the site's own files or its JSON-LD, a
javascript:/vbscript:/data:text/html address, or an iframe, frame, object, embed, base
or meta refresh element. And no page may take longer than test_bounded_work's limit.

CI runs the quick list and the polyglots; `make security` (PRESSROOM_XSS_FULL=1) adds
the 6,613-line list, in parts of PART payloads that each stand alone (a part takes about
half an hour here; `-k "payloads.txt and 1001-2000"` runs one), and the Big List of
Naughty Strings.
"""

import contextlib
import io
import json
import os
import re
import time
from urllib.parse import quote
from xml.sax.saxutils import escape

import feedparser
import pytest
from PIL import Image

from blog.database import db
from blog.editing import PostData, PostError, save_post
from blog.media.html import markdown_for
from blog.media.storage import store_image
from blog.models import Category, Post, Tag, User
from blog.rendering import render_reader_markdown, without_control_characters
from plugins.comments.models import Comment
from tests.browser.helpers import log_in
from tests.conftest import SHARED, TEST_PASSWORD_HASH, shared_file
from tests.test_bounded_work import SECONDS
from tests.test_hooks import WXR, import_text

LISTS = ["xss-payloads-quick.txt", "xss-polyglots.txt"]
if os.environ.get("PRESSROOM_XSS_FULL"):
    LISTS += ["xss-payloads.txt", "blns.json"]

pytestmark = pytest.mark.plugins(
    "categories", "related_posts", "comments", comments={"min_seconds": 0}
)

# Run in every page after it loads: what executed, or could.
FINDINGS = """() => {
  const found = [...(window.__xss || [])];
  const ours = (src) => /^\\/(static|site|comments\\/static)\\//.test(new URL(src).pathname)
    && new URL(src).origin === location.origin;
  // An address that would run code, read as the browser reads it: `jav ascript:` and
  // `javascript\\x00:` are relative addresses, not scripts.
  const runs = (value) => {
    let url;
    try { url = new URL(value, document.baseURI); } catch { return false; }
    return ["javascript:", "vbscript:"].includes(url.protocol)
      || (url.protocol === "data:" && /^data:\\s*text\\/html/i.test(url.href));
  };
  for (const element of document.querySelectorAll("*")) {
    const tag = element.tagName.toLowerCase();
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith("on") || name === "srcdoc") found.push(`<${tag} ${name}>`);
      if (["href", "src", "action", "formaction", "xlink:href", "data", "background",
           "poster"].includes(name) && runs(attribute.value)) {
        found.push(`<${tag} ${name}="${attribute.value.slice(0, 60)}">`);
      }
    }
    if (["iframe", "frame", "frameset", "object", "embed", "applet", "base"].includes(tag)) {
      found.push(`<${tag}>`);
    }
    if (tag === "meta" && (element.httpEquiv || "").toLowerCase() === "refresh") {
      found.push("<meta http-equiv=refresh>");
    }
    if (tag === "script" && element.type !== "application/ld+json"
        && !(element.src && ours(element.src))) {
      found.push(`<script> ${element.src || element.textContent.slice(0, 60)}`);
    }
  }
  return found;
}"""
WATCH = """
window.__xss = [];
// Refusals of script, plugins, frames, <base> and form targets; an image from
// elsewhere (img-src) is not code, and is only kept off the page.
const CODE = /^(script-src|object-src|frame-src|child-src|base-uri|form-action)/;
document.addEventListener("securitypolicyviolation", (event) => {
  if (CODE.test(event.effectiveDirective || event.violatedDirective)) {
    const what = event.sample || event.blockedURI;
    window.__xss.push(`CSP refused ${event.effectiveDirective}: ${what}`);
  }
}, true);
"""


PART = 1000  # payloads per test of a long list


def payloads(name: str) -> list[str]:
    return payloads_in(shared_file("fixtures", name))


def payloads_in(path) -> list[str]:
    if path.name.endswith(".json"):
        return [text for text in json.loads(path.read_text(encoding="utf-8")) if text.strip()]
    text = path.read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if line.strip()]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def seed(app, texts: list[str]) -> list[dict]:
    """Every field filled with each payload, through the site's own code; what to open."""
    made = []
    with app.test_request_context():
        for number, text in enumerate(texts):
            writer = User(username=f"writer{number}", email=f"writer{number}@example.com",
                          role="author", display_name=text[:120])  # fmt: skip
            writer.password_hash = TEST_PASSWORD_HASH
            # Names are unique: numbered, in case two payloads begin alike.
            category = Category(name=f"{text[:180]} #{number}", slug=f"xss-category-{number}",
                                description=text)  # fmt: skip
            tag = Tag(name=f"{text[:180]} #{number}", slug=f"xss-tag-{number}")
            db.session.add_all([writer, category, tag])
            db.session.commit()
            image = store_image(png(), text, text, writer)
            title = text if without_control_characters(text).split() else f"Blank {number}"
            data = PostData(title=title[:300], body=f"{text}\n\nWords {text} words\n\n"
                            f"{markdown_for(image)}", excerpt=text[:2000], slug=text,
                            status="published", categories=[category], tags=[tag])  # fmt: skip
            try:
                post = save_post(data, writer)
            except PostError:  # a slug the site refuses: the payload is in the other fields
                data.slug = f"xss-{number}"
                post = save_post(data, writer)
            for status in ("approved", "pending"):
                db.session.add(Comment(
                    post_id=post.id, author_name=text[:100], author_email=text[:254],
                    author_url=text[:300], body=text, status=status,
                    body_html=str(render_reader_markdown(text))))  # fmt: skip
            db.session.commit()
            made.append({"text": text, "post": post.id, "slug": post.slug,
                         "category": category.slug, "tag": tag.slug})  # fmt: skip
    return made


ITEM = """<item><title>{text}</title><link>http://old.test/?p={number}</link>
  <dc:creator>wp{number}</dc:creator><content:encoded>{text}</content:encoded>
  <wp:post_id>{number}</wp:post_id><wp:post_date_gmt>2024-01-05 09:30:00</wp:post_date_gmt>
  <wp:post_name>old-{number}</wp:post_name><wp:status>publish</wp:status>
  <wp:post_type>post</wp:post_type>
  <wp:comment><wp:comment_id>{number}</wp:comment_id><wp:comment_author>{text}</wp:comment_author>
    <wp:comment_author_email>a{number}@example.com</wp:comment_author_email>
    <wp:comment_author_url>{text}</wp:comment_author_url>
    <wp:comment_date_gmt>2024-01-06 09:30:00</wp:comment_date_gmt>
    <wp:comment_content>{text}</wp:comment_content><wp:comment_approved>1</wp:comment_approved>
  </wp:comment></item>
<wp:author><wp:author_login>wp{number}</wp:author_login>
  <wp:author_email>wp{number}@example.com</wp:author_email>
  <wp:author_display_name>{text}</wp:author_display_name></wp:author>"""


# What XML 1.0 cannot carry at all (an export with one is refused whole).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def import_all(app, tmp_path, texts: list[str]) -> None:
    items = "".join(
        ITEM.format(number=number + 1, text=escape(NOT_XML.sub("", text)))
        for number, text in enumerate(texts)
    )
    import_text(app, tmp_path, WXR.format(items=items))


class Watcher:
    """Tabs of one browser context that may only reach the test server; every finding
    is kept with the page and the payload."""

    def __init__(self, browser, live_server):
        self.site = live_server
        self.context = browser.new_context(base_url=live_server)
        self.context.add_init_script(WATCH)
        self.context.route("**/*", self.only_this_site)
        self.tab = self.context.new_page()
        # Past SECONDS a page is a finding already; the margin lets a slow page be reported
        # with its time, rather than end the run (a part of a list takes half an hour).
        self.tab.set_default_timeout(SECONDS * 3 * 1000)
        self.tab.on("dialog", self.dialog)
        self.findings: list[str] = []
        self.where = ""

    def only_this_site(self, route):
        if route.request.url.startswith(self.site):
            route.continue_()
        else:
            route.abort()

    def dialog(self, dialog):
        self.findings.append(f"{self.where}: a {dialog.type} dialog ({dialog.message[:60]})")
        from playwright.sync_api import Error  # installed with the test extras, like the browser

        with contextlib.suppress(Error):  # gone with its page already
            dialog.dismiss()

    def check(self, where: str) -> None:
        self.where = where
        found = self.tab.evaluate(FINDINGS)
        self.findings += [f"{where}: {finding}" for finding in found]

    def open(self, path: str, payload: str = "") -> None:
        self.where = f"{path} [{payload[:50]!r}]"
        started = time.monotonic()
        from playwright.sync_api import TimeoutError as PageTimeout

        try:
            self.tab.goto(path, wait_until="load")
        except PageTimeout:  # a finding like any other; the next page opens in a fresh load
            self.findings.append(f"{self.where}: did not load in {SECONDS * 3} s")
            return
        seconds = time.monotonic() - started
        if seconds > SECONDS:  # no payload may hold a worker (see test_bounded_work.py)
            self.findings.append(f"{self.where}: took {seconds:.1f} s")
        self.check(self.where)

    def show(self, html: str, where: str) -> None:
        """HTML from a feed, in a blank page without any policy."""
        self.where = where
        self.tab.goto("about:blank")
        self.tab.set_content(f"<!doctype html><title>feed</title><body>{html}</body>")
        self.check(where)


def feed_html(client, path: str) -> list[tuple[str, str]]:
    """(where, HTML) of every entry's title, summary and content in the feed at `path`."""
    parsed = feedparser.parse(client.get(path).data)
    shown = []
    for entry in parsed.entries:
        parts = [entry.get(f"{key}_detail") for key in ("title", "summary")]
        for part in [*parts, *entry.get("content", [])]:
            if part:  # text is shown as text, HTML as HTML, as the feed says
                html = part.value if part.type == "text/html" else escape(part.value)
                shown.append((f"{path} {part.type}", html))
    return shown


def parts(name: str) -> list:
    """A list whole, or a long one in parts of PART payloads: (name, first, end) each.
    Counted when tests are collected; a list that is not there is one test, which skips."""
    path = SHARED / "fixtures" / name
    count = len(payloads_in(path)) if path.exists() else 0
    if count <= PART:
        return [pytest.param(name, 0, None, id=name)]
    made = []
    for first in range(0, count, PART):
        end = min(count, first + PART)
        made.append(pytest.param(name, first, end, id=f"{name}[{first + 1}-{end}]"))
    return made


@pytest.mark.parametrize(("name", "first", "end"), [part for name in LISTS for part in parts(name)])
@pytest.mark.config(CACHE={"pages": False})
def test_no_payload_executes_anywhere(
    app, browser, live_server, tmp_path, name, first, end, add_user
):
    texts = payloads(name)[first:end]
    add_user("ada", role="admin")
    made = seed(app, texts)
    import_all(app, tmp_path, texts)
    with app.app_context():
        imported = db.session.scalars(db.select(Post.slug).where(Post.slug.like("old-%"))).all()
    watcher = Watcher(browser, live_server)
    log_in(watcher.tab, "ada")
    site = dict(app.config["SITE"])
    try:
        for item in made:
            text = item["text"]
            # The site's title and tagline, on the post page and the admin's editor.
            app.config["SITE"] = {**site, "title": text[:200], "tagline": text[:300]}
            watcher.open(f"/{quote(item['slug'])}/", text)
            watcher.open(f"/admin/posts/{item['post']}/edit", text)
            app.config["SITE"] = site
            watcher.open(f"/category/{item['category']}/", text)
            watcher.open(f"/tag/{item['tag']}/", text)
            watcher.open(f"/search?q={quote(text)}", text)
            watcher.open(f"/{quote(text, safe='')}", text)  # a 404 address
        pages = -(-len(made) // 10)
        for number in range(1, pages + 1):
            watcher.open(f"/?page={number}")
            watcher.open(f"/admin/?page={number}")
            watcher.open(f"/admin/media/?page={number}")
        for number in range(1, -(-len(made) // 50) + 2):
            watcher.open(f"/admin/comments?status=pending&page={number}")
            watcher.open(f"/admin/comments?status=approved&page={number}")
        for path in ("/admin/categories/", "/admin/users/", "/admin/security", "/archive/"):
            watcher.open(path)
        for slug in imported:
            watcher.open(f"/{slug}/")
        client = app.test_client()
        feeds = ["/feed/", *(f"/comments/{item['slug']}/feed/" for item in made[:100]),
                 *(f"/category/{item['category']}/feed/" for item in made[:100])]  # fmt: skip
        for path in feeds:
            for where, html in feed_html(client, path):
                watcher.show(html, where)
    finally:
        app.config["SITE"] = site
        watcher.context.close()

    kinds = sorted({finding.split(": ", 1)[1][:40] for finding in watcher.findings})
    assert watcher.findings == [], (
        f"{len(watcher.findings)} found: {kinds[:20]}; {watcher.findings[:5]}"
    )
