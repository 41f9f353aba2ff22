"""`import wordpress FILE --media`: an export's images brought into the site's uploads.

The export's files are served by the test's own server on 127.0.0.1, which the tests
that download allow explicitly; the default policy must refuse it.
"""

import io
import ipaddress
from pathlib import Path

import pytest
from PIL import Image

from blog.database import db
from blog.media.remote import Policy
from blog.models import Attachment, Post
from tests.conftest import running_web_server
from tests.test_hooks import WXR, import_text

pytestmark = pytest.mark.plugins()
THE_TESTS_SERVER = Policy(allowed=(ipaddress.ip_network("127.0.0.1/32"),))


def png(width=1200, height=800) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def old_site():
    image = {"Content-Type": "image/png"}
    with running_web_server({
        "/wp-content/uploads/2024/01/photo.png": (200, image, png()),
        "/wp-content/uploads/2024/01/photo-300x200.png": (200, image, png(300, 200)),
        "/elsewhere/diagram.png": (200, image, png(600, 400)),
        "/wp-content/uploads/2024/01/notes.png": (200, image, b"not an image at all"),
    }) as site:  # fmt: skip
        yield site


def export(base: str) -> str:
    uploads = f"{base}/wp-content/uploads/2024/01"
    return WXR.format(
        items=f"""<item><title>A photo</title><link>http://old.test/?attachment_id=3</link>
  <wp:post_id>3</wp:post_id><wp:post_parent>7</wp:post_parent>
  <wp:post_type>attachment</wp:post_type><wp:status>inherit</wp:status>
  <wp:attachment_url>{uploads}/photo.png</wp:attachment_url>
  <wp:postmeta><wp:meta_key>_wp_attachment_image_alt</wp:meta_key>
    <wp:meta_value>A red square</wp:meta_value></wp:postmeta></item>
<item><title>Notes</title><link>http://old.test/?attachment_id=4</link>
  <wp:post_id>4</wp:post_id><wp:post_type>attachment</wp:post_type><wp:status>inherit</wp:status>
  <wp:attachment_url>{uploads}/notes.png</wp:attachment_url></item>
<item><title>With pictures</title><link>http://old.test/with-pictures/</link>
  <dc:creator>ada</dc:creator>
  <content:encoded><![CDATA[<p>Look:</p>
<p><a href="{uploads}/photo.png"><img src="{uploads}/photo-300x200.png" alt="Red"></a></p>
<p><img src="{base}/elsewhere/diagram.png" alt="A diagram"></p>
<p><img src="{base}/elsewhere/missing.png" alt="Gone"></p>]]></content:encoded>
  <wp:post_id>7</wp:post_id><wp:post_date_gmt>2024-01-05 09:30:00</wp:post_date_gmt>
  <wp:post_name>with-pictures</wp:post_name><wp:status>publish</wp:status>
  <wp:post_type>post</wp:post_type>
  <wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value>3</wp:meta_value></wp:postmeta>
</item>"""
    )


def uploaded_files(app) -> list[Path]:
    return [path for path in Path(app.instance_path, "uploads").rglob("*") if path.is_file()]


def test_the_images_come_into_the_uploads_and_the_post_shows_them(app, client, tmp_path, old_site):
    base = f"http://127.0.0.1:{old_site.server_port}"

    summary = import_text(app, tmp_path, export(base), media=THE_TESTS_SERVER)

    with app.app_context():
        post = db.session.scalar(db.select(Post).where(Post.slug == "with-pictures"))
        photo = db.session.scalar(db.select(Attachment).where(Attachment.title == "A photo"))
        notes = db.session.scalar(db.select(Attachment).where(Attachment.title == "Notes"))
        body, featured = post.body, post.featured_image
        assert photo.url.startswith("/uploads/") and photo.srcset  # cleaned and sized
        assert photo.alt_text == "A red square" and photo.post_id == post.id
        assert notes.url == f"{base}/wp-content/uploads/2024/01/notes.png"  # refused: kept
    assert featured.id == photo.id
    assert base + "/wp-content" not in body  # the sized copy and the link: the upload
    assert body.count(photo.url) == 2
    assert f"{base}/elsewhere/missing.png" in body  # not there: the old address stays
    assert f"{base}/elsewhere/diagram.png" not in body
    page = client.get("/with-pictures/").text
    assert f'src="{photo.url}"' in page and "srcset=" in page
    with client.get(photo.url) as served:
        assert served.status_code == 200
    lines = "\n".join(summary.lines())
    assert "media: 2 files downloaded into the uploads, 2 left at their old addresses" in lines
    assert "missing.png: the server answered 404" in lines
    assert "attachment 'Notes' stayed at" in lines and "not a JPEG, PNG" in lines
    # Each file fetched once: the sized copy was never needed.
    assert sorted(old_site.seen) == [
        "/elsewhere/diagram.png", "/elsewhere/missing.png",
        "/wp-content/uploads/2024/01/notes.png", "/wp-content/uploads/2024/01/photo.png",
    ]  # fmt: skip


def test_the_default_policy_refuses_this_machine(app, tmp_path, old_site):
    base = f"http://127.0.0.1:{old_site.server_port}"

    summary = import_text(app, tmp_path, export(base), media=Policy())

    assert old_site.seen == []
    assert uploaded_files(app) == []
    with app.app_context():
        post = db.session.scalar(db.select(Post).where(Post.slug == "with-pictures"))
        assert f"{base}/wp-content/uploads/2024/01/photo-300x200.png" in post.body
    assert "127.0.0.1 is not a public address" in "\n".join(summary.lines())


def test_the_command_takes_media_and_refuses_this_machine(app, runner, tmp_path, old_site):
    path = tmp_path / "export.xml"
    path.write_text(export(f"http://127.0.0.1:{old_site.server_port}"))

    result = runner.invoke(args=["import", "wordpress", str(path), "--media"])

    assert result.exit_code == 0, result.output
    # Two attachments, the sized copy the post shows, and its two other images.
    assert "media: 0 files downloaded into the uploads, 5 left at their old addresses" in (
        result.output
    )
    assert old_site.seen == []


def test_a_dry_run_downloads_nothing(app, tmp_path, old_site):
    base = f"http://127.0.0.1:{old_site.server_port}"

    summary = import_text(app, tmp_path, export(base), dry_run=True, media=THE_TESTS_SERVER)

    assert old_site.seen == [] and uploaded_files(app) == []
    assert "media: nothing is downloaded in a dry run" in summary.lines()


def test_an_import_that_fails_leaves_no_downloaded_file(app, tmp_path, old_site, monkeypatch):
    def broken(self):
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr("blog.wordpress.importer._Import.finish", broken)
    base = f"http://127.0.0.1:{old_site.server_port}"

    with pytest.raises(RuntimeError):
        import_text(app, tmp_path, export(base), media=THE_TESTS_SERVER)

    assert old_site.seen  # it had downloaded
    assert uploaded_files(app) == []
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 0
