"""`make audit`: Lighthouse's scores for the home and post pages of a sample site, and
what axe-core and the Nu HTML checker find on every audited page."""

import logging
import re
import sys

from audit import checks
from audit.site import ADMIN_PAGES, CHROMIUM, CHROMIUM_ARGS, PASSWORD, PUBLIC_PAGES, serve


def main() -> int:
    missing = checks.missing_tools()
    if missing:
        print("Missing:", "; ".join(missing), file=sys.stderr)
        return 2
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from playwright.sync_api import sync_playwright

    problems = 0
    with serve() as site:
        print(f"{'page':<10} {'accessibility':>14} {'best-practices':>15} {'seo':>6}")
        for name in ("home", "post"):
            result = checks.lighthouse(site.url + PUBLIC_PAGES[name])
            scores = result["scores"]
            print(f"{name:<10} {scores['accessibility']:>14.2f} "
                  f"{scores['best-practices']:>15.2f} {scores['seo']:>6.2f}")  # fmt: skip
            for failing in result["failing"]:
                print(f"    lost points: {failing}")
            problems += sum(score < 1 for score in scores.values())

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                 args=CHROMIUM_ARGS)  # fmt: skip
            for scheme in ("light", "dark"):
                context = browser.new_context(base_url=site.url, bypass_csp=True,
                                              color_scheme=scheme)  # fmt: skip
                tab = context.new_page()
                for name, path in [*PUBLIC_PAGES.items(), *ADMIN_PAGES.items()]:
                    if name == next(iter(ADMIN_PAGES)):
                        log_in(tab)
                    tab.goto(path)
                    violations = checks.axe_violations(tab)
                    problems += len(violations)
                    print(f"axe, {scheme} scheme, {name}: {len(violations)} violations")
                    for violation in violations:
                        print(f"    {violation['rule']} ({violation['impact']}): "
                              f"{violation['help']} at {violation['where']}")  # fmt: skip
                context.close()
            browser.close()
        messages = checks.vnu_messages(fetch_pages(site))
        print(f"Nu HTML checker: {len(messages)} errors and warnings on "
              f"{len(PUBLIC_PAGES) + len(ADMIN_PAGES)} pages")  # fmt: skip
        for message in messages:
            print(
                f"    {message['page']}:{message['line']} {message['type']}: {message['message']}"
            )
        problems += len(messages)
    return 1 if problems else 0


def log_in(tab) -> None:
    tab.goto("/login")
    tab.get_by_label("User name or email").fill("ada")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url("**/admin/")


def fetch_pages(site) -> dict[str, str]:
    """Each audited page's HTML as the server sends it (the admin's, logged in)."""
    client = site.app.test_client()
    pages = {name: client.get(path).text for name, path in PUBLIC_PAGES.items()}
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', pages["login"])[1]
    client.post("/login", data={"username": "ada", "password": PASSWORD, "csrf_token": token})
    pages |= {name: client.get(path).text for name, path in ADMIN_PAGES.items()}
    return pages


if __name__ == "__main__":
    sys.exit(main())
