"""The site's time zone: dates are stored in UTC, shown and typed in `site.timezone`."""

import re
from datetime import datetime

import pytest

from blog.database import db
from blog.models import Post, utcnow

PARIS = pytest.mark.config(
    SITE={"title": "My Blog", "url": "http://blog.test", "timezone": "Europe/Paris"}
)


def stored_date(app, title):
    with app.app_context():
        return db.session.scalar(db.select(Post.published_at).where(Post.title == title))


def publish_at(writer, title, typed):
    return writer.post(
        "/admin/posts/new", data={"title": title, "published_at": typed, "publish": "Publish"}
    )


@PARIS
def test_a_publish_date_is_typed_in_the_site_zone_and_stored_in_utc(app, writer):
    winter = publish_at(writer, "Winter", "2030-01-15T09:00")
    summer = publish_at(writer, "Summer", "2030-07-15T09:00")
    # 02:30 does not happen on the night the clocks go forward: it counts as 03:30 summer time.
    skipped = publish_at(writer, "Skipped", "2030-03-31T02:30")

    assert (winter.status_code, summer.status_code, skipped.status_code) == (302, 302, 302)
    assert stored_date(app, "Winter") == datetime(2030, 1, 15, 8, 0)  # CET, UTC+1
    assert stored_date(app, "Summer") == datetime(2030, 7, 15, 7, 0)  # CEST, UTC+2
    assert stored_date(app, "Skipped") == datetime(2030, 3, 31, 1, 30)


@PARIS
def test_the_editor_shows_the_date_back_in_the_site_zone(app, writer):
    response = publish_at(writer, "Later", "2030-01-15T09:00")
    editor = writer.get(response.location)

    assert "goes out on 2030-01-15 09:00 CET" in editor.text
    assert '<label for="published_at">Publish date (Europe/Paris)</label>' in editor.text
    assert 'value="2030-01-15T09:00"' in editor.text
    # The Schedule button's clock is the site's, whatever the browser's zone.
    site_now = re.search(r'data-site-now="([^"]+)"', editor.text).group(1)
    offset = datetime.fromisoformat(site_now) - utcnow()
    assert 3590 <= offset.total_seconds() <= 7210  # CET or CEST, give or take the request


@PARIS
def test_readers_see_the_site_zones_date_and_month(app, client, add_post):
    post_id = add_post("Late night")
    with app.app_context():
        db.session.get(Post, post_id).published_at = datetime(2026, 1, 31, 23, 30)  # UTC
        db.session.commit()

    page = client.get("/late-night/").text
    archives = client.get("/archive/").text

    assert ">February 1, 2026</time>" in page  # 00:30 in Paris
    assert 'datetime="2026-01-31T23:30:00Z"' in page  # machines keep UTC
    assert client.get("/2026/02/").status_code == 200
    assert client.get("/2026/01/").status_code == 404
    assert '<a href="/2026/02/">February</a> (1)' in archives
    assert "January" not in archives


def test_without_a_zone_the_site_keeps_utc(app, client, add_post):
    post_id = add_post("Late night")
    with app.app_context():
        db.session.get(Post, post_id).published_at = datetime(2026, 1, 31, 23, 30)
        db.session.commit()

    assert ">January 31, 2026</time>" in client.get("/late-night/").text
    assert client.get("/2026/01/").status_code == 200


@pytest.mark.config(SITE={"title": "My Blog", "url": "http://blog.test", "timezone": "Asia/Tokyo"})
def test_the_first_year_east_of_greenwich_is_simply_not_found(client):
    assert client.get("/0001/").status_code == 404


@PARIS
def test_a_wordpress_export_writes_local_and_gmt_dates_as_wordpress_does(app, add_post):
    import io

    from blog.wordpress.exporter import export_wordpress

    post_id = add_post("Late night")
    with app.app_context():
        db.session.get(Post, post_id).published_at = datetime(2026, 1, 31, 23, 30)
        db.session.commit()
        out = io.BytesIO()
        export_wordpress(out)
    xml = out.getvalue().decode()

    assert "<wp:post_date><![CDATA[2026-02-01 00:30:00]]></wp:post_date>" in xml
    assert "<wp:post_date_gmt><![CDATA[2026-01-31 23:30:00]]></wp:post_date_gmt>" in xml


@pytest.mark.config(
    SITE={"title": "My Blog", "url": "http://blog.test", "timezone": "America/New_York"}
)
def test_the_archive_counts_a_day_cut_by_a_month_of_the_zone_post_by_post(app, client, add_post):
    """The archive counts by UTC day in SQL and reads split days post by post."""
    dates = [
        datetime(2026, 3, 1, 3),  # 22:00 on February 28 in New York (winter time)
        datetime(2026, 3, 1, 6),  # 01:00 on March 1
        datetime(2026, 3, 1, 23),
        datetime(2026, 3, 15, 12),
        datetime(2026, 11, 1, 3),  # 23:00 on October 31 (summer time, ending that night)
        datetime(2026, 11, 1, 5),  # 01:00 on November 1
    ]
    for number, when in enumerate(dates):
        post_id = add_post(f"Post {number}")
        with app.app_context():
            db.session.get(Post, post_id).published_at = when
            db.session.commit()

    archives = client.get("/archive/").text

    assert '<a href="/2026/02/">February</a> (1)' in archives
    assert '<a href="/2026/03/">March</a> (3)' in archives
    assert '<a href="/2026/10/">October</a> (1)' in archives
    assert '<a href="/2026/11/">November</a> (1)' in archives
