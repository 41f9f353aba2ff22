"""The public pages, one blueprint ("posts") whose pages live in these modules.

blueprint.py    the blueprint and what lists share: the listed posts, pagination
lists.py        home, tag and author pages, and the site's and authors' feeds
detail.py       a post (or page), and a shared draft
archives.py     months and years (/2026/11/, /2026/, /archive/)
search_pages.py /search, and suggestions for a 404
sitemaps.py     /sitemap.xml and /robots.txt
redirects.py    imported posts' old addresses (/?p=123, /2013/01/11/a-post/)
"""

from blog.posts import archives, detail, lists, search_pages, sitemaps  # noqa: F401 -- routes
from blog.posts.blueprint import bp

__all__ = ["bp"]
