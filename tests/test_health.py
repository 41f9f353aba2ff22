"""/healthz answers a load balancer: 200 only when the database, Redis and the schema are
all as this code needs them."""

import pytest
import sqlalchemy

from blog import create_app
from blog.database import db
from tests.conftest import app_config


def test_a_migrated_site_is_healthy(migrated_app):
    app = migrated_app()
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "problems": {}}
    assert response.headers["Cache-Control"] == "no-store"


def test_a_site_missing_a_migration_is_taken_out_of_rotation(migrated_app):
    app = migrated_app(enabled=["comments"])
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(
                sqlalchemy.text("DELETE FROM alembic_version WHERE version_num LIKE '%comments%'")
            )
        head = db.session.scalar(sqlalchemy.text("SELECT count(*) FROM alembic_version"))
    assert head >= 1
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["problems"]["migrations"].startswith("not applied: ")
    assert "comments" in response.json["problems"]["migrations"]


def test_an_unreachable_redis_is_reported(migrated_app):
    app = migrated_app()
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert set(response.json["problems"]) == {"redis"}


def test_an_unreachable_database_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("PRESSROOM_INSTANCE", str(tmp_path / "instance"))
    settings = app_config(tmp_path)
    settings["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    app = create_app(settings)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert set(response.json["problems"]) == {"database"}


@pytest.mark.parametrize("path", ["/healthz"])
def test_health_is_never_stored(migrated_app, path):
    client = migrated_app().test_client()
    first, second = client.get(path), client.get(path)
    assert "ETag" not in first.headers and second.status_code == 200
