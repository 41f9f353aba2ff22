"""`flask --app app backup FILE` and `restore FILE`: the whole site in one file, and back
into an empty instance, on either database engine (the road from SQLite to PostgreSQL).

The file is a zip archive:

    manifest.json          format, when, schema revisions, site settings, and for every
                           member its SHA-256 and size (and each table's row count)
    tables/<name>.jsonl    a table: a first line naming the columns, then one JSON list a
                           row, in primary-key order (datetimes in ISO 8601, bytes base64)
    files/uploads/...      the media library (instance/uploads, or its bucket)
    files/static/...       the site's own stylesheet and files (instance/static)
    files/templates/...    the site's own templates (instance/templates)

Every table of the database is in it, the core's and every plugin's (enabled or not),
but Alembic's bookkeeping and the search index, which restore rebuilds in the target's
own engine. The rows are read in one transaction, so the file is one consistent snapshot
while the site keeps serving and writing: REPEATABLE READ on PostgreSQL, a read
transaction in WAL mode on SQLite. Rows and files are streamed through, never held:
a 100,000-post site takes little memory.

Restore checks the whole file against its manifest first (a damaged or foreign file is
refused before anything changes), then into a database with no rows: builds the schema
as it was when the backup was made, loads every table in one transaction, puts the files
in place, upgrades the schema to this code's, rebuilds the search index and takes the
backup's [site] settings. If any step fails, what it made is removed again.
"""

import base64
import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import flask_migrate
from flask import current_app
from sqlalchemy import Boolean, Date, DateTime, LargeBinary, MetaData, Table, inspect, select, text
from sqlalchemy.engine import Connection

from blog import caching, config, search
from blog.database import db
from blog.media.storage import CHECKED_TYPES
from blog.media.stores import library
from blog.plugins import enabled_migration_branches

FORMAT = "pressroom-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FOLDERS = ("uploads", "static", "templates")  # of the instance folder, in files/<name>/
BATCH = 1000
# Not data: Alembic's bookkeeping (restore rebuilds the schema) and the search index
# (engine-specific; rebuilt from the posts).
SKIPPED_TABLES = ("alembic_version",)
SKIPPED_PREFIXES = (search.TABLE,)
CHUNK = 1 << 20


class BackupError(Exception):
    """A backup that cannot be made or restored; the message says why, in one line."""


def data_tables(connection: Connection) -> list[Table]:
    """Every table holding the site's data, by name."""
    names = [
        name
        for name in inspect(connection).get_table_names()
        if name not in SKIPPED_TABLES and not name.startswith(SKIPPED_PREFIXES)
    ]
    metadata = MetaData()
    metadata.reflect(bind=connection, only=names)
    return [metadata.tables[name] for name in sorted(names)]


def load_order(tables: list[Table]) -> list[tuple[Table, set[str]]]:
    """The tables, parents before the tables that refer to them, each with the columns to
    fill only once every row is in: links to a row of the same table (a reply's parent
    comment), and links that go round (a post's image is an attachment, an attachment's
    post is a post), broken where a link may be empty for a moment."""
    names = {table.name: table for table in tables}
    later: dict[str, set[str]] = {name: set() for name in names}
    needs: dict[str, dict[str, list]] = {name: {} for name in names}  # table: referred: FKs
    for table in tables:
        for constraint in table.foreign_key_constraints:
            referred = constraint.referred_table.name
            if referred == table.name:
                later[table.name] |= {column.name for column in constraint.columns}
            elif referred in names:
                needs[table.name].setdefault(referred, []).append(constraint)
    order: list[str] = []
    while len(order) < len(names):
        ready = sorted(name for name in names if name not in order and not needs[name])
        if not ready:  # a cycle: defer one link whose columns may be empty meanwhile
            name, referred = next(
                (name, referred)
                for name in sorted(needs)
                if name not in order
                for referred, constraints in needs[name].items()
                if all(column.nullable for c in constraints for column in c.columns)
            )
            later[name] |= {column.name for c in needs[name].pop(referred) for column in c.columns}
            continue
        order.append(ready[0])
        for name in needs:
            needs[name].pop(ready[0], None)
    return [(names[name], later[name]) for name in order]


