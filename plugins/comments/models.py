"""The comments plugin's tables: comments, and the posts whose comments are closed."""

import hashlib
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blog.database import db
from blog.models import Post, utcnow

STATUSES = ("pending", "approved", "spam")


class Comment(db.Model):
    __tablename__ = "comments_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments_comment.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    author_name: Mapped[str] = mapped_column(String(100))
    author_email: Mapped[str] = mapped_column(String(254))  # never shown to readers
    author_url: Mapped[str] = mapped_column(String(300), default="")
    author_ip: Mapped[str] = mapped_column(String(45), default="")
    body: Mapped[str] = mapped_column(Text)  # as written (Markdown subset)
    body_html: Mapped[str] = mapped_column(Text)  # rendered and sanitised
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    wp_id: Mapped[int | None] = mapped_column()  # its id on the WordPress site it came from

    post: Mapped[Post] = relationship()
    parent: Mapped["Comment | None"] = relationship(remote_side=[id])

    __table_args__ = (
        # A post's thread, oldest first; the counts on lists.
        Index("ix_comments_comment_post_id_status", "post_id", "status", "created_at"),
        # The moderation queue, newest first.
        Index("ix_comments_comment_status_created_at", "status", "created_at"),
        # "Has this email an approved comment?" for moderation = "new_authors".
        Index("ix_comments_comment_author_email_status", "author_email", "status"),
        # A re-import finds the comments it brought over before.
        Index("ux_comments_comment_post_id_wp_id", "post_id", "wp_id", unique=True),
    )

    @property
    def website(self) -> str:
        """The author's website, if it is one a link may lead to (http or https only:
        never `javascript:`, whatever a form, an import or a script stored)."""
        url = self.author_url.strip()
        return url if url.lower().startswith(("http://", "https://")) else ""

    @property
    def initials(self) -> str:
        words = [word for word in self.author_name.split() if word[:1].isalnum()]
        letters = "".join(word[0] for word in words[:2]) or self.author_name[:1] or "?"
        return letters.upper()

    @property
    def avatar_hue(self) -> int:
        """A colour of its own for each email, made here: no third-party avatar service."""
        digest = hashlib.sha256(self.author_email.strip().lower().encode()).digest()
        return int.from_bytes(digest[:2], "big") % 360


class ClosedPost(db.Model):
    """A post whose comments the owner closed by hand."""

    __tablename__ = "comments_closed_post"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    )
    closed_at: Mapped[datetime] = mapped_column(default=utcnow)
