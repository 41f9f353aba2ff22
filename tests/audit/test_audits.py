"""Checked by tools we did not write: axe-core and the Nu HTML checker on every audited
page, Lighthouse on the home and post pages (audit/ installs and runs them)."""

import logging

import pytest

from audit import checks
from audit.site import ADMIN_PAGES, CHROMIUM, CHROMIUM_ARGS, PASSWORD, PUBLIC_PAGES, serve
from tests.conftest import skip_unless_ci

AUDITED = [*PUBLIC_PAGES, *ADMIN_PAGES]


@pytest.fixture(scope="module")
def site():
    missing = checks.missing_tools()
    if missing:
        skip_unless_ci("the audit tools are not installed: " + "; ".join(missing))
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with serve() as running:
        yield running


@pytest.fixture(scope="module")
def chromium(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=CHROMIUM_ARGS)  # fmt: skip
        yield browser
        browser.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations(site, chromium, scheme):
    # The CSP forbids injected scripts, as it should; axe is let in for the test.
    context = chromium.new_context(base_url=site.url, bypass_csp=True, color_scheme=scheme)
    tab = context.new_page()
    found = {}
    try:
        for name in AUDITED:
            if name == next(iter(ADMIN_PAGES)):  # the first admin page: log in
                tab.goto("/login")
                tab.get_by_label("User name or email").fill("ada")
                tab.get_by_label("Password").fill(PASSWORD)
                tab.get_by_role("button", name="Log in", exact=True).click()
                tab.wait_for_url("**/admin/")
            tab.goto({**PUBLIC_PAGES, **ADMIN_PAGES}[name])
            found[name] = checks.axe_violations(tab)
    finally:
        context.close()
    assert found == {name: [] for name in AUDITED}


def test_the_nu_html_checker_finds_no_errors_or_warnings(site):
    from audit.__main__ import fetch_pages

    pages = fetch_pages(site)

    assert set(pages) == set(AUDITED)
    assert checks.vnu_messages(pages) == []


def test_the_checker_does_report_errors(site):
    """The check above is worth something only if broken HTML fails it."""
    messages = checks.vnu_messages({"broken": "<!doctype html><title>x</title><p><div></span>"})
    assert any(message["type"] == "error" for message in messages)


@pytest.mark.parametrize("name", ["home", "post"])
def test_lighthouse_scores_are_perfect(site, name):
    result = checks.lighthouse(site.url + PUBLIC_PAGES[name])

    assert result["failing"] == []
    assert result["scores"] == {"accessibility": 1, "best-practices": 1, "seo": 1}