def encode(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    return value


def decoder(column):
    """How a JSON value becomes what `column` holds."""
    kind = column.type
    if isinstance(kind, DateTime):
        return lambda value: value if value is None else datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return lambda value: value if value is None else date.fromisoformat(value)
    if isinstance(kind, LargeBinary):
        return lambda value: value if value is None else base64.b64decode(value)
    if isinstance(kind, Boolean):
        return lambda value: value if value is None else bool(value)
    return lambda value: value


def revisions(connection: Connection) -> list[str]:
    if not inspect(connection).has_table("alembic_version"):
        return []
    return sorted(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


class Member:
    """A member being written: counts its bytes and hashes them on the way."""

    def __init__(self, archive: zipfile.ZipFile, name: str):
        self.name = name
        self.stream = archive.open(name, "w", force_zip64=True)
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.stream.write(data)

    def close(self) -> dict:
        self.stream.close()
        return {"sha256": self.digest.hexdigest(), "bytes": self.size}


def snapshot(connection: Connection) -> None:
    """Start the one transaction every table is read in."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
    else:  # pysqlite begins nothing before a SELECT: ask, so that WAL keeps one snapshot
        connection.exec_driver_sql("BEGIN")


def write_backup(path: Path) -> dict:
    """Write the site to `path` (replaced only once complete); the manifest."""
    app = current_app._get_current_object()
    partial = path.with_name(path.name + ".partial")
    manifest = {"format": FORMAT, "version": FORMAT_VERSION, "tables": {}, "members": {},
                "site": app.config["SITE"], "plugins": app.config["PLUGINS"].get("enabled", []),
                "made_at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            with db.engine.connect() as connection:
                with connection.begin():
                    snapshot(connection)
                    manifest["engine"] = connection.dialect.name
                    manifest["revisions"] = revisions(connection)
                    for table in data_tables(connection):
                        count, member = dump_table(connection, table, archive)
                        manifest["tables"][table.name] = count
                        manifest["members"][member.name] = member.close()
            for name, info in dump_files(archive, Path(app.instance_path)):
                manifest["members"][name] = info
            archive.writestr(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def dump_table(connection: Connection, table: Table, archive) -> tuple[int, Member]:
    member = Member(archive, f"tables/{table.name}.jsonl")
    columns = [column.name for column in table.columns]
    member.write(json.dumps({"columns": columns}).encode() + b"\n")
    order = list(table.primary_key.columns) or list(table.columns)
    rows = connection.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
    count = 0
    for row in rows:
        line = json.dumps([encode(value) for value in row], ensure_ascii=False)
        member.write(line.encode() + b"\n")
        count += 1
    return count, member


def dump_files(archive, instance: Path) -> Iterator[tuple[str, dict]]:
    """The media library (from its store: the folder or a bucket) and the site's own files,
    as they are now (a file removed meanwhile is left out: files are never rewritten
    under the same name, only added and removed)."""
    store = library()
    for key in store.keys():
        name = f"files/uploads/{key}"
        member = Member(archive, name)
        try:
            for chunk in store.read(key):
                member.write(chunk)
        except FileNotFoundError:
            pass  # removed meanwhile: kept empty rather than half-written into the zip
        yield name, member.close()
    for folder in FOLDERS[1:]:
        root = instance / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            name = f"files/{folder}/{path.relative_to(root).as_posix()}"
            member = Member(archive, name)
            with path.open("rb") as source:
                while chunk := source.read(CHUNK):
                    member.write(chunk)
            yield name, member.close()


def file_count(manifest: dict) -> int:
    return sum(name.startswith("files/") for name in manifest["members"])


# Restore ------------------------------------------------------------------------------


def read_manifest(archive: zipfile.ZipFile, path: Path) -> dict:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError):
        raise BackupError(f"{path}: not a Pressroom backup (no manifest.json)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: not a Pressroom backup (manifest.json is another's)")
    if not manifest.get("revisions"):
        raise BackupError(f"{path}: the backup records no schema revision (its database was "
                          "never set up with `flask db upgrade`)")  # fmt: skip
    if manifest.get("version") != FORMAT_VERSION:
        raise BackupError(f"{path}: backup format {manifest.get('version')} is not one this "
                          f"Pressroom reads ({FORMAT_VERSION}); use a newer Pressroom")  # fmt: skip
    return manifest


def open_backup(path: Path) -> tuple[zipfile.ZipFile, dict]:
    """The archive and its manifest, once every member has matched its checksum."""
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, OSError):
        raise BackupError(f"{path}: not a Pressroom backup (not a zip archive)") from None
    try:
        manifest = read_manifest(archive, path)
        listed = manifest.get("members", {})
        present = set(archive.namelist()) - {MANIFEST}
        if present != set(listed):
            odd = sorted(present ^ set(listed))[:3]
            raise BackupError(f"{path}: damaged: members differ from the manifest ({odd})")
        for name, info in listed.items():
            if not safe_member(name):
                raise BackupError(f"{path}: refused: member {name!r} points outside the site")
            digest, size = hashlib.sha256(), 0
            try:
                with archive.open(name) as stream:
                    while chunk := stream.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as error:
                raise BackupError(f"{path}: damaged: {name}: {error}") from None
            if digest.hexdigest() != info.get("sha256") or size != info.get("bytes"):
                raise BackupError(f"{path}: damaged: {name} does not match its checksum")
    except BaseException:
        archive.close()
        raise
    return archive, manifest


def safe_member(name: str) -> bool:
    parts = name.split("/")
    if name.startswith("tables/"):
        return len(parts) == 2 and parts[1].endswith(".jsonl")
    return (
        len(parts) >= 3 and parts[0] == "files" and parts[1] in FOLDERS
        and all(part not in ("", ".", "..") for part in parts) and "\\" not in name
    )  # fmt: skip


# A site is empty while these hold nothing; what else a fresh instance writes (the
# security log's "plugins changed" at start) is dropped with it.
CONTENT_TABLES = ("user", "post", "attachment")


def content_rows(connection: Connection) -> int:
    present = set(inspect(connection).get_table_names())
    return sum(
        connection.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one()  # noqa: S608 -- our names
        for name in CONTENT_TABLES
        if name in present
    )


def check_target(manifest: dict) -> None:
    """Refuse a database or instance that holds anything, or misses a plugin the site used."""
    with db.engine.connect() as connection:
        rows = content_rows(connection)
    if rows:
        raise BackupError(
            f"the database here is not empty ({rows} users, posts or files): restore into "
            "a new instance (PRESSROOM_INSTANCE, DATABASE_URL)"
        )
    instance = Path(current_app.instance_path)
    if next(iter(library().keys()), None) is not None:
        raise BackupError("the media library here is not empty: restore into a new instance")
    for folder in FOLDERS[1:]:
        if (instance / folder).is_dir() and any((instance / folder).iterdir()):
            raise BackupError(f"{instance / folder} is not empty: restore into a new instance")
    enabled = set(current_app.config["PLUGINS"].get("enabled", []))
    missing = [name for name in manifest.get("plugins", []) if name not in enabled]
    if missing:
        raise BackupError(f"the backed-up site used plugins not enabled here: "
                          f"{', '.join(missing)} (add them to [plugins] enabled)")  # fmt: skip


def clear_database() -> None:
    """Drop every table (only ever called on a database that holds no rows)."""
    with db.engine.begin() as connection:
        metadata = MetaData()
        metadata.reflect(bind=connection)
        for table, _ in reversed(load_order(list(metadata.tables.values()))):
            if table.name.startswith(search.TABLE) and connection.dialect.name == "sqlite":
                connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{table.name}"')
            else:
                table.drop(connection, checkfirst=True)


def restore_backup(path: Path) -> dict:
    """Bring the backup at `path` into this empty instance; its manifest."""
    archive, manifest = open_backup(path)
    with archive:
        check_target(manifest)
        instance = Path(current_app.instance_path)
        placed: list[Path | str] = []
        with db.engine.connect() as connection:
            had_schema = bool(revisions(connection))
        try:
            clear_database()  # empty tables of a newer schema, if `db upgrade` ran here
            for revision in manifest["revisions"]:
                flask_migrate.upgrade(revision=revision)
            with db.engine.begin() as connection:
                load_tables(connection, archive, manifest)
            place_files(archive, manifest, instance, placed)
            upgrade_to_heads()
            search.rebuild()
            db.session.commit()
        except BaseException:
            db.session.rollback()
            for place in placed:
                if isinstance(place, str):
                    library().delete(place)
                else:
                    shutil.rmtree(place, ignore_errors=True)
            clear_database()
            if had_schema:  # as `db upgrade` had left it
                upgrade_to_heads()
            raise
    settings = {key: value for key, value in manifest.get("site", {}).items()
                if key in config.SITE_DEFAULTS or key == "hosts"}  # fmt: skip
    config.save_site_settings(current_app, settings)
    caching.site_changed_now()
    return manifest


def upgrade_to_heads() -> None:
    """What `flask db upgrade` does: the core and every enabled plugin to their heads."""
    flask_migrate.upgrade(revision="core@head")
    for branch in enabled_migration_branches(current_app):
        flask_migrate.upgrade(revision=f"{branch}@head")


def load_tables(connection: Connection, archive: zipfile.ZipFile, manifest: dict) -> None:
    present = {table.name: table for table in data_tables(connection)}
    strangers = [name for name in manifest["tables"] if name not in present]
    if strangers:
        raise BackupError(f"tables {', '.join(strangers)} of the backup have no place here "
                          "(is their plugin installed?)")  # fmt: skip
    wanted = [present[name] for name in manifest["tables"]]
    links = []
    for table, later in load_order(wanted):
        links.append((table, load_table(connection, archive, table, later)))
        counted = connection.execute(select(db.func.count()).select_from(table)).scalar_one()
        if counted != manifest["tables"][table.name]:
            raise BackupError(f"table {table.name}: {counted} rows loaded, the manifest says "
                              f"{manifest['tables'][table.name]}")  # fmt: skip
        if connection.dialect.name == "postgresql":
            reset_sequence(connection, table)
    for table, (deferred, found) in links:  # every row is in: the links can be made
        for column in deferred:
            relink(connection, table, column, found)


def load_table(
    connection: Connection, archive: zipfile.ZipFile, table: Table, later: set[str]
) -> tuple[list[str], list[dict]]:
    """Insert the table's rows in batches, the `later` columns empty; those columns and,
    for each row that had them, its key and their values."""
    with archive.open(f"tables/{table.name}.jsonl") as stream:
        columns = json.loads(stream.readline())["columns"]
        unknown = [column for column in columns if column not in table.columns]
        if unknown:
            raise BackupError(f"table {table.name}: columns {unknown} have no place here")
        decode = [decoder(table.columns[column]) for column in columns]
        deferred = [column for column in columns if column in later]
        keys = [key.name for key in table.primary_key.columns]
        links: list[dict] = []
        batch: list[dict] = []
        for line in stream:
            values = json.loads(line)
            row = {column: convert(value) for column, convert, value
                   in zip(columns, decode, values, strict=True)}  # fmt: skip
            if deferred and any(row[column] is not None for column in deferred):
                links.append({**{f"key_{key}": row[key] for key in keys},
                              **{f"new_{column}": row[column] for column in deferred}})  # fmt: skip
                row.update({column: None for column in deferred})
            batch.append(row)
            if len(batch) >= BATCH:
                connection.execute(table.insert(), batch)
                batch = []
        if batch:
            connection.execute(table.insert(), batch)
    return deferred, links


def refers_to_itself(table: Table, column: str) -> bool:
    return any(key.column.table.name == table.name for key in table.columns[column].foreign_keys)


def relink(connection: Connection, table: Table, column: str, links: list[dict]) -> None:
    from sqlalchemy import bindparam

    keys = [key.name for key in table.primary_key.columns]
    statement = (
        table.update()
        .where(*(table.c[key] == bindparam(f"key_{key}") for key in keys))
        .values({column: bindparam(f"new_{column}")})
    )
    todo = [link for link in links if link.get(f"new_{column}") is not None]
    for start in range(0, len(todo), BATCH):
        connection.execute(statement, todo[start : start + BATCH])


def reset_sequence(connection: Connection, table: Table) -> None:
    """PostgreSQL hands out ids from a sequence: start it past the ids just loaded."""
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or keys[0].type.python_type is not int:
        return
    column = keys[0].name
    sequence = connection.execute(
        text("SELECT pg_get_serial_sequence(:table, :column)"),
        {"table": table.name, "column": column},
    ).scalar()
    if sequence:
        highest = connection.execute(select(db.func.max(table.c[column]))).scalar()
        connection.execute(
            text("SELECT setval(:sequence, :value, :called)"),
            {"sequence": sequence, "value": highest or 1, "called": highest is not None},
        )


def place_files(archive: zipfile.ZipFile, manifest: dict, instance: Path, made: list) -> None:
    """Put the backup's files in place: uploads into the library's store, the rest into the
    instance folder; what was made (keys and folders) goes into `made`, to be removed if
    this or a later step fails."""
    for folder in FOLDERS[1:]:
        if any(name.startswith(f"files/{folder}/") for name in manifest["members"]):
            (instance / folder).mkdir(parents=True, exist_ok=True)
            made.append(instance / folder)
    store = library()
    for name in manifest["members"]:
        if name.startswith("files/uploads/"):
            key = name.removeprefix("files/uploads/")
            mimetype = CHECKED_TYPES.get(key.rpartition(".")[2].lower(), "application/octet-stream")
            store.create(key, archive.read(name), mimetype)
            made.append(key)
        elif name.startswith("files/"):
            target = instance / name.removeprefix("files/")
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(name) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
