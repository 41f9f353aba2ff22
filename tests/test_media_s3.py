"""The media library in an S3-compatible object store (`[media] storage = "s3"`), tested
against a server on 127.0.0.1: moto's S3 server (the registries this project can reach
offer no MinIO, Garage or SeaweedFS; moto speaks the same S3 API, including conditional
writes). The same cleaning, sizes, srcset and privacy as the instance folder."""

import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from blog.accounts import create_account
from blog.database import db
from blog.media.storage import store_image
from blog.media.stores import S3Store
from blog.models import Attachment
from tests.served_site import free_port
from tests.test_media import image_bytes, upload, width_of

KEYS = {"AWS_ACCESS_KEY_ID": "pressroom-test", "AWS_SECRET_ACCESS_KEY": "pressroom-secret"}


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on loopback; its address."""
    port = free_port()
    server = subprocess.Popen(
        [Path(sys.executable).parent / "moto_server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    address = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(address + "/moto-api/", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    yield address
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def bucket(s3_server, monkeypatch):
    """A new bucket, and the settings that point the library at it."""
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    settings = {"storage": "s3", "bucket": f"media-{uuid.uuid4().hex[:12]}",
                "endpoint": s3_server, "region": "us-east-1", "prefix": "site/"}  # fmt: skip
    S3Store(settings).client.create_bucket(Bucket=settings["bucket"])
    return settings


def objects(settings) -> dict[str, bytes]:
    store = S3Store(settings)
    return {key: b"".join(store.read(key)) for key in store.keys()}


@pytest.fixture
def app(make_app, bucket):
    return make_app(config={"MEDIA": bucket})


def test_an_upload_goes_to_the_bucket_in_every_width(app, writer, bucket):
    answer = upload(writer, image_bytes(2000, 1000), name="harbour.jpg").get_json()
    stored = objects(bucket)
    month = answer["url"].removeprefix("/uploads/").rpartition("/")[0]
    assert f"{month}/harbour.jpg" in stored and len(stored) >= 3
    assert all(key.startswith(f"{month}/harbour") for key in stored)
    assert not Path(app.instance_path, "uploads").exists()  # nothing on this host's disk
    with app.app_context():
        attachment = db.session.scalar(db.select(Attachment))
        sizes = attachment.srcset.split(", ")
        assert len(sizes) == len(stored)
        for part in sizes:
            url, width = part.split()
            assert width_of(stored[url.removeprefix("/uploads/")]) == int(width.rstrip("w"))
    with writer.get(answer["url"]) as response:
        assert response.status_code == 200
        assert response.data == stored[answer["url"].removeprefix("/uploads/")]
        assert response.headers["Cache-Control"] == "private, no-store"
        assert response.headers["Content-Type"] == "image/jpeg"


def test_only_those_who_may_see_it_get_it_until_a_post_shows_it(app, writer, bucket):
    answer = upload(writer, image_bytes(800, 600), name="secret.jpg").get_json()
    reader = app.test_client()
    assert reader.get(answer["url"]).status_code == 404
    writer.post("/admin/posts/new", data={"title": "Out", "body": answer["markdown"],
                                          "publish": "Publish"})  # fmt: skip
    with reader.get(answer["url"]) as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_one_name_twice_keeps_both(app, writer, bucket):
    first = upload(writer, image_bytes(300, 200), name="same.jpg").get_json()["url"]
    second = upload(writer, image_bytes(320, 200), name="same.jpg").get_json()["url"]
    assert second.endswith("/same-2.jpg")
    stored = objects(bucket)
    assert width_of(stored[first.removeprefix("/uploads/")]) == 300
    assert width_of(stored[second.removeprefix("/uploads/")]) == 320


def test_the_store_never_replaces_an_object(bucket):
    store = S3Store(bucket)
    store.create("2026/11/one.jpg", b"first", "image/jpeg")
    with pytest.raises(FileExistsError):
        store.create("2026/11/one.jpg", b"second", "image/jpeg")
    assert b"".join(store.read("2026/11/one.jpg")) == b"first"


def test_deleting_an_upload_removes_its_objects(app, writer, bucket):
    upload(writer, image_bytes(2000, 1000), name="gone.jpg")
    assert objects(bucket)
    with app.app_context():
        attachment_id = db.session.scalar(db.select(Attachment.id))
    page = writer.get("/admin/media/").text
    assert f"/admin/media/{attachment_id}/delete" in page
    writer.post(f"/admin/media/{attachment_id}/delete")
    assert objects(bucket) == {}


def test_a_backup_moves_the_library_from_the_folder_into_a_bucket(sites, tmp_path, bucket):
    folder_site = sites.make("folder", "sqlite")
    with folder_site.app_context():
        owner = create_account("ann", "ann@example.com", role="admin", password="long password 1")
        db.session.commit()
        url = store_image(image_bytes(900, 600), "moved.jpg", "Moved", owner).url
    on_disk = Path(folder_site.instance_path, "uploads", url.removeprefix("/uploads/"))
    result = folder_site.test_cli_runner().invoke(args=["backup", str(tmp_path / "site.zip")])
    assert result.exit_code == 0, result.output

    bucket_site = sites.make("bucket", "sqlite", upgrade=False, MEDIA=bucket)
    result = bucket_site.test_cli_runner().invoke(args=["restore", str(tmp_path / "site.zip")])
    assert result.exit_code == 0, result.output
    stored = objects(bucket)
    assert stored[url.removeprefix("/uploads/")] == on_disk.read_bytes()
    assert len(stored) == len(list(on_disk.parent.iterdir()))
