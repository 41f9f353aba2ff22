"""The public pages under load, beside Flask's "hello world": same gunicorn, same run.

    .venv/bin/python bench/post_page.py [--posts 1000] [--seconds 5] [--connections 16]
                                        [--workers 4] [--renders 10000]
                                        (N=100000 make bench: --posts)

Builds a throwaway instance with --posts published posts in 20 categories, all three
plugins on and comments under the measured post, serves it and bench/hello_app.py with
gunicorn (sync workers), and drives each page with wrk (Debian's package; a Python
client saturates before the server does, and measures itself) from 127.0.0.1 for a
fixed time, twice: with the page cache (hits: stored pages) and without it (cold misses:
every request renders). Prints requests per second, median and 99th percentile latency,
and the rate as a share of hello world's. With REDIS_URL set, the cache is in Redis.
Without the cache, the public pages are then rendered until each worker has rendered
--renders pages on average, and the largest worker's resident memory is printed.
"""

import argparse
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORDS = "iraq iran troops talks strike militia baghdad washington forces region".split()
PASSWORD = "bench password"  # noqa: S105 -- a throwaway site on 127.0.0.1
ADMIN_LIST = "admin post list"  # measured logged in (a private page: never stored)
RARE = 0.01  # the share of posts with "ceasefire": a search as selective as most are
ONE_BY_ONE = 2000  # sites up to this size are written post by post through the editor's road


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(instance: Path, page_cache: bool) -> None:
    (instance / "config.toml").write_text(
        'secret_key = "bench"\n[plugins]\nenabled = ["categories", "related_posts", "comments"]\n'
        f"[cache]\npages = {str(page_cache).lower()}\n",
        encoding="utf-8",
    )


def body(rng: random.Random) -> str:
    text = "\n\n".join(" ".join(rng.choices(WORDS, k=60)).capitalize() + "." for _ in range(12))
    return text + (" A ceasefire." if rng.random() < RARE else "")


def bulk_posts(posts: int, author, categories, rng: random.Random) -> None:
    """Many posts in minutes: rows written in batches (a few hundred distinct bodies,
    rendered once), then the search index and the related posts learnt as after an
    import. Pages read them as they read posts saved one by one (the editor's road is
    measured at 1,000 posts; bench/wordpress_import.py measures an import)."""
    from blog import search
    from blog.database import db
    from blog.editing import render_post_body
    from blog.models import Post, post_category
    from blog.rendering import post_summary
    from plugins.related_posts import index

    bodies = []
    for _ in range(300):
        text = body(rng)
        html = str(render_post_body(text))
        bodies.append((text, html, post_summary("", text, html)))
    start = datetime(2015, 1, 1)
    for first in range(0, posts, 5000):
        rows, links = [], []
        for number in range(first, min(first + 5000, posts)):
            text, html, summary = rng.choice(bodies)
            when = start + timedelta(minutes=number * 60)
            rows.append({"id": number + 1, "title": f"Post {number} about {rng.choice(WORDS)}",
                         "slug": f"post-{number}", "body": text, "body_html": html,
                         "summary": summary, "status": "published", "type": "post",
                         "author_id": author.id, "created_at": when, "published_at": when,
                         "updated_at": when})  # fmt: skip
            links += [{"post_id": number + 1, "category_id": c.id}
                      for c in rng.sample(categories, 2)]  # fmt: skip
        db.session.execute(db.insert(Post), rows)
        db.session.execute(post_category.insert(), links)
        db.session.commit()
        print(f"  {min(first + 5000, posts):,} posts written", file=sys.stderr)
    search.rebuild()
    db.session.commit()
    index.rebuild()
    db.session.commit()


