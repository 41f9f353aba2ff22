"""Posting comments the way a browser does: load the page, then send the form."""

import re


def form_token(client, slug: str) -> str:
    page = client.get(f"/{slug}/").text
    match = re.search(r'name="started" type="hidden" value="([^"]+)"', page)
    assert match, "the post page has no comment form"
    return match.group(1)


def post_comment(client, post_id: int, slug: str, **fields):
    """Send a comment as a reader would; fields override the defaults."""
    environ = fields.pop("environ", {})
    data = {
        "name": "Reader",
        "email": "reader@example.com",
        "website": "",
        "body": "A thoughtful comment.",
        "started": form_token(client, slug),
        **fields,
    }
    return client.post(f"/comments/{post_id}/", data=data, environ_base=environ)
