"""config.toml: created on first run, checked key by key, overridden by the environment."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from blog import create_app
from blog.config import ConfigError, save_site_settings

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture
def instance(tmp_path, monkeypatch):
    folder = tmp_path / "instance"
    monkeypatch.setenv("PRESSROOM_INSTANCE", str(folder))
    for name in ("DATABASE_URL", "SECRET_KEY", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    return folder


def serving_app():
    """create_app() from config.toml, as a gunicorn worker builds it, but with no scheduler
    or job thread (TESTING; see conftest's no_app_thread_outlives_its_test)."""
    app = create_app()
    app.testing = True
    return app


def write_config(folder: Path, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(text, encoding="utf-8")


def test_first_run_writes_a_config_with_a_random_secret_key(instance):
    app = create_app()
    first = tomllib.loads((instance / "config.toml").read_text())
    (instance / "config.toml").unlink()
    create_app()
    second = tomllib.loads((instance / "config.toml").read_text())

    assert len(first["secret_key"]) == 64 and first["secret_key"] != second["secret_key"]
    assert app.config["SECRET_KEY"] == first["secret_key"]
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance}/blog.sqlite3"
    assert first["plugins"]["enabled"] == ["categories", "related_posts", "comments"]
    assert (instance / "config.toml").stat().st_mode & 0o077 == 0  # secret: owner only


def test_settings_are_read_into_app_config(instance):
    write_config(
        instance,
        """
secret_key = "s3cret"
[site]
title = "Field Notes"
url = "https://notes.example/"
posts_per_page = 5
[database]
url = "sqlite:////var/lib/notes.db"
[plugins]
enabled = []
[plugins.categories]
nav_limit = 3
""",
    )

    app = create_app()

    assert app.config["SITE"]["title"] == "Field Notes"
    assert app.config["SITE"]["url"] == "https://notes.example"
    assert app.config["SITE"]["posts_per_page"] == 5
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:////var/lib/notes.db"
    assert app.config["PLUGINS"] == {"enabled": [], "categories": {"nav_limit": 3}}


def test_environment_overrides_the_file(instance, monkeypatch):
    write_config(instance, 'secret_key = "from-file"\n')
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db.example/blog")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/1")

    app = create_app()

    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/blog"
    assert app.config["REDIS_URL"] == "redis://127.0.0.1:6379/1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'secret_key = "x"\n[databse]\nurl = "x"',
            "unknown key 'databse' (known: accounts, cache, data",
        ),
        ('secret_key = "x"\n[site]\ntitel = "x"', "unknown key 'site.titel' (known: "),
        ('secret_key = "x"\n[site]\nposts_per_page = "ten"', "'site.posts_per_page' must be a"),
        ('secret_key = "x"\n[site]\nposts_per_page = 0', "site.posts_per_page must be at least"),
        ('secret_key = "x"\n[site]\nposts_per_page = true', "'site.posts_per_page' must be a"),
        ('secret_key = "x"\n[plugins]\nenabled = "categories"', "plugins.enabled must be a list"),
        ('secret_key = "x"\n[plugins]\ncategories = 3', "plugins.categories must be a table"),
        ('secret_key = "x"\n[proxy]\ntrusted = "127.0.0.1"', "'proxy.trusted' must be a list"),
        ('secret_key = "x"\n[proxy]\ntrusted = ["nginx"]', 'proxy.trusted: "nginx" is not an'),
        ('secret_key = "x"\n[proxy]\nhops = 0', "proxy.hops must be at least 1"),
        ('secret_key = "x"\n[proxy]\ninternal_uploads = "x"', "proxy.internal_uploads must be"),
        ('secret_key = "x"\nsite = "x"', "'site' must be a table"),
        ('[site]\ntitle = "x"', "secret_key is missing"),
        ('secret_key = "x"\n[site]\ntimezone = "Mars/Olympus"', 'site.timezone "Mars/Olympus"'),
        ('secret_key = "x"\n[site]\nlanguage = "English"', 'site.language "English" is not a'),
        ('secret_key = "x"\n[site\ntitle = "x"', "line 2"),
        ('secret_key = "x"\n[site]\nhosts = "www.x"', "'site.hosts' must be a list"),
        ('secret_key = "x"\n[site]\nhosts = ["https://x/"]', "site.hosts must be a list of names"),
    ],
)
def test_a_bad_config_is_one_clear_error(instance, text, message):
    write_config(instance, text)

    with pytest.raises(ConfigError) as error:
        create_app()

    assert message in str(error.value)
    assert "\n" not in str(error.value)


