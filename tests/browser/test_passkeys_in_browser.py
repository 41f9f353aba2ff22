"""Passkeys in Chromium, with its virtual authenticator standing in for a phone's.

WebAuthn names the site by its domain, and a bare IP address is not one: these pages
are opened at http://localhost:PORT (a secure context, like 127.0.0.1).
"""

import pytest

from blog.database import db
from blog.models import Passkey, SecurityEvent
from tests.browser.helpers import log_in


@pytest.fixture
def localhost_tab(browser, live_server):
    """A tab on http://localhost:PORT, with a virtual authenticator that holds passkeys,
    checks its person and needs no touch; only the live server may be reached."""
    site = live_server.replace("127.0.0.1", "localhost")
    context = browser.new_context(base_url=site)
    errors = []

    def only_this_site(route):
        if route.request.url.startswith(site):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_this_site)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    cdp = context.new_cdp_session(tab)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})  # fmt: skip
    yield tab
    context.close()
    assert errors == [], f"the page's JavaScript failed: {errors}"


def log_out(tab):
    tab.get_by_role("button", name="Log out", exact=True).click()
    tab.wait_for_url("**/")


def test_a_passkey_is_added_and_then_logs_in_without_the_password(app, localhost_tab, add_user):
    add_user("alice", role="author")
    tab = localhost_tab
    log_in(tab)

    tab.goto("/admin/profile")
    tab.get_by_label("Name it (where it lives)").fill("Laptop")
    tab.get_by_role("button", name="Add a passkey").click()
    status = tab.locator("[data-passkey-status]").last
    status.filter(has_text="Passkey added: Laptop").wait_for()
    codes = tab.locator("[data-recovery-codes] li")
    assert codes.count() == 10  # the first second factor brings recovery codes
    log_out(tab)

    tab.goto("/login")
    tab.get_by_role("button", name="Log in with a passkey").click()
    tab.wait_for_url("**/admin/")

    log_out(tab)  # and the password alone now leads to a second step
    tab.goto("/login")
    tab.get_by_label("User name or email").fill("alice")
    tab.get_by_label("Password").fill("password123")
    tab.get_by_role("button", name="Log in", exact=True).click()
    tab.wait_for_url("**/login/two-factor")
    tab.get_by_role("button", name="Use a passkey").click()
    tab.wait_for_url("**/admin/")

    with app.app_context():
        key = db.session.scalar(db.select(Passkey))
        assert key.name == "Laptop" and key.last_used_at is not None
        logins = db.session.scalars(
            db.select(SecurityEvent.detail).where(SecurityEvent.event == "login")
        ).all()
        assert logins == ["", "passkey", "passkey"]


def test_without_a_passkey_of_this_site_the_login_page_says_so(app, localhost_tab, add_user):
    add_user("alice", role="author")
    tab = localhost_tab

    tab.goto("/login")
    tab.get_by_role("button", name="Log in with a passkey").click()

    tab.locator("[data-passkey-status]").filter(has_text="No passkey was used").wait_for(
        timeout=70_000  # Chromium answers an empty authenticator when the request times out
    )
    assert tab.url.endswith("/login")
