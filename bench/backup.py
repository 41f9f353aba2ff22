"""Backup and restore of a large site: time and peak memory, beside a baseline.

A site of POSTS posts (100,000 by default; each with a revision, a category and a tag,
some 2 KB of text) is written straight into a fresh SQLite instance. Then, each in a
process of its own, measured by its peak resident memory:

- baseline: `flask --app app post list --status scheduled`: the app, its plugins and a
  query, and nothing else;
- `flask --app app backup FILE`;
- `flask --app app restore FILE` into a second, empty instance.

Streaming shows as backup and restore peaks close to the baseline's, whatever POSTS is
(try 10,000 and 100,000). Times are for this machine, in this run.

    .venv/bin/python bench/backup.py [POSTS]
"""

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).parent / "flask"
WORDS = ("harbour ferry lighthouse council budget election storm market school river "
         "bridge festival library museum railway theatre hospital garden").split()  # fmt: skip


# Runs one command and prints its peak memory: each measurement in a process of its own
# (RUSAGE_CHILDREN holds the largest child a process ever had).
MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "sys.stderr.write(code.stdout + code.stderr if code.returncode else '')\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(code.returncode)\n"
)


def run(instance: Path, *args: str) -> tuple[float, float]:
    """Seconds and peak memory (MB) of one flask command in its own process."""
    env = {**os.environ, "PRESSROOM_INSTANCE": str(instance)}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE, FLASK, "--app", "app", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True)  # fmt: skip
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stderr}")
    return took, int(done.stdout.split()[-1]) / 1024


def make_site(instance: Path, posts: int) -> None:
    run(instance, "db", "upgrade")
    database = sqlite3.connect(instance / "blog.sqlite3")
    database.execute(
        "INSERT INTO user (username, email, display_name, password_hash, role, created_at, "
        "session_generation, active) VALUES ('ann', 'ann@example.com', '', 'x', 'admin', "
        "'2026-01-01 00:00:00', 0, 1)"
    )
    database.execute("INSERT INTO category (name, slug, description) VALUES ('News', 'news', '')")
    database.execute("INSERT INTO tag (name, slug) VALUES ('harbour', 'harbour')")
    body = " ".join(WORDS * 12)
    rows = (
        (f"Post {n}", f"post-{n}", f"{body} {n}", f"<p>{body} {n}</p>", "", body[:200],
         "published", 1, "2026-01-01 00:00:00", "2026-01-01 00:00:00",
         "2026-01-01 00:00:00", "post", 0, 1, 0)
        for n in range(posts)
    )  # fmt: skip
    database.executemany(
        "INSERT INTO post (title, slug, body, body_html, excerpt, summary, status, author_id, "
        "created_at, published_at, updated_at, type, sticky, version, share_generation) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    database.execute("INSERT INTO post_category SELECT id, 1 FROM post")
    database.execute("INSERT INTO post_tag SELECT id, 1 FROM post")
    database.execute(
        "INSERT INTO revision (post_id, author_id, kind, title, body, excerpt, note, created_at) "
        "SELECT id, 1, 'save', title, body, '', '', created_at FROM post"
    )
    database.commit()
    database.close()


def main() -> None:
    posts = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder, "source"), Path(folder, "target")
        started = time.perf_counter()
        make_site(source, posts)
        print(f"site of {posts:,} posts made in {time.perf_counter() - started:.1f} s "
              f"({(source / 'blog.sqlite3').stat().st_size / 2**20:.0f} MB of SQLite)")  # fmt: skip
        base_time, base_peak = run(source, "post", "list", "--status", "scheduled")
        backup = Path(folder, "site.zip")
        backup_time, backup_peak = run(source, "backup", str(backup))
        restore_time, restore_peak = run(target, "restore", str(backup))
        print(f"baseline (app and a query)  {base_time:6.1f} s  peak {base_peak:6.0f} MB")
        print(f"backup                      {backup_time:6.1f} s  peak {backup_peak:6.0f} MB  "
              f"({backup.stat().st_size / 2**20:.1f} MB file)")  # fmt: skip
        print(f"restore                     {restore_time:6.1f} s  peak {restore_peak:6.0f} MB")
        print(f"memory above the baseline: backup {backup_peak - base_peak:+.0f} MB, "
              f"restore {restore_peak - base_peak:+.0f} MB; ratio to baseline "
              f"{backup_peak / base_peak:.2f} and {restore_peak / base_peak:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
