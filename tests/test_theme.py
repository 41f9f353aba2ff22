"""A site's own look: template overrides (the theme's and plugins'), its own stylesheet,
and the theme's promises (dark scheme, print styles, nothing from other sites)."""

import re
from pathlib import Path

import pytest


def site_file(app, relative: str, text: str) -> Path:
    path = Path(app.instance_path, relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_site_template_overrides_the_theme(app, client, add_post):
    add_post("Hello")
    site_file(app, "templates/posts/detail.html",
              '{% extends "base.html" %}{% block content %}<p id="mine">{{ post.title }}</p>'
              "{% endblock %}")  # fmt: skip

    assert '<p id="mine">Hello</p>' in client.get("/hello/").text


@pytest.mark.plugins("categories")
def test_a_site_template_overrides_a_plugins(app, client, add_post):
    add_post("Hello", categories=["News"])
    site_file(app, "templates/categories/category.html",
              "<h1>My own {{ category.name }} page</h1>")  # fmt: skip

    assert client.get("/category/news/").text == "<h1>My own News page</h1>"


def test_the_sites_stylesheet_is_linked_after_the_theme(app, client):
    assert "/site/" not in client.get("/").text  # none yet: nothing linked
    site_file(app, "static/site.css", "body { background: papayawhip; }")
    site_file(app, "static/logo.txt", "a file beside it")

    page = client.get("/").text

    theme = page.index("/static/style.css")
    own = re.search(r'<link rel="stylesheet" href="(/site/site\.css\?v=[0-9a-f]+)">', page)
    assert own and own.start() > theme
    with client.get(own[1]) as response:
        assert response.status_code == 200 and b"papayawhip" in response.data
    with client.get("/site/logo.txt") as response:
        assert response.data == b"a file beside it"
    assert client.get("/site/../config.toml").status_code == 404
    assert client.get("/site/missing.css").status_code == 404


def test_the_theme_has_dark_and_print_styles_and_no_third_party_requests(app, client, add_post):
    css = (Path(app.static_folder) / "style.css").read_text()
    assert "@media (prefers-color-scheme: dark)" in css
    assert "@media print" in css
    add_post("Hello")
    for path in ("/", "/hello/", "/search?q=hello", "/archive/", "/login", "/nowhere/"):
        page = client.get(path).text
        assets = re.findall(r'<link rel="(?:stylesheet|icon)" href="([^"]+)"', page)
        assets += re.findall(r'<script src="([^"]+)"', page)
        assert assets and all(url.startswith("/") for url in assets), path
