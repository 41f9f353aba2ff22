"""The related_posts index: the learnt model, each post's vectors, and its ranked picks."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from blog.database import db
from blog.models import utcnow


class RelatedModel(db.Model):
    """The model of the last rebuild (vocabulary, word weights, themes), one row."""

    __tablename__ = "related_posts_model"

    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)  # numpy .npz
    posts: Mapped[int] = mapped_column()
    built_at: Mapped[datetime] = mapped_column(default=utcnow)


class RelatedVector(db.Model):
    """One published post as the ranking sees it."""

    __tablename__ = "related_posts_vector"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    )
    words: Mapped[str] = mapped_column(Text)  # JSON {stem: weight}, the strongest words
    themes: Mapped[bytes | None] = mapped_column(LargeBinary)  # float32 unit vector
    categories: Mapped[str] = mapped_column(String(2000), default="")  # ids, space-separated
    tags: Mapped[str] = mapped_column(String(2000), default="")
    # Rises with every write, so a worker's in-memory copy can catch up incrementally.
    sequence: Mapped[int] = mapped_column(index=True)


class RelatedPick(db.Model):
    """`related_id` is one of the post's best picks; the box orders them by score."""

    __tablename__ = "related_posts_pick"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    )
    related_id: Mapped[int] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[float] = mapped_column()

    __table_args__ = (
        Index("ix_related_posts_pick_post_id_score", "post_id", "score"),  # the box
        Index("ix_related_posts_pick_related_id", "related_id"),  # "remove me everywhere"
    )


class HiddenBox(db.Model):
    """A post whose author chose to show no related posts under it."""

    __tablename__ = "related_posts_hidden"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    )
