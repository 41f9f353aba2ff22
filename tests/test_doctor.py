"""`flask --app app doctor` says what to fix in a deployment, and exits non-zero if any."""

import os
import secrets

import pytest

from tests.conftest import skip_unless_ci


def run_doctor(app):
    return app.test_cli_runner().invoke(args=["doctor"])


@pytest.fixture
def deployed(migrated_app, tmp_path, smtp_server, monkeypatch):
    """A site set up as README "Production" says, with a mail server that answers."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    app = migrated_app()
    app.config.update(SECRET_KEY=secrets.token_hex(32))
    app.config["SITE"] = {**app.config["SITE"], "url": "https://blog.example.com"}
    app.config["PROXY"] = {**app.config["PROXY"], "trusted": ["127.0.0.1"]}
    app.config["MAIL"] = {**app.config["MAIL"], "host": "127.0.0.1", "port": smtp_server[0]}
    os.makedirs(app.instance_path, exist_ok=True)
    config_file = os.path.join(app.instance_path, "config.toml")
    with open(config_file, "w") as out:
        out.write("# written by the test\n")
    os.chmod(config_file, 0o600)
    return app


def test_a_deployment_done_right_is_all_good(deployed):
    result = run_doctor(deployed)
    assert result.exit_code == 0, result.output
    assert "All good." in result.output
    checks = result.output.splitlines()[:-1]
    assert all(line.startswith("ok ") for line in checks), result.output
    named = {line.split(":")[0].split(None, 1)[1] for line in checks}
    assert named >= {"secret key", "permissions", "https", "proxy", "database", "migrations",
                     "jobs", "mail"}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda app: app.config.update(SECRET_KEY="changeme"), "FAIL secret key: weak"),
        (lambda app: app.config.update(SECRET_KEY="a" * 40), "FAIL secret key: weak"),
        (
            lambda app: os.chmod(os.path.join(app.instance_path, "config.toml"), 0o644),
            "it holds the secret key; chmod 600",
        ),
        (
            lambda app: app.config.update(
                SITE={**app.config["SITE"], "url": "http://blog.example.com"}
            ),
            "WARN https: [site] url is http://",
        ),
        (
            lambda app: app.config.update(PROXY={**app.config["PROXY"], "trusted": []}),
            "WARN proxy: [proxy] trusted is empty",
        ),
        (
            lambda app: app.config.update(PROXY={**app.config["PROXY"], "trusted": ["0.0.0.0/0"]}),
            "FAIL proxy: [proxy] trusted has 0.0.0.0/0",
        ),
        (
            lambda app: app.config.update(MAIL={**app.config["MAIL"], "port": 1}),
            "WARN mail: 127.0.0.1:1 does not answer",
        ),
    ],
    ids=["tutorial key", "one letter", "config readable", "http", "no proxy", "everyone", "mail"],
)
def test_each_problem_is_named_with_its_fix(deployed, change, said):
    change(deployed)
    result = run_doctor(deployed)
    assert result.exit_code == 1
    assert said in result.output


def test_a_missing_migration_and_a_failed_job_are_named(deployed):
    import sqlalchemy

    from blog.database import db
    from blog.models import Job

    with deployed.app_context():
        with db.engine.begin() as connection:
            head = connection.scalar(
                sqlalchemy.text("SELECT version_num FROM alembic_version "
                                "WHERE version_num LIKE '%core'")
            )  # fmt: skip
            before = f"{int(head[:4]) - 1:04d}core"
            connection.execute(
                sqlalchemy.text("UPDATE alembic_version SET version_num = :before "
                                "WHERE version_num = :head"),
                {"before": before, "head": head},
            )  # fmt: skip
        db.session.add(Job(task="mail.send", arguments="{}", state="failed", last_error="x"))
        db.session.commit()
    result = run_doctor(deployed)
    assert result.exit_code == 1
    assert f"FAIL migrations: not applied: {head}; run flask --app app db upgrade" in result.output
    assert "WARN jobs: 1 failed job(s): see /admin/jobs" in result.output


def test_redis_without_a_worker_is_named(deployed):
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    from blog import jobs

    deployed.config["REDIS_URL"] = url
    deployed.extensions["pressroom.jobs"] = jobs.RedisQueue(deployed)
    try:
        deployed.extensions["pressroom.jobs"].connection.ping()
    except Exception:
        skip_unless_ci("no Redis on 127.0.0.1:6379")
    result = run_doctor(deployed)
    assert "redis: answers" in result.output
    assert "WARN jobs: no worker is running" in result.output
