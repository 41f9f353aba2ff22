"""Reading a post's related posts: one indexed query, plus two for the fallback."""

from sqlalchemy.orm import joinedload, load_only

from blog.database import db
from blog.models import Post, post_category
from blog.plugin_api import LISTS, page_shows
from plugins.related_posts.models import HiddenBox, RelatedPick

# What the box shows of a pick (type and parent make its address, Post.path); its body
# (the bulk of a post row) is never read.
SHOWN = (
    load_only(
        Post.id,
        Post.title,
        Post.slug,
        Post.type,
        Post.parent_id,
        Post.published_at,
        Post.created_at,
        Post.author_id,
    ),
    joinedload(Post.author),
)


def picks_for(post: Post, count: int, min_score: float, category_fallback: bool) -> list[Post]:
    """The post's best published picks, best first; or, with none yet, its category's newest.

    None at all when the author hid the box under this post.
    """
    hidden = db.select(HiddenBox.post_id).where(HiddenBox.post_id == post.id).exists()
    picks = db.session.scalars(
        db.select(Post)
        .join(RelatedPick, RelatedPick.related_id == Post.id)
        .where(
            RelatedPick.post_id == post.id,
            RelatedPick.score >= min_score,
            Post.is_listed,
            ~hidden,  # in the same statement: a post page pays one query for its box
        )
        .options(*SHOWN)
        .order_by(RelatedPick.score.desc(), RelatedPick.related_id.desc())
        .limit(count)
    ).all()
    if picks or not category_fallback or not post.categories:
        return list(picks)
    has_picks = db.select(RelatedPick.related_id).where(RelatedPick.post_id == post.id).exists()
    has_picks, is_hidden = db.session.execute(db.select(has_picks, hidden)).one()
    if has_picks or is_hidden:
        return []  # picks, only none good enough: never pad with unrelated posts
    page_shows(LISTS)  # the category's newest: a new post there changes the box
    return list(
        db.session.scalars(
            db.select(Post)
            .join(post_category, post_category.c.post_id == Post.id)
            .where(
                post_category.c.category_id.in_([c.id for c in post.categories]),
                Post.is_listed,
                Post.id != post.id,
            )
            .options(*SHOWN)
            .order_by(Post.published_at.desc())
            .distinct()
            .limit(count)
        )
    )
