"""The hook the comments plugin offers other plugins (added by register_hookspecs).

Implement it with @hookimpl(optionalhook=True) from blog.plugin_api, so that your
plugin still loads while comments are switched off.
"""

from blog.plugin_api import hookspec


@hookspec
def comment_posted(comment, post) -> None:
    """React to a new comment, after it is stored (committed); e.g. send an email.

    Called by the comments plugin for every comment it accepts, approved or
    held for moderation (see comment.status: "approved", "pending" or "spam").
    `post` is the commented post. An exception here is logged and does not
    undo the comment. Keep it quick: the commenter's request waits for it; slow
    work goes to a background job (blog.plugin_api.enqueue or send_later), and
    what the implementations queue is committed together after they all return.
    """
