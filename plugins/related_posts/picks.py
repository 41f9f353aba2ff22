"""Reading a post's related posts: one indexed query, plus one for the fallback."""

from sqlalchemy.orm import joinedload

from blog.database import db
from blog.models import Post, post_category
from plugins.related_posts.models import RelatedPick


def picks_for(post: Post, count: int, min_score: float, category_fallback: bool) -> list[Post]:
    """The post's best published picks, best first; or, with none yet, its category's newest."""
    picks = db.session.scalars(
        db.select(Post)
        .join(RelatedPick, RelatedPick.related_id == Post.id)
        .where(
            RelatedPick.post_id == post.id,
            RelatedPick.score >= min_score,
            Post.is_listed,
        )
        .options(joinedload(Post.author))
        .order_by(RelatedPick.score.desc(), RelatedPick.related_id.desc())
        .limit(count)
    ).all()
    if picks or not category_fallback or not post.categories:
        return list(picks)
    has_picks = db.session.scalar(
        db.select(RelatedPick.related_id).where(RelatedPick.post_id == post.id).limit(1)
    )
    if has_picks is not None:
        return []  # it has picks, only none good enough: never pad with unrelated posts
    return list(
        db.session.scalars(
            db.select(Post)
            .join(post_category, post_category.c.post_id == Post.id)
            .where(
                post_category.c.category_id.in_([c.id for c in post.categories]),
                Post.is_listed,
                Post.id != post.id,
            )
            .options(joinedload(Post.author))
            .order_by(Post.published_at.desc())
            .distinct()
            .limit(count)
        )
    )
