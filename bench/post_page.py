"""Requests per second of a post page beside Flask's "hello world", same gunicorn, same run.

    .venv/bin/python bench/post_page.py [--posts 1000] [--seconds 5] [--clients 8] [--workers 2]

Builds a throwaway instance with --posts published posts (categories plugin on), serves
it and bench/hello_app.py one after the other with gunicorn, and drives each from a pool
of client threads on 127.0.0.1 for a fixed time. Prints both rates and their ratio.
"""

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORDS = "iraq iran troops talks strike militia baghdad washington forces region".split()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(instance: Path, posts: int) -> str:
    """Create the instance, migrate it and fill it; return the path of a post in the middle."""
    instance.mkdir()
    (instance / "config.toml").write_text(
        'secret_key = "bench"\n[plugins]\nenabled = ["categories"]\n', encoding="utf-8"
    )
    env = {**os.environ, "PRESSROOM_INSTANCE": str(instance)}
    subprocess.run([BIN / "flask", "--app", "app", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)  # fmt: skip
    os.environ["PRESSROOM_INSTANCE"] = str(instance)
    sys.path.insert(0, str(ROOT))
    from blog import create_app
    from blog.database import db
    from blog.editing import PostData, categories_from_names, save_post
    from blog.models import Post, User

    rng = random.Random(1)
    app = create_app()
    with app.app_context():
        author = User(username="bench", email="bench@example.com", role="admin")
        db.session.add(author)
        categories = categories_from_names([f"Topic {n}" for n in range(20)], create=True)
        db.session.commit()
        for number in range(posts):
            body = "\n\n".join(
                " ".join(rng.choices(WORDS, k=60)).capitalize() + "." for _ in range(12)
            )
            save_post(
                PostData(title=f"Post {number} about {rng.choice(WORDS)}", body=body,
                         status="published", categories=rng.sample(categories, 2)),
                author=author,
            )  # fmt: skip
        slug = db.session.scalar(db.select(Post.slug).where(Post.id == posts // 2 or 1))
    return f"/{slug}/"


def serve(module: str, port: int, workers: int, env: dict) -> subprocess.Popen:
    server = subprocess.Popen(
        [BIN / "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", module],
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


def hammer(url: str, seconds: float, clients: int) -> tuple[float, int]:
    """Requests per second over `seconds`, and how many requests failed."""
    done, failed = [0] * clients, [0] * clients
    stop = time.monotonic() + seconds

    def client(index):
        while time.monotonic() < stop:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    response.read()
                done[index] += 1
            except OSError:
                failed[index] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started), sum(failed)


def measure(module, path, args, env) -> tuple[float, int]:
    port = free_port()
    server = serve(module, port, args.workers, env)
    try:
        url = f"http://127.0.0.1:{port}{path}"
        hammer(url, 1, args.clients)  # warm-up: imports, caches, connections
        return hammer(url, args.seconds, args.clients)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder) / "instance"
        post_path = seed(instance, args.posts)
        env = {**os.environ, "PRESSROOM_INSTANCE": str(instance)}
        post_rate, post_failed = measure("app:app", post_path, args, env)
        hello_rate, hello_failed = measure("bench.hello_app:app", "/", args, env)

    print(f"gunicorn, {args.workers} sync workers, {args.clients} clients, {args.seconds:g} s each")
    print(
        f"post page ({args.posts} posts, {post_path}): {post_rate:8.1f} req/s, {post_failed} failed"
    )
    print(f"Flask hello world:                 {hello_rate:8.1f} req/s, {hello_failed} failed")
    print(f"post page / hello world: {post_rate / hello_rate:.2f}")


if __name__ == "__main__":
    main()
