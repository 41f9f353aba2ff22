"""Related posts at 1k, 10k and 100k posts: what the box adds to a post page, what the
index adds to a save, and how long a rebuild takes.

    .venv/bin/python bench/related_speed.py [--sizes 1000 10000 100000] [--repeat 30]

Posts are made from the BBC corpus in ../shared (sentences shuffled into new posts),
written straight into a throwaway SQLite database, then indexed by
`flask related_posts rebuild`'s own code. Each cost is the median over --repeat runs,
measured beside the same work with the plugin switched off, in the same run.
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "fixtures" / "related-corpus" / "articles.jsonl"


def sentences() -> tuple[list[str], list[str]]:
    if not CORPUS.exists():
        raise SystemExit(f"related_speed: {CORPUS} not found (the corpus lives in ../shared)")
    articles = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    titles = [article["title"] for article in articles]
    lines = [s.strip() + "." for a in articles for s in a["body"].split(". ") if len(s) > 40]
    return titles, lines


def make_app(folder: Path, size: int, enabled: list[str]):
    from blog import create_app

    return create_app({
        "SECRET_KEY": "bench", "TESTING": True, "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / f'bench-{size}.sqlite3'}",
        "PLUGINS": {"enabled": enabled},
    })  # fmt: skip


def fill(app, size: int, titles: list[str], lines: list[str]) -> None:
    """Write `size` published posts straight into the tables (no hooks: rebuild follows)."""
    from blog.database import db
    from blog.models import Post, User, utcnow

    rng = random.Random(size)
    with app.app_context():
        db.create_all()
        db.session.add(User(id=1, username="bench", email="bench@example.com", role="admin"))
        db.session.commit()
        for start in range(0, size, 2000):
            rows = []
            for n in range(start, min(start + 2000, size)):
                body = " ".join(rng.sample(lines, 12))
                rows.append({
                    "title": f"{rng.choice(titles)} ({n})", "slug": f"post-{n}", "body": body,
                    "body_html": f"<p>{body}</p>", "excerpt": "", "summary": body[:200],
                    "status": "published", "author_id": 1, "created_at": utcnow(),
                    "published_at": utcnow(), "updated_at": utcnow(),
                })  # fmt: skip
            db.session.execute(db.insert(Post), rows)
        db.session.commit()


def median_ms(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(size: int, repeat: int, titles, lines, folder: Path) -> dict:
    from blog.database import db
    from blog.editing import PostData, save_post
    from blog.models import Post, User
    from plugins.related_posts import index

    on = make_app(folder, size, ["related_posts"])
    off = make_app(folder, size, [])
    fill(on, size, titles, lines)
    with on.app_context():
        started = time.perf_counter()
        index.rebuild()
        db.session.commit()
        rebuild_s = time.perf_counter() - started

    slug = f"post-{size // 2}"
    pages = {}
    for name, app in (("on", on), ("off", off)):
        client = app.test_client()
        client.get(f"/{slug}/")  # warm up
        pages[name] = median_ms(lambda client=client: client.get(f"/{slug}/"), repeat)

    rng = random.Random(7)
    saves = {}
    for name, app in (("on", on), ("off", off)):
        with app.app_context():
            author = db.session.get(User, 1)

            def save(author=author):
                post = db.session.get(Post, rng.randrange(1, size + 1))
                body = " ".join(rng.sample(lines, 12))
                data = PostData(title=post.title, body=body, slug=post.slug, status="published")
                save_post(data, author=author, post=post)

            save()  # warm up: the first save loads the model and the theme matrix
            saves[name] = median_ms(save, repeat)
    return {"rebuild_s": rebuild_s, "pages": pages, "saves": saves}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    titles, lines = sentences()
    print(f"{'posts':>8} {'rebuild':>10} {'page off':>9} {'page on':>9} {'box adds':>9} "
          f"{'save off':>9} {'save on':>9} {'index adds':>11}")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        os.environ["PRESSROOM_INSTANCE"] = folder
        for size in args.sizes:
            result = measure(size, args.repeat, titles, lines, Path(folder))
            pages, saves = result["pages"], result["saves"]
            print(
                f"{size:>8} {result['rebuild_s']:>9.1f}s {pages['off']:>7.2f}ms "
                f"{pages['on']:>7.2f}ms {pages['on'] - pages['off']:>7.2f}ms "
                f"{saves['off']:>7.2f}ms {saves['on']:>7.2f}ms "
                f"{saves['on'] - saves['off']:>9.2f}ms",
                flush=True,
            )
    print("targets at 100,000 posts: box adds < 2 ms, index adds < 50 ms, rebuild in minutes")


if __name__ == "__main__":
    main()