def run_flask(instance: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=PROJECT,
        env={"PRESSROOM_INSTANCE": str(instance), "PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_app_py_stops_with_one_line_and_no_traceback(instance):
    write_config(instance, 'secret_key = "x"\n[databse]\nurl = "x"\n')

    result = run_flask(instance, "post", "list")

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "pressroom: config.toml: unknown key 'databse' "
        "(known: accounts, cache, database, jobs, mail, media, plugins, proxy, secret_key, site)"
    ]


def test_a_new_site_prints_its_setup_link_on_the_address_make_run_serves(instance):
    assert run_flask(instance, "db", "upgrade").returncode == 0

    served = run_flask(instance, "plugins", FLASK_RUN_HOST="0.0.0.0", FLASK_RUN_PORT="8123")  # noqa: S104 -- a name, nothing is bound
    default = run_flask(instance, "plugins")
    config_file = (instance / "config.toml").read_text(encoding="utf-8")
    write_config(instance, config_file.replace("http://127.0.0.1:5000", "https://blog.example"))
    public = run_flask(instance, "plugins", FLASK_RUN_PORT="8123")

    assert "owner's account at: http://127.0.0.1:8123/setup?token=" in served.stderr
    assert "owner's account at: http://127.0.0.1:5000/setup?token=" in default.stderr
    assert "owner's account at: https://blog.example/setup?token=" in public.stderr


def test_an_unknown_plugin_stops_app_py_naming_it(instance):
    write_config(instance, 'secret_key = "x"\n[plugins]\nenabled = ["comentz"]\n')

    result = run_flask(instance, "post", "list")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "pressroom: unknown plugin 'comentz' in [plugins] enabled (found: " in result.stderr


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"nav_limt": 3}, "unknown key 'plugins.categories.nav_limt' (known: nav_limit)"),
        ({"nav_limit": "3"}, "'plugins.categories.nav_limit' must be of type int, not '3'"),
    ],
)
def test_a_bad_plugin_setting_stops_start_up_naming_the_key(make_app, settings, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        make_app(["categories"], categories=settings)


def test_saving_a_site_setting_keeps_the_owners_comments(instance):
    write_config(instance, 'secret_key = "x"  # keep me\n[site]\ntitle = "Old"  # the name\n')
    app = create_app()

    save_site_settings(app, {"title": "New name"})

    text = (instance / "config.toml").read_text()
    assert 'title = "New name"' in text and "# keep me" in text
    assert app.config["SITE"]["title"] == "New name"


def test_every_worker_follows_site_settings_saved_by_another(instance):
    write_config(instance, 'secret_key = "x"\n[site]\ntitle = "Old"\n')
    one, other = serving_app(), serving_app()  # two gunicorn workers of one site
    with one.app_context():
        from blog.database import db

        db.create_all()

    save_site_settings(one, {"title": "Renamed", "tagline": "Now with a tagline"})
    page = other.test_client().get("/").text

    assert "<title>Renamed</title>" in page and "Now with a tagline" in page


def test_a_broken_edit_keeps_the_settings_in_force(instance):
    write_config(instance, 'secret_key = "x"\n[site]\ntitle = "Kept"\n')
    app = serving_app()
    with app.app_context():
        from blog.database import db

        db.create_all()
    (instance / "config.toml").write_text('secret_key = "x"\n[site\ntitle = "Broken"\n')
    os.utime(instance / "config.toml", ns=(0, 1))

    assert "<title>Kept</title>" in app.test_client().get("/").text
