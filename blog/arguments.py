"""Numbers read from a request: one that no row can have is a 404, never a 500.

Ids are PostgreSQL `integer`s, at most LARGEST_ID; a larger number in an address or a
query string (?page=99999999999999999999) overflowed the database's integers and
answered 500, on SQLite and PostgreSQL alike. Every <int:…> in a route, every ?page=
and every id read from a query string or a form goes through here.
"""

from flask import abort, request
from werkzeug.routing import IntegerConverter

LARGEST_ID = 2**31 - 1
LAST_PAGE = 10**9  # past any list: a larger page's offset overflows 64-bit integers


class IdConverter(IntegerConverter):
    """<int:…> in every route (blog/__init__.py installs it): 0 to LARGEST_ID, else the
    route does not match, and the answer is a 404."""

    def __init__(self, map, fixed_digits=0, min=None, max=LARGEST_ID, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


def as_id(text: str | None) -> int | None:
    """The digits of a form field or query value as an id; None if it cannot be one."""
    if not text or not text.isascii() or not text.isdigit() or int(text) > LARGEST_ID:
        return None
    return int(text)


def id_arg(name: str) -> int | None:
    """?name=N as an id: None when absent or not a number; a 404 past any id."""
    value = request.args.get(name, type=int)
    if value is not None and not 0 <= value <= LARGEST_ID:
        abort(404)
    return value


def page_arg() -> int:
    """?page=N, 1 when absent; a 404 below 1 or past LAST_PAGE."""
    page = request.args.get("page", 1, type=int)
    if not 1 <= page <= LAST_PAGE:
        abort(404)
    return page
