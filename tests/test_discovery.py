"""Discovery: /sitemap.xml lists every public page with its last change; robots.txt points at it."""

import xml.etree.ElementTree as ET

import pytest

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
pytestmark = pytest.mark.plugins("categories")


def locations(client, path="/sitemap.xml"):
    response = client.get(path)
    assert response.status_code == 200
    assert response.content_type.startswith("application/xml")
    root = ET.fromstring(response.data)
    return {
        url.findtext("s:loc", namespaces=NS): url.findtext("s:lastmod", namespaces=NS)
        for url in root.findall("s:url", NS)
    }


def test_sitemap_lists_home_posts_and_category_pages_but_no_drafts(client, add_post):
    add_post("Out there", categories=["News"])
    add_post("Not yet", status="draft", categories=["Secrets"])

    urls = locations(client)

    assert set(urls) == {
        "http://blog.test/",
        "http://blog.test/out-there/",
        "http://blog.test/category/news/",
    }
    assert all(lastmod and lastmod.endswith("Z") for lastmod in urls.values())


def test_a_big_site_gets_a_sitemap_index(client, add_post, monkeypatch):
    monkeypatch.setattr("blog.posts.sitemaps.SITEMAP_LIMIT", 2)
    for number in range(5):
        add_post(f"Post {number}")

    index = ET.fromstring(client.get("/sitemap.xml").data)
    files = [loc.text for loc in index.findall("s:sitemap/s:loc", NS)]
    parts = [locations(client, file.removeprefix("http://blog.test")) for file in files]

    assert files == [f"http://blog.test/sitemap-{n}.xml" for n in range(3)]  # ids 1, 2-3, 4-5
    assert sum(1 for part in parts for url in part if "/post-" in url) == 5
    assert "http://blog.test/" in parts[0]
    assert client.get("/sitemap-3.xml").status_code == 404


def test_the_sitemap_index_leaves_out_files_with_no_published_post(
    app, client, add_post, monkeypatch
):
    monkeypatch.setattr("blog.posts.sitemaps.SITEMAP_LIMIT", 2)
    for number in range(7):
        add_post(f"Post {number}", status="draft" if number in (1, 2) else "published")

    index = ET.fromstring(client.get("/sitemap.xml").data)
    files = [loc.text for loc in index.findall("s:sitemap/s:loc", NS)]

    assert files == [f"http://blog.test/sitemap-{n}.xml" for n in (0, 2, 3)]  # ids 2-3: drafts
    assert client.get("/sitemap-1.xml").status_code == 404


def test_robots_txt_points_at_the_sitemap_and_keeps_out_of_admin(client):
    text = client.get("/robots.txt").text

    assert "Sitemap: http://blog.test/sitemap.xml" in text
    assert "Disallow: /admin/" in text


def test_pages_announce_their_feed(client):
    page = client.get("/").text

    assert '<link rel="alternate" type="application/atom+xml"' in page
