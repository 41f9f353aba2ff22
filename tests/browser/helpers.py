"""What browser tests share."""


def log_in(page, name="alice"):
    """Log in through the form, as a person would (the password is always password123)."""
    page.goto("/login")
    page.get_by_label("User name or email").fill(name)
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url("**/admin/")
