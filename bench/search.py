"""Search speed and relevance on the labelled BBC corpus, beside a LIKE scan baseline.

    .venv/bin/python bench/search.py [--corpus ../shared/fixtures/related-corpus] [--copies 5]

The 2,095 articles (times --copies, for a bigger site) are published into a fresh
site on SQLite, or on the database DATABASE_URL names. Then, for 200 queries made of
two words from article titles, it times /search's query (ranked, with snippets) and
a baseline measured in the same run: `title LIKE '%w1%w2%' OR body LIKE ...` over the
same posts, which is what a blog without an index does. It prints the median and 95th
percentile of each, their ratio, and how often the article the words came from is in
search's first page (its rank 1..10), which a LIKE scan cannot order.
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

DEFAULT_CORPUS = ROOT.parent / "shared" / "fixtures" / "related-corpus"
QUERIES = 200


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--copies", type=int, default=5)
    options = parser.parse_args()
    articles_file = options.corpus / "articles.jsonl"
    if not articles_file.exists():
        print(f"No corpus at {articles_file}", file=sys.stderr)
        return 2
    articles = [json.loads(line) for line in articles_file.open(encoding="utf-8")]

    with tempfile.TemporaryDirectory() as folder:
        os.environ["PRESSROOM_INSTANCE"] = folder
        from blog import create_app, search
        from blog.database import db
        from blog.models import Post, User
        from blog.rendering import render_markdown, summarise

        url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite3"
        app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                          "SITE": {"title": "Bench"}, "PLUGINS": {"enabled": []}})  # fmt: skip
        with app.app_context():
            db.drop_all()
            db.create_all()
            author = User(username="bench", email="bench@example.com")
            db.session.add(author)
            started = time.perf_counter()
            for copy in range(options.copies):
                for number, article in enumerate(articles):
                    html = str(render_markdown(article["body"]))
                    post = Post(title=article["title"], slug=f"a-{copy}-{number}",
                                body=article["body"], body_html=html, summary=summarise(html),
                                status="published", author=author)  # fmt: skip
                    db.session.add(post)
                    db.session.flush()
                    search.index_post(post.id, post.title, html)
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                # As autovacuum soon does on a live site; planning on empty-table statistics
                # drives the join from `post` and costs 30 ms instead of 3.
                with db.engine.connect() as connection:
                    connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                        db.text("ANALYZE")
                    )
            count = options.copies * len(articles)
            print(f"{count:,} posts on {db.engine.dialect.name}, written and indexed in "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip

            rng = random.Random(2026)
            queries = []
            for _ in range(QUERIES):
                index = rng.randrange(len(articles))
                words = [w for w in articles[index]["title"].split() if len(w) > 3 and w.isalpha()]
                if len(words) >= 2:
                    queries.append((index, " ".join(rng.sample(words, 2))))

            indexed, scanned, ranks = [], [], []
            for index, words in queries:
                started = time.perf_counter()
                results = search.search(words, limit=10)
                indexed.append(time.perf_counter() - started)
                titles = [db.session.get(Post, hit.post_id).title for hit in results.hits]
                wanted = articles[index]["title"]
                ranks.append(titles.index(wanted) + 1 if wanted in titles else None)

                started = time.perf_counter()
                first, second = words.split()
                pattern = db.or_(
                    db.and_(Post.title.ilike(f"%{first}%"), Post.title.ilike(f"%{second}%")),
                    db.and_(Post.body.ilike(f"%{first}%"), Post.body.ilike(f"%{second}%")),
                )
                db.session.scalars(
                    db.select(Post.id).where(Post.status == "published", pattern).limit(10)
                ).all()
                db.session.scalar(
                    db.select(db.func.count(Post.id)).where(Post.status == "published", pattern)
                )
                scanned.append(time.perf_counter() - started)
            db.session.remove()
            db.engine.dispose()

    found = [rank for rank in ranks if rank]
    print(f"{len(queries)} queries of two title words each")
    print(f"  search (index, ranked, snippets): median {statistics.median(indexed) * 1000:7.2f} ms"
          f"   p95 {percentile(indexed, 0.95) * 1000:7.2f} ms")  # fmt: skip
    print(f"  baseline LIKE scan (unranked):    median {statistics.median(scanned) * 1000:7.2f} ms"
          f"   p95 {percentile(scanned, 0.95) * 1000:7.2f} ms")  # fmt: skip
    ratio = statistics.median(scanned) / statistics.median(indexed)
    print(f"  ratio (baseline / search, median): {ratio:.1f}×")
    print(
        f"  source article on the first page: {len(found) / len(ranks):.0%} of queries"
        f" (rank 1 in {sum(rank == 1 for rank in found) / len(ranks):.0%})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
