"""Every public page runs a small, fixed number of SQL queries, however many posts there are."""

import pytest

from blog.database import db
from blog.models import utcnow
from plugins.comments.models import Comment

pytestmark = pytest.mark.plugins(
    "categories", "related_posts", "comments", comments={"min_seconds": 0}
)


def add_comments(app, post_id, count):
    with app.app_context():
        for number in range(count):
            parent = db.session.scalar(
                db.select(Comment.id).where(Comment.post_id == post_id).order_by(Comment.id.desc())
            )
            db.session.add(Comment(post_id=post_id, parent_id=parent, author_name=f"R{number}",
                                   author_email=f"r{number}@example.com", body="Hi.",
                                   body_html="<p>Hi.</p>", status="approved"))  # fmt: skip
            db.session.flush()
        db.session.commit()


def queries_for(client, count_queries, path):
    """The statements of a page rendered (a miss of the page cache), warm otherwise."""
    client.get(path)  # warm up
    client.application.extensions["pressroom.page_cache"].clear()
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200
    assert response.headers.get("X-Page-Cache") in ("miss", None)  # None: logged in
    return counter.count


@pytest.mark.parametrize(
    "path",
    ["/", "/post-3/", "/feed/", "/?page=2", "/category/shared/", "/tag/shared-tag/",
     "/author/a3/", f"/{utcnow().year}/", "/archive/",
     "/search/feed/?q=post"],
)  # fmt: skip
def test_page_queries_do_not_grow_with_posts_or_categories(
    app, client, add_post, count_queries, path
):
    app.config["SITE"]["posts_per_page"] = 3

    def add_posts(numbers):
        for number in numbers:
            post_id = add_post(
                f"Post {number}",
                categories=[f"Topic {number}", "Shared"],
                tags=[f"tag {number}", "shared tag"],
                author=f"a{number}",
            )
            add_comments(app, post_id, count=number % 4)

    add_posts(range(6))
    few = queries_for(client, count_queries, path)
    add_posts(range(6, 40))
    many = queries_for(client, count_queries, path)

    assert few == many
    # At most, on a post page: the post (with author, image and categories), its tags, the
    # nav, the comments' counts and open state, the comment thread, and the related posts.
    assert many <= 6


def test_logged_in_pages_add_at_most_the_user_lookup(app, client, auth, add_post, count_queries):
    for number in range(10):
        add_post(f"Post {number}", categories=[f"Topic {number}"], author=f"a{number}")
    anonymous = queries_for(client, count_queries, "/")
    auth.login("a0")

    assert queries_for(client, count_queries, "/") <= anonymous + 1
