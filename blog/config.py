"""Site settings: instance/config.toml, read with tomllib and mapped into app.config."""

import os
import re
import secrets
import tomllib
from datetime import timedelta
from pathlib import Path

import tomlkit

from blog import page_cache
from blog.models import ROLES
from blog.proxy import networks
from blog.sitetime import is_zone_name

CONFIG_FILE = "config.toml"

SITE_DEFAULTS = {
    "title": "My Blog",
    "tagline": "",
    "url": "http://127.0.0.1:5000",
    "posts_per_page": 10,
    "timezone": "UTC",
    "language": "en",
}
# A BCP 47 language tag as pages, feeds and search engines want it: "en", "fr", "pt-BR".
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
DEFAULT_DATABASE_URL = "sqlite:///blog.sqlite3"
# The built-in plugins a new site starts with, in page order.
DEFAULT_PLUGINS = ["categories", "related_posts", "comments"]

# What a fresh instance starts with; comments stay because the owner edits this file by hand.
NEW_CONFIG = """\
secret_key = "{secret_key}"  # written on first run; keep it secret

[site]
title = "My Blog"
tagline = ""
url = "http://127.0.0.1:5000"  # absolute links in feeds, sitemaps, emails
posts_per_page = 10
timezone = "UTC"  # how dates are shown and typed, e.g. "Europe/Paris"
language = "en"  # what the posts are written in, a language tag: "fr", "pt-BR"

[database]
url = "sqlite:///blog.sqlite3"  # relative to the instance folder; or postgresql+psycopg://...

[plugins]
# Order here is order on the page. Delete a name to switch that plugin off.
enabled = {plugins}
"""


class ConfigError(Exception):
    """A config file or setting that Pressroom cannot start with; the message names it."""


def instance_path(project_root: Path) -> str:
    """The instance folder: PRESSROOM_INSTANCE if set, else instance/ in the project."""
    return os.path.abspath(os.environ.get("PRESSROOM_INSTANCE") or project_root / "instance")


# Email the site sends (blog/mail.py); off while host is "". The password, if the server
# wants one, comes from the environment (MAIL_PASSWORD), never from this file.
MAIL_DEFAULTS = {"host": "", "port": 25, "security": "none", "username": "",
                 "from": "pressroom@localhost"}  # fmt: skip


# Behind nginx or Caddy (blog/proxy.py, deploy/): whose X-Forwarded-* headers are
# believed, how many proxies deep, and where the proxy serves uploads the app has allowed.
PROXY_DEFAULTS = {"trusted": [], "hops": 1, "internal_uploads": ""}


# Background jobs (blog/jobs.py): how long before the first retry of a failed job (then
# three times longer each time), and whether serving processes run queued jobs themselves
# (without Redis; set false when `flask --app app worker` runs as its own service).
JOBS_DEFAULTS = {"first_retry_seconds": 10, "in_process": True}


# Where the media library's files live (blog/media/stores.py): "folder" (instance/uploads)
# or "s3", a bucket of an S3-compatible store; its keys come from the environment
# (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), never from this file.
MEDIA_DEFAULTS = {"storage": "folder", "bucket": "", "endpoint": "", "region": "", "prefix": ""}


def defaults() -> dict:
    """Settings every app starts from, before config.toml or a test mapping."""
    return {
        "SITE": dict(SITE_DEFAULTS),
        "PLUGINS": {"enabled": []},
        "ACCOUNTS": {"require_two_factor": []},
        "MAIL": dict(MAIL_DEFAULTS),
        "PROXY": dict(PROXY_DEFAULTS),
        "JOBS": dict(JOBS_DEFAULTS),
        "MEDIA": dict(MEDIA_DEFAULTS),
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # Cookies a script cannot read and another site cannot send along.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # "Remember me" for a month, as most sites (Flask-Login's default is a year); it
        # names the account's session generation, so logging out ends it anywhere.
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
    }


