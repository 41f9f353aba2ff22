"""Behind a reverse proxy and HTTPS: whom to believe about the reader, and what HTTPS adds.

A site on the internet sits behind nginx or Caddy (deploy/), which ends TLS and passes the
request on with X-Forwarded-For, -Proto, -Host and -Port. Those headers are believed only
when the connection comes from an address in `[proxy] trusted`: anyone can send them
straight to gunicorn, and a forged X-Forwarded-For would give every guess at a password
a fresh address to count against (blog/throttle.py), while a forged -Proto or -Host would
change the addresses the site builds. From a trusted proxy they go through Werkzeug's
ProxyFix, which takes the value the nearest `hops` proxies added (the rightmost ones: a
reader's own X-Forwarded-For only ever sits to their left); from anyone else they are
removed before the app sees them.

A request that arrived over HTTPS then gets, in one place for every answer (stored pages
included, this is the outermost layer): the Secure flag on every cookie it sets, so a
session never travels in clear text, and Strict-Transport-Security, so the browser never
asks over plain HTTP again.
"""

import ipaddress

from flask import Flask, current_app, has_request_context, request
from werkzeug.middleware.proxy_fix import ProxyFix

FORWARDED = ("FOR", "PROTO", "HOST", "PORT", "PREFIX")
FORWARDED_HEADERS = [f"HTTP_X_FORWARDED_{name}" for name in FORWARDED] + ["HTTP_FORWARDED"]
# A year, as the HSTS preload list asks; no includeSubDomains: a blog is often one name
# among others on its domain, and those are not ours to move to HTTPS.
HSTS = "max-age=31536000"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(entries: list[str]) -> list[Network]:
    """`[proxy] trusted` as networks: "127.0.0.1", "10.0.0.0/8", "::1". ValueError names
    the first entry that is neither an address nor a network."""
    found = []
    for entry in entries:
        try:
            found.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(entry) from None
    return found


def is_trusted(address: str, trusted: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:  # a Unix socket has no address: nobody but the machine can use it
        return not address
    return any(ip in network for network in trusted)


class BehindProxy:
    """WSGI middleware: forwarded headers from trusted proxies only; HTTPS's extras."""

    def __init__(self, wsgi_app, trusted: list[Network], hops: int):
        self.trusted = trusted
        self.app = wsgi_app
        # ProxyFix sets the scheme, host and address, then calls self.answer.
        self.forwarded = ProxyFix(self.answer, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    def __call__(self, environ, start_response):
        if self.trusted and is_trusted(environ.get("REMOTE_ADDR", ""), self.trusted):
            return self.forwarded(environ, start_response)
        for name in FORWARDED_HEADERS:
            environ.pop(name, None)
        return self.answer(environ, start_response)

    def answer(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.app(environ, start_response)

        def secure_start_response(status, headers, exc_info=None):
            return start_response(status, over_https(headers), exc_info)

        return self.app(environ, secure_start_response)


def over_https(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The answer's headers with every cookie Secure, and HSTS."""
    changed = []
    for name, value in headers:
        if name.lower() == "set-cookie" and not has_secure_flag(value):
            value += "; Secure"
        changed.append((name, value))
    if not any(name.lower() == "strict-transport-security" for name, _ in changed):
        changed.append(("Strict-Transport-Security", HSTS))
    return changed


def has_secure_flag(cookie: str) -> bool:
    return any(part.strip().lower() == "secure" for part in cookie.split(";")[1:])


def site_url() -> str:
    """The site's public address for links that leave the page (feeds, sitemaps, emails):
    [site] url, made https:// when this request came over HTTPS, so that a site whose
    owner left the setting at http:// still never sends readers back to plain HTTP."""
    url = current_app.config["SITE"]["url"]
    if url.startswith("http://") and has_request_context() and request.is_secure:
        return "https://" + url.removeprefix("http://")
    return url


def init_app(app: Flask) -> None:
    """Wrap the app: call last in create_app, so that the stored pages are inside it."""
    settings = app.config["PROXY"]
    app.jinja_env.globals["site_url"] = site_url
    app.wsgi_app = BehindProxy(app.wsgi_app, networks(settings["trusted"]), settings["hops"])
