"""WordPress import: time and peak memory for a ~10 MB and a ~50 MB export, beside the
importer of an earlier commit run in the same process of measuring.

The exports are made from ../shared/fixtures/wordpress-export.xml by repeating its
posts under new ids. Each import runs in a fresh process on a fresh SQLite database
(comments plugin on), and reports its peak resident memory; the memory
baseline is the same process doing everything but the import (app, database, migrations
loaded). Bounded memory shows as a peak that stays nearly flat while the file grows 5
times. The same imports then run on the code of BASELINE_REV (default: the last commit
before imports went through blog/editing.py), taken with `git archive`, and the time
ratio is printed: 1.00 is as fast as that code, on this machine, in this run.

    .venv/bin/python bench/wordpress_import.py [BASELINE_REV]
"""

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "fixtures" / "wordpress-export.xml"
BASELINE_REV = "ad3549b"  # the importer that built its own Post rows

CHILD = """
import json, os, resource, sys, time
sys.path.insert(0, {root!r})
from blog import create_app
from blog.database import db
app = create_app({{"SQLALCHEMY_DATABASE_URI": "sqlite:///" + {db!r}, "SECRET_KEY": "bench",
                  "PLUGINS": {{"enabled": ["comments"]}}}})
with app.app_context():
    db.create_all()
    started = time.perf_counter()
    if {path!r}:
        from blog.wordpress.importer import import_wordpress
        summary = import_wordpress({path!r})
        created = summary.created["posts"]
    else:
        created = 0
    seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"posts": created, "seconds": seconds, "peak_mb": peak}}))
"""


def make_export(copies: int, target: Path) -> None:
    text = SOURCE.read_text()
    head, rest = text.split("<item>", 1)
    body, tail = ("<item>" + rest).rsplit("</item>", 1)
    items = re.findall(r"<item>.*?</item>", body + "</item>", re.S)
    with target.open("w") as out:
        out.write(head)
        for copy in range(copies):
            shift = copy * 100_000
            for item in items:
                item = re.sub(
                    r"<wp:post_id>(\d+)</wp:post_id>",
                    lambda m, shift=shift: f"<wp:post_id>{int(m.group(1)) + shift}</wp:post_id>",
                    item,
                )
                item = re.sub(
                    r"<wp:post_name><!\[CDATA\[([^\]]*)\]\]>",
                    lambda m, copy=copy: f"<wp:post_name><![CDATA[{m.group(1)}-{copy}]]>",
                    item,
                )
                out.write(item + "\n")
        out.write(tail)


def run(path: str, folder: Path, root: Path = ROOT) -> dict:
    import json

    database = folder / f"bench-{time.monotonic_ns()}.sqlite3"
    code = CHILD.format(root=str(root), db=str(database), path=path)
    env = {"PRESSROOM_INSTANCE": str(folder), "PATH": "/usr/bin:/bin"}
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def checkout(revision: str, folder: Path) -> Path:
    """The project's files at `revision`, unpacked into folder/baseline."""
    target = folder / "baseline"
    target.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def main() -> None:
    if not SOURCE.exists():
        sys.exit(f"{SOURCE} is missing (../shared is laid beside the project)")
    revision = sys.argv[1] if len(sys.argv) > 1 else BASELINE_REV
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        earlier = checkout(revision, folder)
        baseline = run("", folder)
        print(f"baseline (no import): peak {baseline['peak_mb']:.0f} MB")
        for copies in (3, 13):
            export = folder / f"export-{copies}.xml"
            make_export(copies, export)
            size = export.stat().st_size / 1e6
            result = run(str(export), folder)
            before = run(str(export), folder, root=earlier)
            print(
                f"{size:5.1f} MB export, {result['posts']:,} posts: "
                f"{result['seconds']:.1f} s ({result['posts'] / result['seconds']:.0f} posts/s), "
                f"peak {result['peak_mb']:.0f} MB "
                f"(+{result['peak_mb'] - baseline['peak_mb']:.0f} MB over the baseline, "
                f"ratio {result['peak_mb'] / baseline['peak_mb']:.2f}); "
                f"{revision}: {before['seconds']:.1f} s, peak {before['peak_mb']:.0f} MB; "
                f"time ratio {result['seconds'] / before['seconds']:.2f}"
            )


if __name__ == "__main__":
    main()