def load(app) -> None:
    """Read instance/config.toml (creating it on first run), then the environment overrides."""
    path = Path(app.instance_path, CONFIG_FILE)
    if not path.exists():
        write_new_config(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from None
    app.config.update(parse(data, path.name, app.instance_path))
    apply_environment(app.config, app.instance_path)
    app.config["CONFIG_PATH"] = str(path)
    app.config["CONFIG_MTIME"] = path.stat().st_mtime_ns
    app.before_request(lambda: follow_site_settings(app))


def follow_site_settings(app) -> None:
    """Pick up [site] changes saved by another worker, or by the owner in an editor.

    One stat() a request. Plugins, database and secret key still need a restart;
    a file that no longer parses keeps the settings in force and is logged.
    """
    path = app.config["CONFIG_PATH"]
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return
    if mtime == app.config["CONFIG_MTIME"]:
        return
    app.config["CONFIG_MTIME"] = mtime
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        site = parse(data, CONFIG_FILE, app.instance_path)["SITE"]
    except (OSError, tomllib.TOMLDecodeError, ConfigError) as error:
        app.logger.warning("config.toml changed but was not reloaded: %s", error)
        return
    if site != app.config["SITE"]:
        app.config["SITE"] = site
        page_cache.forget(app, None)  # stored pages show the old title, tagline, ...


def write_new_config(path: Path) -> None:
    """Create a config file with a fresh random secret key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    plugins = "[" + ", ".join(f'"{name}"' for name in DEFAULT_PLUGINS) + "]"
    text = NEW_CONFIG.format(secret_key=secrets.token_hex(32), plugins=plugins)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


def parse(data: dict, filename: str, instance_folder: str) -> dict:
    """Check the TOML document and turn it into app.config keys."""
    tables = ("site", "database", "plugins", "cache", "accounts", "mail", "proxy", "jobs", "media")
    known = {"secret_key": str, **dict.fromkeys(tables, dict)}
    check_keys(data, known, filename, "")
    site = dict(SITE_DEFAULTS)
    site_types = {
        "title": str, "tagline": str, "url": str, "posts_per_page": int, "timezone": str,
        "language": str, "hosts": list,
    }  # fmt: skip
    check_keys(data.get("site", {}), site_types, filename, "site.")
    site.update(data.get("site", {}))
    if site["posts_per_page"] < 1:
        raise ConfigError(f"{filename}: site.posts_per_page must be at least 1")
    site["url"] = site["url"].rstrip("/")
    hosts = site.get("hosts", [])
    if not all(isinstance(host, str) and host and "/" not in host for host in hosts):
        raise ConfigError(
            f'{filename}: site.hosts must be a list of names, e.g. ["www.example.com"]'
        )
    site["hosts"] = [host.lower() for host in hosts]
    if not LANGUAGE_TAG.fullmatch(site["language"]):
        raise ConfigError(
            f'{filename}: site.language "{site["language"]}" is not a language tag; '
            'use one such as "en", "fr" or "pt-BR"'
        )
    if not is_zone_name(site["timezone"]):
        raise ConfigError(
            f'{filename}: site.timezone "{site["timezone"]}" is not a time zone name; '
            'use one such as "Europe/Paris" or "UTC"'
        )

    check_keys(data.get("cache", {}), {"pages": bool, "max_pages": int}, filename, "cache.")
    check_keys(data.get("database", {}), {"url": str}, filename, "database.")
    database_url = data.get("database", {}).get("url", DEFAULT_DATABASE_URL)

    plugins = dict(data.get("plugins", {"enabled": list(DEFAULT_PLUGINS)}))
    enabled = plugins.setdefault("enabled", [])
    if not isinstance(enabled, list) or not all(isinstance(name, str) for name in enabled):
        raise ConfigError(f"{filename}: plugins.enabled must be a list of plugin names")
    for name, table in plugins.items():
        if name != "enabled" and not isinstance(table, dict):
            raise ConfigError(f"{filename}: plugins.{name} must be a table ([plugins.{name}])")

    accounts = data.get("accounts", {})
    check_keys(accounts, {"require_two_factor": list}, filename, "accounts.")
    required = accounts.get("require_two_factor", [])
    if not all(role in ROLES for role in required):
        raise ConfigError(
            f"{filename}: accounts.require_two_factor lists roles, e.g. "
            f'["admin", "editor"] (roles: {", ".join(ROLES)})'
        )

    mail = {**MAIL_DEFAULTS, **data.get("mail", {})}
    mail_types = {"host": str, "port": int, "security": str, "username": str, "from": str}
    check_keys(data.get("mail", {}), mail_types, filename, "mail.")
    if mail["security"] not in ("none", "starttls", "tls"):
        raise ConfigError(f'{filename}: mail.security must be "none", "starttls" or "tls"')

    proxy = parse_proxy(data.get("proxy", {}), filename)
    jobs = {**JOBS_DEFAULTS, **data.get("jobs", {})}
    check_keys(data.get("jobs", {}), {"first_retry_seconds": int, "in_process": bool}, filename,
               "jobs.")  # fmt: skip
    if jobs["first_retry_seconds"] < 1:
        raise ConfigError(f"{filename}: jobs.first_retry_seconds must be at least 1")

    media = {**MEDIA_DEFAULTS, **data.get("media", {})}
    check_keys(data.get("media", {}), dict.fromkeys(MEDIA_DEFAULTS, str), filename, "media.")
    if media["storage"] not in ("folder", "s3"):
        raise ConfigError(f'{filename}: media.storage must be "folder" or "s3"')
    if media["storage"] == "s3" and not media["bucket"]:
        raise ConfigError(f"{filename}: media.bucket names the bucket when media.storage is s3")

    config = {
        "MEDIA": media,
        "PROXY": proxy,
        "JOBS": jobs,
        "ACCOUNTS": {"require_two_factor": list(required)},
        "MAIL": mail,
        "CACHE": data.get("cache", {}),
        "SITE": site,
        "PLUGINS": plugins,
        "SQLALCHEMY_DATABASE_URI": sqlite_in_instance(database_url, instance_folder),
    }
    if "secret_key" in data:
        config["SECRET_KEY"] = data["secret_key"]
    return config


def parse_proxy(table: dict, filename: str) -> dict:
    check_keys(table, {"trusted": list, "hops": int, "internal_uploads": str}, filename, "proxy.")
    proxy = {**PROXY_DEFAULTS, **table}
    example = 'e.g. ["127.0.0.1", "::1"] or ["10.0.0.0/8"]'
    if not all(isinstance(entry, str) for entry in proxy["trusted"]):
        raise ConfigError(f"{filename}: proxy.trusted must be a list of addresses, {example}")
    try:
        networks(proxy["trusted"])
    except ValueError as error:
        raise ConfigError(
            f'{filename}: proxy.trusted: "{error}" is not an address or network, {example}'
        ) from None
    if proxy["hops"] < 1:
        raise ConfigError(f"{filename}: proxy.hops must be at least 1 (proxies in front)")
    internal = proxy["internal_uploads"]
    if internal and not (internal.startswith("/") and internal.endswith("/")):
        raise ConfigError(
            f'{filename}: proxy.internal_uploads must be a path like "/_uploads/" (or "")'
        )
    return proxy


def check_keys(table: dict, known: dict, filename: str, prefix: str) -> None:
    for key, value in table.items():
        if key not in known:
            names = ", ".join(sorted(known))
            raise ConfigError(f"{filename}: unknown key '{prefix}{key}' (known: {names})")
        expected = known[key]
        # bool is an int in Python, but `posts_per_page = true` is a mistake all the same.
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(
                f"{filename}: '{prefix}{key}' must be {TYPE_NAMES[expected]}, not {value!r}"
            )


TYPE_NAMES = {str: "a string", int: "a whole number", dict: "a table", bool: "true or false",
              list: "a list"}  # fmt: skip


def sqlite_in_instance(url: str, instance_folder: str) -> str:
    """Make a relative SQLite path point inside the instance folder."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and len(url) > len(prefix):
        return prefix + os.path.join(instance_folder, url[len(prefix) :])
    return url


def apply_environment(config, instance_folder: str) -> None:
    if os.environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = sqlite_in_instance(
            os.environ["DATABASE_URL"], instance_folder
        )
    if os.environ.get("SECRET_KEY"):
        config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if os.environ.get("REDIS_URL"):
        config["REDIS_URL"] = os.environ["REDIS_URL"]
    if not config.get("SECRET_KEY"):
        raise ConfigError(f"{CONFIG_FILE}: secret_key is missing (or set SECRET_KEY)")


def save_site_settings(app, changes: dict) -> None:
    """Write [site] settings back to config.toml, keeping the owner's comments.

    The file is replaced in one step, so a worker reading it never sees half of it.
    """
    app.config["SITE"] = {**app.config["SITE"], **changes}
    path = Path(app.instance_path, CONFIG_FILE)
    if not path.exists():  # an app built from a test mapping has no file to keep in step
        return
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    site = document.setdefault("site", tomlkit.table())
    for key, value in changes.items():
        site[key] = value
    partial = path.with_suffix(".toml.partial")
    partial.write_text(tomlkit.dumps(document), encoding="utf-8")
    partial.chmod(0o600)
    os.replace(partial, path)
    if "CONFIG_MTIME" in app.config:
        app.config["CONFIG_MTIME"] = path.stat().st_mtime_ns
