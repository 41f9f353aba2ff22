"""Image uploads: only real images, cleaned of metadata, in several sizes; the media library."""

import io
import re
import struct
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

import blog.media.storage
from blog.database import db
from blog.media.images import MAX_BYTES, MAX_WIDTH, WIDTHS
from blog.models import Attachment, Post
from blog.sharing import share_link
from tests.conftest import AuthActions, shared_file

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def image_bytes(width=2000, height=1000, kind="JPEG", exif=None, **options) -> bytes:
    picture = Image.new("RGB", (width, height), (200, 120, 40))
    picture.paste((20, 40, 200), (0, 0, width // 2, height))  # a left half to tell sides apart
    out = io.BytesIO()
    if exif is not None:
        options["exif"] = exif
    picture.save(out, kind, **options)
    return out.getvalue()


def camera_exif(orientation=1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Pressroom Camera Co"  # Make
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    return exif


def multipart(fields: dict) -> dict:
    """A multipart body encoded in memory: the test client's own encoder leaves a
    temporary file open for bodies past 500 KB."""
    boundary, body = encode_multipart(
        MultiDict(
            {
                name: FileStorage(io.BytesIO(value[0]), value[1])
                if isinstance(value, tuple)
                else value
                for name, value in fields.items()
            }
        )
    )
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def upload(client, data: bytes, name="photo.jpg", alt="A photo", url="/admin/media/upload"):
    return client.post(url, **multipart({"image": (data, name), "alt_text": alt}))


def width_of(data_or_path) -> int:
    source = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path
    with Image.open(source) as picture:
        return picture.width


def uploads(app) -> Path:
    return Path(app.instance_path, "uploads")


def stored_files(app) -> list[Path]:
    return sorted(path for path in uploads(app).rglob("*") if path.is_file())


def test_an_upload_is_stored_in_several_widths(app, writer):
    response = upload(writer, image_bytes(3000, 1500), name="Harbour at dawn.JPG")

    assert response.status_code == 201
    answer = response.get_json()
    assert answer["url"].startswith("/uploads/") and answer["url"].endswith("/harbour-at-dawn.jpg")
    assert answer["markdown"] == f"![A photo]({answer['url']})"
    assert (answer["width"], answer["height"]) == (MAX_WIDTH, MAX_WIDTH // 2)
    widths = sorted(width_of(path) for path in stored_files(app))
    assert widths == [*WIDTHS, MAX_WIDTH]
    with app.app_context():
        attachment = db.session.get(Attachment, answer["id"])
        assert attachment.alt_text == "A photo" and attachment.mime_type == "image/jpeg"
        assert attachment.srcset.endswith(f"{answer['url']} {MAX_WIDTH}w")
        assert attachment.srcset.count("w,") == len(WIDTHS)

    with writer.get(answer["url"]) as served:
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert "sandbox" in served.headers["Content-Security-Policy"]
        assert served.headers["Content-Disposition"] == "inline; filename=harbour-at-dawn.jpg"
        assert served.headers["Cache-Control"] == "private, no-store"  # in no public post yet


def test_a_small_image_is_not_blown_up(app, writer):
    answer = upload(writer, image_bytes(300, 200, "PNG"), name="icon.png").get_json()
    assert (answer["width"], answer["height"]) == (300, 200)
    assert len(stored_files(app)) == 1


def test_location_and_camera_data_are_removed_and_the_photo_turned_upright(app, writer):
    # Orientation 6: the camera was turned; the stored picture must be turned instead.
    data = image_bytes(600, 400, exif=camera_exif(orientation=6))
    with Image.open(io.BytesIO(data)) as original:
        assert original.getexif().get_ifd(GPS_IFD)  # the fixture has a location

    answer = upload(writer, data).get_json()

    for path in stored_files(app):
        with Image.open(path) as stored:
            assert not stored.getexif(), path.name
        assert b"Pressroom Camera" not in path.read_bytes()
    assert (answer["width"], answer["height"]) == (400, 600)


def test_script_in_png_metadata_never_reaches_a_stored_file(app, writer):
    fixture = shared_file("fixtures", "xss-in-png-metadata.png").read_bytes()
    with Image.open(io.BytesIO(fixture)) as original:
        assert original.getexif()[270] == "<script>alert(1)</script>"  # ImageDescription
        assert "script" in original.info["xmp"].decode()

    response = upload(writer, fixture, name="<script>alert(1)</script>.png", alt="<b>x</b>")

    assert response.status_code == 201
    for path in stored_files(app):
        data = path.read_bytes()
        assert b"script" not in data.lower()
        for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"iCCP"):
            assert chunk not in data
        assert path.name.removesuffix(".png").replace("-", "").isalnum()
    page = writer.get("/admin/media/").text
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_svg_is_refused_because_it_can_carry_script(app, writer):
    svg = shared_file("fixtures", "xss-svg-script.svg").read_bytes()

    response = upload(writer, svg, name="logo.svg")

    assert response.status_code == 415
    assert "SVG images are not accepted" in response.get_json()["error"]
    assert stored_files(app) == []
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 0


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"", 422, "The file is empty."),
        (b"%PDF-1.7 not a picture", 415, "not a JPEG, PNG, GIF or WebP image"),
        (image_bytes(64, 64, "BMP"), 415, "not a JPEG, PNG, GIF or WebP image"),
        (image_bytes(400, 400)[:600], 422, "The image is damaged"),
        (b"\xff" * (MAX_BYTES + 1), 413, "images up to 10.0 MB are accepted"),
    ],
    ids=["empty", "pdf", "bmp", "truncated", "too-large"],
)
def test_bad_uploads_are_refused_with_a_reason(app, writer, data, status, message):
    response = upload(writer, data, name="file.jpg")

    assert response.status_code == status
    assert message in response.get_json()["error"]
    assert stored_files(app) == []


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width × height pixels (a decompression bomb's trick)."""
    data = bytearray(image_bytes(1, 1, "PNG"))
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


@pytest.mark.parametrize("side", [8_000, 20_000])  # 64 megapixels; 400, past Pillow's own limit
def test_a_decompression_bomb_is_refused_before_it_is_unpacked(app, writer, side):
    response = upload(writer, png_claiming(side, side), name="bomb.png")

    assert response.status_code == 422
    assert response.get_json()["error"] == "The image has too many pixels: up to 50 megapixels."
    assert stored_files(app) == []


def test_an_upload_bigger_than_the_site_limit_gets_a_clear_page(app, writer):
    response = upload(writer, b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    assert response.status_code == 413


def test_two_uploads_with_one_name_keep_both(app, writer):
    first = upload(writer, image_bytes(100, 100), name="same.jpg").get_json()["url"]
    second = upload(writer, image_bytes(120, 100), name="same.jpg").get_json()["url"]
    assert first != second and second.endswith("/same-2.jpg")
    with writer.get(first) as response:
        assert width_of(response.data) == 100


def test_a_name_taken_at_the_same_moment_is_not_overwritten(app, writer, monkeypatch):
    first = upload(writer, image_bytes(100, 100), name="race.jpg").get_json()["url"]
    real_free_stem = blog.media.storage.free_stem
    answers = iter(["race"])  # as if another upload took "race" after the check

    def stale_then_real(folder, stem, extension):
        return next(answers, None) or real_free_stem(folder, stem, extension)

    monkeypatch.setattr("blog.media.storage.free_stem", stale_then_real)
    second = upload(writer, image_bytes(120, 100), name="race.jpg").get_json()["url"]

    assert second.endswith("/race-2.jpg")
    with writer.get(first) as response:
        assert width_of(response.data) == 100


def test_uploaded_images_in_a_post_get_srcset(app, writer, client):
    answer = upload(writer, image_bytes(2000, 1000), alt="Harbour").get_json()
    writer.post(
        "/admin/posts/new",
        data={"title": "Pictures", "body": f"Look:\n\n{answer['markdown']}", "publish": "Publish"},
    )

    page = client.get("/pictures/").text

    assert f'<img src="{answer["url"]}" alt="Harbour" srcset="' in page
    assert 'sizes="(max-width: 46rem) 100vw, 46rem"' in page
    assert 'width="2000" height="1000" loading="lazy">' in page


def test_the_editor_uploads_without_javascript(app, writer):
    response = writer.post(
        "/admin/posts/new",
        **multipart(
            {
                "title": "Draft with picture",
                "body": "Words first.",
                "image": (image_bytes(200, 100), "pic.jpg"),
                "image_alt": "Two colours",
                "upload": "Upload image",
            }
        ),
    )

    assert response.status_code == 200
    assert "Image uploaded and added to the end of the body" in response.text
    assert "Words first.\n\n![Two colours](/uploads/" in response.text
    with app.app_context():  # the post itself waits for Save draft or Publish
        from blog.models import Post

        assert db.session.scalar(db.select(db.func.count(Post.id))) == 0

    refused = writer.post(
        "/admin/posts/new",
        **multipart(
            {"title": "T", "image": (b"<svg onload=alert(1)>", "x.svg"), "upload": "Upload image"}
        ),
    )
    assert refused.status_code == 422
    assert "SVG images are not accepted" in refused.text


def test_the_media_library_lists_searches_and_deletes(app, writer):
    upload(writer, image_bytes(1200, 600), name="sunset.jpg", alt="Red sky")
    upload(writer, image_bytes(100, 100), name="cat.png", alt="A cat")

    library = writer.get("/admin/media/").text
    assert "sunset" in library and "cat" in library
    found = writer.get("/admin/media/?q=red sky").text
    assert "sunset" in found and "cat.png" not in found
    assert "No media match" in writer.get("/admin/media/?q=%25").text

    with app.app_context():
        sunset = db.session.scalar(db.select(Attachment).where(Attachment.title == "sunset"))
        sunset_id, files_before = sunset.id, len(stored_files(app))
    response = writer.post(f"/admin/media/{sunset_id}/delete")
    assert response.status_code == 302
    assert len(stored_files(app)) == files_before - 1 - len(WIDTHS[:2])  # 1200: 480 and 960 too
    assert f'id="media-{sunset_id}"' not in writer.get("/admin/media/").text


def item_of(library: str, attachment_id: int) -> str:
    """One file's entry on the media library page."""
    return library.partition(f'id="media-{attachment_id}"')[2].partition("</li>")[0]


def test_the_library_says_which_posts_show_a_file(app, writer):
    sunset = upload(writer, image_bytes(600, 300), name="sunset.jpg").json
    cat = upload(writer, image_bytes(100, 100), name="cat.png").json
    spare = upload(writer, image_bytes(100, 100), name="spare.png").json
    writer.post("/admin/posts/new", data={
        "title": "Evening", "body": f"Look:\n\n{sunset['markdown']}", "publish": "1"})  # fmt: skip
    with_host = f"![A cat](http://blog.test{cat['url']})"  # the site's own address counts too
    writer.post("/admin/posts/new", data={"title": "Pets", "body": with_host, "publish": "1"})
    writer.post("/admin/posts/new", data={
        "title": "Dusk", "body": f"Again: {sunset['markdown']}", "publish": "1"})  # fmt: skip

    library = writer.get("/admin/media/").text
    unused = writer.get("/admin/media/?unused=1").text
    assert '<a href="/admin/posts/3/edit">Dusk</a>, <a href="/admin/posts/1/edit">Evening' in (
        item_of(library, sunset["id"])
    )
    assert "2 posts show it and will show a broken image." in item_of(library, sunset["id"])
    assert ">Pets</a>" in item_of(library, cat["id"])
    assert "Not shown in any post" in item_of(library, spare["id"])
    assert "No post shows it." in item_of(library, spare["id"])
    assert f'id="media-{spare["id"]}"' in unused
    assert f'id="media-{sunset["id"]}"' not in unused and f'id="media-{cat["id"]}"' not in unused

    # The uses follow every save: the picture taken out, the post deleted.
    writer.post("/admin/posts/1/edit", data={"title": "Evening", "body": "Gone.", "publish": "1"})
    writer.post("/admin/posts/2/delete")
    unused = writer.get("/admin/media/?unused=1").text
    assert f'id="media-{cat["id"]}"' in unused
    assert ">Dusk</a>" in item_of(writer.get("/admin/media/").text, sunset["id"])


def test_a_file_is_found_by_any_address_a_post_gives_it():
    from blog.media.usage import addresses_in

    body = (
        "![Resized by WordPress](https://old.example/wp-content/uploads/2019/01/dog-300x200.jpg)"
        ' <img src="https://blog.example/uploads/2026/11/cat.png" alt="">'
        ' [and a link](/uploads/2026/11/notes.pdf "Notes")'
    )

    assert {
        "https://old.example/wp-content/uploads/2019/01/dog.jpg",
        "https://old.example/wp-content/uploads/2019/01/dog-300x200.jpg",
        "/uploads/2026/11/cat.png",
        "/uploads/2026/11/notes.pdf",
    } <= addresses_in(body)


def test_deleting_a_file_forgets_where_it_was_shown(app, writer):
    from blog.models import attachment_use

    sunset = upload(writer, image_bytes(600, 300), name="sunset.jpg").json
    writer.post("/admin/posts/new", data={
        "title": "Evening", "body": sunset["markdown"], "publish": "1"})  # fmt: skip

    writer.post(f"/admin/media/{sunset['id']}/delete")

    with app.app_context():
        assert db.session.execute(db.select(attachment_use)).all() == []
        assert db.session.scalar(db.select(db.func.count()).select_from(Attachment)) == 0


def test_the_library_upload_form_works_without_javascript(app, writer):
    response = writer.post(
        "/admin/media/",
        **multipart({"image": (image_bytes(50, 50, "GIF"), "tiny.gif"), "alt_text": "Dot"}),
    )
    assert response.status_code == 302
    assert "tiny" in writer.get("/admin/media/").text

    refused = writer.post("/admin/media/", **multipart({"alt_text": "Nothing"}))
    assert refused.status_code == 422
    assert "Choose an image file to upload." in refused.text


def test_authors_delete_only_their_own_uploads(app, client, auth, add_user, writer):
    upload(writer, image_bytes(100, 100), name="editors.jpg")
    auth.logout()
    add_user("bob", role="author")
    auth.login("bob")
    with app.app_context():
        attachment_id = db.session.scalar(db.select(Attachment.id))

    assert client.post(f"/admin/media/{attachment_id}/delete").status_code == 403
    assert len(stored_files(app)) == 1


def test_uploads_need_a_login(app, client):
    response = upload(client, image_bytes(10, 10))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_library_never_names_another_author_s_draft(app, client, auth, add_user, writer):
    secret = upload(writer, image_bytes(60, 60), name="plan.jpg").json
    shared = upload(writer, image_bytes(60, 60), name="logo.jpg").json
    writer.post("/admin/posts/new", data={
        "title": "Secret plan", "body": secret["markdown"] + shared["markdown"],
        "save_draft": "1"})  # fmt: skip
    writer.post("/admin/posts/new", data={
        "title": "Out now", "body": shared["markdown"], "publish": "1"})  # fmt: skip
    writer.get("/admin/")  # shows, and so ends, alice's "Saved" messages
    auth.logout()
    add_user("bob", role="author")
    auth.login("bob")

    library = client.get("/admin/media/").text

    assert "Secret plan" not in library
    assert "Shown in 1 post you cannot open" in item_of(library, secret["id"])
    assert ">Out now</a>" in item_of(library, shared["id"])


def animation(frames: int, width: int, height: int) -> bytes:
    colours = [(200, 40, 40), (40, 40, 200)]  # alternating: equal frames would be merged
    pictures = [Image.new("RGB", (width, height), colours[n % 2]) for n in range(frames)]
    out = io.BytesIO()
    pictures[0].save(out, "GIF", save_all=True, append_images=pictures[1:], duration=50)
    return out.getvalue()


def test_an_animation_counts_every_frame_s_pixels(app, writer, monkeypatch):
    """Each frame under the cap, all of them together over it: refused before decoding."""
    monkeypatch.setattr("blog.media.images.MAX_ANIMATION_PIXELS", 1_000_000)

    refused = upload(writer, animation(5, 500, 500), name="long.gif")
    kept = upload(writer, animation(3, 500, 500), name="short.gif")

    assert refused.status_code == 422
    assert "5 frames of 500×500" in refused.json["error"]
    assert kept.status_code == 201 and len(stored_files(app)) == 1


def served(client, url: str) -> tuple[int, str]:
    with client.get(url) as answer:
        return answer.status_code, answer.headers.get("Cache-Control", "")


def test_an_image_no_public_post_shows_is_not_public(app, client, auth, add_user, add_post):
    """Uploaded, or shown only by a draft: only those who may see it get it, and no cache
    keeps it. Once a published post shows it, it is everyone's, kept for a year."""
    add_user("alice", role="author")
    add_user("bob", role="author")
    add_user("eve", role="editor")
    auth.login("alice")
    answer = upload(client, image_bytes(1600, 800), name="secret plan.jpg").get_json()
    url, size = answer["url"], answer["url"].replace(".jpg", f"-{WIDTHS[0]}w.jpg")
    auth.logout()
    draft = add_post("Plans", body=f"![Plan]({url})", status="draft", author="alice")
    people = {}
    for name in ("alice", "bob", "eve"):
        people[name] = app.test_client()
        AuthActions(people[name]).login(name)

    assert served(client, url)[0] == 404 and served(client, size)[0] == 404  # visitors
    assert served(people["bob"], url)[0] == 404  # another author
    assert served(people["alice"], url) == (200, "private, no-store")  # the uploader
    assert served(people["eve"], size) == (200, "private, no-store")  # an editor
    with app.test_request_context():
        link = share_link(db.session.get(Post, draft), timedelta(days=1))
    shared_page = client.get(link.removeprefix("http://blog.test")).text
    assert f"{url}?share=" in shared_page  # the share link's reader sees the draft's images
    shared_image = re.search(rf'src="({re.escape(url)}\?share=[^"]+)"', shared_page).group(1)
    assert served(client, shared_image.replace("&amp;", "&"))[0] == 200
    assert served(client, f"{url}?share=forged")[0] == 404

    add_post("Out now", body=f"![Plan]({url})", author="alice")

    assert served(client, url) == (200, "public, max-age=31536000, immutable")
    assert served(client, size)[0] == 200


def test_only_library_files_of_checked_types_are_served(app, client, writer):
    answer = upload(writer, image_bytes(300, 200, "PNG"), name="icon.png").get_json()
    folder = Path(app.instance_path, "uploads")
    (folder / "page.html").write_text("<script>alert(1)</script>")
    (folder / "stray.png").write_bytes(image_bytes(10, 10, "PNG"))
    svg = answer["url"].removeprefix("/uploads/").replace(".png", ".svg")
    (folder / svg).write_text("<svg onload=alert(1)></svg>")

    assert served(writer, "/uploads/page.html")[0] == 404
    assert served(writer, "/uploads/stray.png")[0] == 404  # not in the library
    assert served(writer, f"/uploads/{svg}")[0] == 404  # beside a library file, not one
    assert served(writer, answer["url"])[0] == 200
