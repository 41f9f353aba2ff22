"""Run the checkers: axe-core in Chromium, the Nu HTML checker (vnu.jar), Lighthouse.

Installed from the npm registry into audit/node_modules by `npm ci --prefix audit`
(.ci/run and `make audit` do it). tests/audit asserts on what these return;
`python -m audit` (make audit) prints it.
"""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from audit.site import CHROMIUM, CHROMIUM_ARGS, NODE_MODULES

AXE = NODE_MODULES / "axe-core" / "axe.min.js"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
LIGHTHOUSE = NODE_MODULES / ".bin" / "lighthouse"
# WCAG 2.2 A and AA, and axe's own best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
LIGHTHOUSE_CATEGORIES = ("accessibility", "best-practices", "seo")


def missing_tools() -> list[str]:
    """What is not installed, in words a person can act on."""
    missing = [
        f"{path.relative_to(NODE_MODULES.parent.parent)} (npm ci --prefix audit)"
        for path in (AXE, VNU, LIGHTHOUSE)
        if not path.exists()
    ]
    if not shutil.which("java"):
        missing.append("java (the Nu HTML checker runs on it)")
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    return missing


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page a Playwright tab shows (its CSP bypassed)."""
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("tags => axe.run(document, {runOnly: tags})", AXE_TAGS)
    return [
        {
            "rule": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "where": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
    ]


def vnu_messages(pages: dict[str, str]) -> list[dict]:
    """The Nu HTML checker's errors and warnings for each named page's HTML."""
    with tempfile.TemporaryDirectory(prefix="pressroom-vnu-") as folder:
        paths = []
        for name, html in pages.items():
            paths.append(Path(folder, f"{name}.html"))
            paths[-1].write_text(html, encoding="utf-8")
        result = subprocess.run(
            ["java", "-jar", str(VNU), "--format", "json", "--stdout", *map(str, paths)],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    return [
        {
            "page": Path(message.get("url", "?")).stem,  # the file is named after the page
            "type": message["type"] + (f"/{message['subType']}" if "subType" in message else ""),
            "line": message.get("lastLine"),
            "message": message["message"],
        }
        for message in json.loads(result.stdout)["messages"]
        if message["type"] == "error" or message.get("subType") == "warning"
    ]


def lighthouse(url: str) -> dict:
    """Lighthouse's accessibility, best-practices and SEO scores for `url`, with the
    audits that lost points."""
    with tempfile.TemporaryDirectory(prefix="pressroom-lighthouse-") as folder:
        report_path = Path(folder, "report.json")
        subprocess.run(
            [str(LIGHTHOUSE), url, "--output=json", f"--output-path={report_path}",
             f"--only-categories={','.join(LIGHTHOUSE_CATEGORIES)}",
             f"--chrome-flags={' '.join(CHROMIUM_ARGS)}", "--quiet"],
            env={**os.environ, "CHROME_PATH": str(CHROMIUM)},
            capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
        report = json.loads(report_path.read_text(encoding="utf-8"))
    scores, failing = {}, []
    for category in report["categories"].values():
        scores[category["id"]] = category["score"]
        for reference in category["auditRefs"]:
            audit = report["audits"][reference["id"]]
            if reference["weight"] and audit["score"] is not None and audit["score"] < 1:
                failing.append(f"{category['id']}: {audit['id']} ({audit['title']})")
    return {"scores": scores, "failing": failing}
