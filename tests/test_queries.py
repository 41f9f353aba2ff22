"""Every public page runs a small, fixed number of SQL queries, however many posts there are."""

import pytest

pytestmark = pytest.mark.plugins("categories")


def queries_for(client, count_queries, path):
    client.get(path)  # warm up
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200
    return counter.count


@pytest.mark.parametrize("path", ["/", "/post-0/", "/feed/", "/?page=2"])
def test_page_queries_do_not_grow_with_posts_or_categories(
    app, client, add_post, count_queries, path
):
    app.config["SITE"]["posts_per_page"] = 3
    for number in range(6):
        add_post(f"Post {number}", categories=[f"Topic {number}", "Shared"], author=f"a{number}")
    few = queries_for(client, count_queries, path)
    for number in range(6, 40):
        add_post(f"Post {number}", categories=[f"Topic {number}", "Shared"], author=f"a{number}")
    many = queries_for(client, count_queries, path)

    assert few == many
    assert many <= 5


def test_logged_in_pages_add_at_most_the_user_lookup(app, client, auth, add_post, count_queries):
    for number in range(10):
        add_post(f"Post {number}", categories=[f"Topic {number}"], author=f"a{number}")
    anonymous = queries_for(client, count_queries, "/")
    auth.login("a0")

    assert queries_for(client, count_queries, "/") <= anonymous + 1
