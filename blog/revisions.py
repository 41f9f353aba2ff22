"""Comparing and restoring the versions of a post that editing.keep_revision() records."""

import difflib
from dataclasses import dataclass

from blog.editing import PostData, save_post
from blog.models import Post, Revision, User
from blog.sitetime import local_time

CONTEXT_LINES = 3


@dataclass
class Line:
    kind: str  # "same", "removed", "added", or "gap" (unchanged lines left out)
    text: str


@dataclass
class FieldChange:
    label: str
    lines: list[Line]


def diff_lines(old: str, new: str) -> list[Line]:
    """A line diff with CONTEXT_LINES of unchanged text around each change."""
    before, after = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    lines: list[Line] = []
    for number, group in enumerate(matcher.get_grouped_opcodes(CONTEXT_LINES)):
        if number or group[0][1] > 0:
            lines.append(Line("gap", "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [Line("same", text) for text in before[i1:i2]]
                continue
            lines += [Line("removed", text) for text in before[i1:i2]]
            lines += [Line("added", text) for text in after[j1:j2]]
    return lines


def compare(older: Revision, newer: Revision) -> list[FieldChange]:
    """What changed from `older` to `newer`, field by field; unchanged fields left out."""
    changes = []
    for label, attribute in (("Title", "title"), ("Excerpt", "excerpt"), ("Body", "body")):
        old, new = getattr(older, attribute), getattr(newer, attribute)
        if old != new:
            changes.append(FieldChange(label, diff_lines(old, new)))
    return changes


def restore_revision(post: Post, revision: Revision, user: User) -> Post:
    """Put the revision's words back; the result is itself a new revision."""
    when = local_time(revision.created_at)
    by = f" by {revision.author.name}" if revision.author else ""
    data = PostData(
        title=revision.title,
        body=revision.body,
        excerpt=revision.excerpt,
        slug=post.slug,
        status=post.status,
        categories=list(post.categories),
        tags=list(post.tags),
    )
    return save_post(data, author=user, post=post, note=f"Restored from {when}{by}")
