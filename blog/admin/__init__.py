"""Site administration under /admin/: one blueprint, its pages in these modules.

blueprint.py  the blueprint, the login it requires, and the editable-post check
posts.py      the post list
editor.py     writing: the post editor, autosave, revisions, share links
media.py      the media library and image uploads
site.py       categories, users, profile and site settings
menu.py       the navigation menu (blog/menus.py does the changes)
security.py   two-factor login, the rule that some roles use it, the security log
"""

from blog.admin import editor, jobs, media, menu, posts, security, site  # noqa: F401 -- routes join bp
from blog.admin.blueprint import bp

__all__ = ["bp"]
