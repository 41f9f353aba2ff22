"""A cold post page in process: render time and SQL statements, beside an earlier commit's
code rendering the same page of the same site in the same run.

    .venv/bin/python bench/render.py [--posts 1000] [--renders 500] [BASELINE_REV]

Builds a throwaway SQLite site as bench/post_page.py does (all three plugins, ten
comments under the measured post), then renders the measured post's page through Flask's
test client, every time from scratch (the page cache off): in this checkout, and in the
files of BASELINE_REV (default: the last commit before the work on cheaper misses) taken
with `git archive`. Each runs in its own process, alternately, three times; the best of
the three runs' medians is printed, with the ratio. No HTTP and no workers: what one
rendering costs, which the wrk figures of bench/post_page.py divide among the cores.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE_REV = "ea47370"  # before the post page's statements went from 9 to 6

CHILD = """
import json, os, statistics, sys, time
sys.path.insert(0, {root!r})
os.environ["PRESSROOM_INSTANCE"] = {instance!r}
from sqlalchemy import event
from blog import create_app
from blog.database import db
app = create_app()
client = app.test_client()
for _ in range(50):
    assert client.get({path!r}).status_code == 200
statements = []
count = lambda *args: statements.append(1)
with app.app_context():
    event.listen(db.engine, "before_cursor_execute", count)
    client.get({path!r})
    event.remove(db.engine, "before_cursor_execute", count)
times = []
for _ in range({renders}):
    started = time.perf_counter()
    client.get({path!r})
    times.append(time.perf_counter() - started)
print(json.dumps({{"median_ms": statistics.median(times) * 1000, "statements": len(statements)}}))
"""


def render(root: Path, instance: Path, path: str, renders: int) -> dict:
    code = CHILD.format(root=str(root), instance=str(instance), path=path, renders=renders)
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    ).stdout  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", nargs="?", default=BASELINE_REV)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--renders", type=int, default=500)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.post_page import seed
    from bench.wordpress_import import checkout

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        earlier = checkout(args.baseline, folder)
        instance = folder / "instance"
        path = seed(instance, args.posts)["post page"]  # its config.toml: page cache off
        copy = folder / "instance-before"
        shutil.copytree(instance, copy)
        if not (earlier / "blog" / "page_cache.py").exists():
            # Code older than the page cache refuses its [cache] table; code since then
            # needs it, or it would answer from the cache and measure nothing.
            config = copy / "config.toml"
            config.write_text(config.read_text().split("[cache]")[0], encoding="utf-8")
        runs = {"now": [], args.baseline: []}
        for _ in range(3):
            runs["now"].append(render(ROOT, instance, path, args.renders))
            runs[args.baseline].append(render(earlier, copy, path, args.renders))
    best = {name: min(results, key=lambda r: r["median_ms"]) for name, results in runs.items()}
    print(f"the post page {path}, {args.posts:,} posts, all plugins, 10 comments; "
          f"median of {args.renders} renders, best of 3 runs")  # fmt: skip
    for name, result in best.items():
        print(f"  {name:>8}: {result['median_ms']:.2f} ms, {result['statements']} SQL statements")
    ratio = best["now"]["median_ms"] / best[args.baseline]["median_ms"]
    print(f"  ratio now / {args.baseline}: {ratio:.2f}")


if __name__ == "__main__":
    main()