def seed(instance: Path, posts: int) -> dict[str, str]:
    """Create the instance, migrate it and fill it; return the paths to measure."""
    instance.mkdir()
    write_config(instance, page_cache=False)
    env = {**os.environ, "PRESSROOM_INSTANCE": str(instance)}
    subprocess.run([BIN / "flask", "--app", "app", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)  # fmt: skip
    os.environ["PRESSROOM_INSTANCE"] = str(instance)
    sys.path.insert(0, str(ROOT))
    from blog import create_app
    from blog.database import db, refresh_planner_statistics
    from blog.editing import PostData, categories_from_names, save_post
    from blog.models import Post, User
    from plugins.comments.models import Comment

    rng = random.Random(1)
    app = create_app()
    with app.app_context():
        author = User(username="bench", email="bench@example.com", role="admin")
        author.set_password(PASSWORD)
        db.session.add(author)
        categories = categories_from_names([f"Topic {n}" for n in range(20)], create=True)
        db.session.commit()
        if posts <= ONE_BY_ONE:
            for number in range(posts):
                save_post(
                    PostData(title=f"Post {number} about {rng.choice(WORDS)}", body=body(rng),
                             status="published", categories=rng.sample(categories, 2)),
                    author=author,
                )  # fmt: skip
        else:
            bulk_posts(posts, author, categories, rng)
        post = db.session.get(Post, posts // 2 or 1)
        for number in range(10):
            db.session.add(
                Comment(
                    post_id=post.id,
                    author_name=f"Reader {number}",
                    author_email=f"r{number}@example.com",
                    body="A fair point, well made.",
                    body_html="<p>A fair point, well made.</p>",
                    status="approved",
                )
            )
        db.session.commit()
        refresh_planner_statistics()  # as an import does: autovacuum may be late, or off
        category = post.categories[0].slug
        return {
            "post page": f"/{post.slug}/",
            "home": "/",
            "category": f"/category/{category}/",
            "feed": "/feed/",
            "sitemap": "/sitemap.xml",
            "search": "/search?q=ceasefire+talks",
            "search, every post": "/search?q=troops+talks",
            ADMIN_LIST: "/admin/",
        }


def serve(module: str, port: int, workers: int, env: dict) -> subprocess.Popen:
    server = subprocess.Popen(
        [BIN / "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "--backlog", "2048", module],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"{module} did not start on port {port}")


_LATENCY = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def logged_in_cookie(base: str) -> str:
    """The session cookie of the bench's admin, logged in through the form."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "username": "bench", "password": PASSWORD})
    answer = opener.open(
        urllib.request.Request(base + "/login", form.encode(), headers={"Origin": base})
    )
    if not answer.url.endswith("/admin/"):
        raise SystemExit(f"the bench could not log in (landed on {answer.url})")
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def wrk(url: str, seconds: float, connections: int, cookie: str = "") -> dict:
    """wrk's requests per second and latency percentiles (ms) for one address."""
    headers = ["-H", f"Cookie: {cookie}"] if cookie else []
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", *headers, url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {int(p): float(v) * _UNITS[u] for p, v, u in _LATENCY.findall(output)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    timeouts = re.search(r"timeout (\d+)", output)  # wrk gives up on an answer after 2 s
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return {"rate": rate, "p50": latency[50], "p99": latency[99], "requests": requests,
            "errors": sum(int(m.group(1)) for m in (errors, timeouts) if m)}  # fmt: skip


def worker_memory(server: subprocess.Popen) -> int:
    """The largest resident memory (MB) among the gunicorn master's workers."""
    sizes = subprocess.run(
        ["ps", "--ppid", str(server.pid), "-o", "rss="], capture_output=True, text=True
    ).stdout.split()
    return max((int(size) for size in sizes), default=0) // 1024


def measure(module: str, paths: dict[str, str], args, env, renders: int = 0) -> dict[str, dict]:
    """wrk's figures for each page; then, given `renders`, the public pages again in turn
    until every worker has served that many on average, and the largest worker's memory."""
    port = free_port()
    server = serve(module, port, args.workers, env)
    try:
        results = {}
        base = f"http://127.0.0.1:{port}"
        cookie = logged_in_cookie(base) if ADMIN_LIST in paths else ""
        for name, path in paths.items():
            url, jar = base + path, cookie if name == ADMIN_LIST else ""
            wrk(url, 1, args.connections, jar)  # warm-up: imports, caches, connections
            results[name] = wrk(url, args.seconds, args.connections, jar)
        served = sum(result["requests"] for result in results.values())
        public = [path for name, path in paths.items() if name != ADMIN_LIST]
        while served < renders * args.workers:
            for path in public:
                served += wrk(base + path, 10, args.connections)["requests"]
        results["memory"] = {"requests": served, "worker_mb": worker_memory(server)}
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=int(os.environ.get("N", 1000)))
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--renders", type=int, default=10000,
                        help="pages each worker renders before its memory is read")  # fmt: skip
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")

    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder) / "instance"
        started = time.monotonic()
        paths = seed(instance, args.posts)
        built = time.monotonic() - started
        env = {**os.environ, "PRESSROOM_INSTANCE": str(instance)}
        hello = measure("bench.hello_app:app", {"hello world": "/"}, args, env)["hello world"]
        # Never stored (blog/page_cache.py): measured once.
        # The slowest last: gunicorn still works through a run's queued requests after wrk
        # hangs up, which would be counted against the next page.
        once = {name: paths.pop(name) for name in (ADMIN_LIST, "search", "search, every post")}
        misses = measure("app:app", {**paths, **once}, args, env, renders=args.renders)
        write_config(instance, page_cache=True)
        hits = measure("app:app", paths, args, env)

    print(f"{args.posts:,} posts (built in {built:.0f} s); gunicorn, {args.workers} sync workers; "
          f"wrk -t2 -c{args.connections}, {args.seconds:g} s each")  # fmt: skip
    print(f"{'page':<20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'× hello':>8}  errors")
    rows = {"hello world": hello}
    for name in paths:
        rows[f"{name} (hit)"] = hits[name]
        rows[f"{name} (miss)"] = misses[name]
    rows["search (1% match)"] = misses["search"]
    rows["search (all match)"] = misses["search, every post"]
    rows[ADMIN_LIST] = misses[ADMIN_LIST]
    for name, result in rows.items():
        print(
            f"{name:<20} {result['rate']:9.1f} {result['p50']:8.2f} {result['p99']:8.2f} "
            f"{result['rate'] / hello['rate']:8.3f}  {result['errors']}"
        )
    for label, run in (("rendering every page", misses), ("with the page cache", hits)):
        memory = run["memory"]
        print(
            f"largest worker, {label}, after {memory['requests']:,} requests "
            f"({memory['requests'] // args.workers:,} a worker on average): "
            f"{memory['worker_mb']} MB"
        )


if __name__ == "__main__":
    main()
