"""Where the media library's files live: the instance folder, or an S3-compatible object
store, behind one small interface (blog/media/storage.py is its only user, with backup).

A file is named by a key ("2026/11/harbour-640w.jpg") and written once: create() never
replaces a file (another upload may have taken the name a moment ago; it raises
FileExistsError), so an address, once given out, always shows the same bytes and caches
may keep it for a year.

- FolderStore: instance/uploads/ (the default). Behind nginx or Caddy, the proxy sends
  the bytes ([proxy] internal_uploads).
- S3Store (`[media] storage = "s3"`): a bucket of any S3-compatible store (AWS S3, MinIO,
  Garage, Ceph, ...), private; the app checks who may see each file, as for the folder,
  and streams it. Every host of a site sees the same files. The credentials come from the
  environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), never from config.toml.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from flask import Flask, Response, abort, current_app, send_from_directory

CHUNK = 1 << 16


class FolderStore:
    def __init__(self, root: Path):
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key

    def create(self, key: str, data: bytes, mimetype: str) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as out:  # "x": another upload may have just taken it
            try:
                out.write(data)
            except BaseException:
                target.unlink(missing_ok=True)
                raise

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def keys_with_prefix(self, prefix: str) -> Iterator[str]:
        folder, _, start = prefix.rpartition("/")
        base = self.root / folder if folder else self.root
        if not base.is_dir():
            return
        for path in base.glob(f"{start}*"):
            if path.is_file():
                yield path.relative_to(self.root).as_posix()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def read(self, key: str) -> Iterator[bytes]:
        with open(self.path(key), "rb") as source:
            while chunk := source.read(CHUNK):
                yield chunk

    def keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(self.root).as_posix()

    def response(self, key: str, mimetype: str, filename: str) -> Response:
        internal = current_app.config["PROXY"]["internal_uploads"]
        if internal:  # the app decides, the web server sends the bytes (deploy/nginx)
            response = current_app.response_class(mimetype=mimetype)
            response.headers["X-Accel-Redirect"] = internal + quote(key)
            response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
            return response
        return send_from_directory(self.root, key, mimetype=mimetype, download_name=filename)


class S3Store:
    def __init__(self, settings: dict):
        import boto3
        from botocore.config import Config

        self.bucket = settings["bucket"]
        self.prefix = settings["prefix"]
        self.client = boto3.client(
            "s3",
            endpoint_url=settings["endpoint"] or None,
            region_name=settings["region"] or None,
            config=Config(
                retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30
            ),  # fmt: skip
        )

    def name(self, key: str) -> str:
        return self.prefix + key

    def create(self, key: str, data: bytes, mimetype: str) -> None:
        from botocore.exceptions import ClientError

        try:  # written only if no object has the name (S3's conditional write)
            self.client.put_object(Bucket=self.bucket, Key=self.name(key), Body=data,
                                   ContentType=mimetype, IfNoneMatch="*")  # fmt: skip
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                raise FileExistsError(key) from None
            raise

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.name(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def keys_with_prefix(self, prefix: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.name(prefix)
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"].removeprefix(self.prefix)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.name(key))

    def read(self, key: str) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=self.name(key))["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def keys(self) -> Iterator[str]:
        return self.keys_with_prefix("")

    def response(self, key: str, mimetype: str, filename: str) -> Response:
        from botocore.exceptions import ClientError

        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self.name(key))
        except ClientError:
            current_app.logger.exception("media: %s could not be read from the bucket", key)
            abort(404)
        body = found["Body"]

        def stream():
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        response = current_app.response_class(stream(), mimetype=mimetype, direct_passthrough=True)
        response.content_length = found["ContentLength"]
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
        return response


def rendition_of(stem: str, extension: str) -> re.Pattern:
    """The names of the sizes made of `stem`: photo-640w.jpg is a size of photo.jpg."""
    return re.compile(re.escape(stem) + r"-\d+w\." + re.escape(extension) + "$")


def make_store(app: Flask):
    settings = app.config["MEDIA"]
    if settings["storage"] == "s3":
        return S3Store(settings)
    return FolderStore(Path(app.instance_path, "uploads"))


def library():
    """The store of the media library."""
    return current_app.extensions["pressroom.media_store"]


def init_app(app: Flask) -> None:
    app.extensions["pressroom.media_store"] = make_store(app)
