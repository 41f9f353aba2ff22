"""The related_posts index in the database: kept in step on every save, rebuilt on demand.

Each published post has a vector row and up to KEEP ranked picks, so a post page reads
its box with one indexed query. A save folds the post into the stored model, scores it
against the CANDIDATES nearest posts in theme space and the CANDIDATES sharing the most
strong words (in-memory matrices, caught up incrementally), rewrites its picks and slots
it into its neighbours' lists.
"""

import io
import json
import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from blog.database import db
from blog.models import Post, post_category, post_tag
from blog.plugin_api import plain_text, post_pages, site_changed
from plugins.related_posts import ranking
from plugins.related_posts.models import RelatedModel, RelatedPick, RelatedVector

KEEP = 10  # picks stored per post; the box shows `count` of them
BATCH = 500
# The model relearns itself, in a background job, after this share of the posts it
# learnt from have been saved since (new or edited), and at least REFRESH_MIN of them:
# until then a new word counts in the word overlap but finds no candidates, and the
# themes do not know it.
REFRESH_SHARE = 0.1
REFRESH_MIN = 20


# The learnt model and the theme matrix are large and change rarely, so each process
# keeps one copy per database, checked against the database before every use.
_lock = threading.Lock()


@dataclass
class ThemeMatrix:
    """Every indexed post's theme vector, and the strong words others find it by."""

    model_key: tuple = ()
    seen: int = -1  # highest vector sequence applied
    ids: list[int] = field(default_factory=list)
    rows: dict[int, int] = field(default_factory=dict)
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    # Stacked ranking.index_row()s, one per row of `matrix`.
    terms: np.ndarray = field(
        default_factory=lambda: np.zeros((0, ranking.INDEX_TERMS), dtype=np.int32)
    )
    values: np.ndarray = field(
        default_factory=lambda: np.zeros((0, ranking.INDEX_TERMS), dtype=np.float32)
    )


_models: dict[str, tuple[tuple, ranking.Model]] = {}
_matrices: dict[str, ThemeMatrix] = {}


def _database_key() -> str:
    return db.engine.url.render_as_string(hide_password=True)


def current_model() -> ranking.Model:
    """The model of the last rebuild, or a words-only one before the first."""
    row = db.session.execute(
        db.select(RelatedModel.id, RelatedModel.built_at).order_by(RelatedModel.id.desc())
    ).first()
    if row is None:
        return ranking.Model({}, np.zeros(0, dtype=np.float32), None, 1.0)
    key = (row.id, row.built_at)
    with _lock:
        cached = _models.get(_database_key())
        if cached and cached[0] == key:
            return cached[1]
    data = db.session.get(RelatedModel, row.id).data
    model = load_model(data)
    with _lock:
        _models[_database_key()] = (key, model)
    return model


def dump_model(model: ranking.Model) -> bytes:
    buffer = io.BytesIO()
    terms = np.array(sorted(model.vocabulary, key=model.vocabulary.get), dtype=object)
    np.savez_compressed(
        buffer,
        terms=np.array([str(term) for term in terms], dtype=np.str_),
        idf=model.idf,
        themes=model.themes if model.themes is not None else np.zeros((0, 0), np.float32),
        default_idf=np.array([model.default_idf]),
        trusted_capture=np.array([model.trusted_capture]),
    )
    return buffer.getvalue()


def load_model(data: bytes) -> ranking.Model:
    stored = np.load(io.BytesIO(data), allow_pickle=False)
    terms = [str(term) for term in stored["terms"]]
    themes = stored["themes"] if stored["themes"].size else None
    # A model stored before trust existed has none: 0, every post trusted.
    capture = float(stored["trusted_capture"][0]) if "trusted_capture" in stored else 0.0
    return ranking.Model(
        {term: index for index, term in enumerate(terms)},
        stored["idf"],
        themes,
        float(stored["default_idf"][0]),
        capture,
    )


def theme_matrix(model: ranking.Model) -> ThemeMatrix:
    """Every indexed post's theme vector, caught up with the database."""
    key = _database_key()
    model_key = (id(model),)
    with _lock:
        cache = _matrices.get(key)
        if cache is None or cache.model_key != model_key:
            cache = _matrices[key] = ThemeMatrix(model_key=model_key)
    updates = db.session.execute(
        db.select(
            RelatedVector.post_id, RelatedVector.themes, RelatedVector.words, RelatedVector.sequence
        ).where(RelatedVector.sequence >= cache.seen)
    ).all()
    total = db.session.scalar(db.select(db.func.count(RelatedVector.post_id)))
    with _lock:
        width = model.themes.shape[1] if model.themes is not None else 0
        fresh = []
        for post_id, themes, words, sequence in updates:
            vector = np.frombuffer(themes, dtype=np.float32) if themes else np.zeros(width)
            if vector.shape[0] != width:
                continue  # written under another model; the next rebuild replaces it
            terms, values = ranking.index_row(json.loads(words), model.vocabulary)
            if post_id in cache.rows:
                row = cache.rows[post_id]
                cache.matrix[row], cache.terms[row], cache.values[row] = vector, terms, values
            else:
                fresh.append((post_id, vector, terms, values))
            cache.seen = max(cache.seen, sequence)
        if fresh:
            start = len(cache.ids)
            cache.ids.extend(post_id for post_id, *_ in fresh)
            cache.rows.update({post_id: start + n for n, (post_id, *_) in enumerate(fresh)})
            block = np.array([vector for _, vector, _, _ in fresh], dtype=np.float32)
            cache.matrix = np.vstack([cache.matrix.reshape(-1, width), block.reshape(-1, width)])
            cache.terms = np.vstack([cache.terms, [terms for _, _, terms, _ in fresh]])
            cache.values = np.vstack([cache.values, [values for *_, values in fresh]])
        if len(cache.ids) != total:
            # Rows were removed (a post deleted or unpublished): start again from scratch.
            _matrices.pop(key, None)
            stale = True
        else:
            stale = False
    return theme_matrix(model) if stale else cache


@dataclass
class Entry:
    """One post as the ranking sees it, from its vector row."""

    post_id: int
    words: dict[str, float]
    themes: np.ndarray | None
    categories: set[int]
    tags: set[int]
    trust: float = field(init=False)

    def __post_init__(self):
        self.trust = ranking.trust(self.themes)

    @classmethod
    def from_row(cls, row: RelatedVector) -> "Entry":
        themes = np.frombuffer(row.themes, dtype=np.float32) if row.themes else None
        return cls(
            row.post_id,
            json.loads(row.words),
            themes,
            {int(n) for n in row.categories.split()},
            {int(n) for n in row.tags.split()},
        )

    def score(self, other: "Entry") -> float:
        return ranking.score(
            self.words, self.themes, self.trust, other.words, other.themes, other.trust,
            ranking.shared_bonus(self.categories, other.categories, self.tags, other.tags),
        )  # fmt: skip


def post_text(post: Post) -> tuple[str, str]:
    return post.title, plain_text(post.body_html)


def next_sequence() -> int:
    return (db.session.scalar(db.select(db.func.max(RelatedVector.sequence))) or 0) + 1


def refresh_due() -> bool:
    """Whether the save just indexed is the one after which the model should relearn.

    A rebuild sets every sequence to 1 and each save since takes the next, so the highest
    sequence counts the saves since; the refresh is asked for at every multiple of the
    threshold, so a failed one is asked for again later rather than never.
    """
    saves = (db.session.scalar(db.select(db.func.max(RelatedVector.sequence))) or 1) - 1
    learnt_from = db.session.scalar(
        db.select(RelatedModel.posts).order_by(RelatedModel.id.desc()).limit(1)
    )
    threshold = max(REFRESH_MIN, math.ceil(REFRESH_SHARE * (learnt_from or 0)))
    return saves > 0 and saves % threshold == 0


def update_post(post: Post) -> None:
    """Index a saved post, or take it out of every list if it is no longer published."""
    if not post.is_listed:
        remove_post(post.id)
        return
    model = current_model()
    weights = model.weights(ranking.post_terms(*post_text(post)))
    themes = model.theme_vector(weights)
    words = ranking.strongest(weights)
    categories = [category.id for category in post.categories]
    tags = [tag.id for tag in post.tags]
    values = {
        "words": json.dumps(words),
        "themes": themes.astype(np.float32).tobytes() if themes is not None else None,
        "categories": " ".join(map(str, categories)),
        "tags": " ".join(map(str, tags)),
        "sequence": next_sequence(),
    }
    # An upsert, not a read-then-UPDATE: a rebuild running meanwhile deletes and writes
    # the row again, and an UPDATE of the row read before it would match nothing.
    db.session.execute(
        upsert(RelatedVector)
        .values(post_id=post.id, **values)
        .on_conflict_do_update(index_elements=["post_id"], set_=values)
    )
    rerank(Entry(post.id, words, themes, set(categories), set(tags)), model)


def remove_post(post_id: int) -> None:
    db.session.execute(db.delete(RelatedPick).where(RelatedPick.post_id == post_id))
    db.session.execute(db.delete(RelatedPick).where(RelatedPick.related_id == post_id))
    db.session.execute(db.delete(RelatedVector).where(RelatedVector.post_id == post_id))


def candidate_ids(entry: Entry, model: ranking.Model) -> list[int]:
    if entry.themes is None or model.themes is None:
        # A blog too small for themes (or not rebuilt yet): compare with the newest posts.
        return list(
            db.session.scalars(
                db.select(RelatedVector.post_id)
                .where(RelatedVector.post_id != entry.post_id)
                .order_by(RelatedVector.sequence.desc())
                .limit(ranking.CANDIDATES * 10)
            )
        )
    cache = theme_matrix(model)
    if not cache.ids:
        return []
    limit = ranking.CANDIDATES + 1
    by_themes, _ = ranking.nearest(cache.matrix, entry.themes, limit)
    by_words = ranking.shared_word_rows(
        cache.terms, cache.values, entry.words, model.vocabulary, limit
    )
    rows = dict.fromkeys([*by_themes.tolist(), *by_words.tolist()])  # once each, in order
    return [cache.ids[row] for row in rows if cache.ids[row] != entry.post_id]


def rerank(entry: Entry, model: ranking.Model) -> None:
    """Rewrite the post's picks, and put it into the lists of neighbours it now beats."""
    ids = candidate_ids(entry, model)
    rows = db.session.scalars(db.select(RelatedVector).where(RelatedVector.post_id.in_(ids)))
    scored = sorted(
        ((entry.score(other), other.post_id) for other in map(Entry.from_row, rows)),
        reverse=True,
    )
    scored = [(score, other) for score, other in scored if score > 0]
    write_picks(entry.post_id, scored[:KEEP])

    db.session.execute(db.delete(RelatedPick).where(RelatedPick.related_id == entry.post_id))
    neighbours = {other: score for score, other in scored}
    if not neighbours:
        return
    lists: dict[int, list[tuple[float, int]]] = {other: [] for other in neighbours}
    for owner, score, related in db.session.execute(
        db.select(RelatedPick.post_id, RelatedPick.score, RelatedPick.related_id).where(
            RelatedPick.post_id.in_(list(neighbours))
        )
    ):
        lists[owner].append((score, related))
    added, dropped = [], []
    for other, picks in lists.items():
        score = neighbours[other]
        if len(picks) < KEEP:
            added.append({"post_id": other, "related_id": entry.post_id, "score": score})
        else:
            worst = min(picks)
            if score > worst[0]:
                added.append({"post_id": other, "related_id": entry.post_id, "score": score})
                dropped.append((other, worst[1]))
    if added or dropped:  # their boxes show this post now, or one fewer other
        site_changed(*{post_pages(change["post_id"]) for change in added},
                     *{post_pages(owner) for owner, _ in dropped})  # fmt: skip
    # Two statements for all the neighbours together, however many lists changed. (One
    # delete run for each pair: a row-value IN (...) makes SQLite scan the whole table.)
    if dropped:
        picks = RelatedPick.__table__
        db.session.connection().execute(
            picks.delete().where(
                picks.c.post_id == bindparam("owner"), picks.c.related_id == bindparam("related")
            ),
            [{"owner": owner, "related": related} for owner, related in dropped],
        )
    if added:
        db.session.execute(insert_picks(), added)


def upsert(model):
    """INSERT … ON CONFLICT for the dialects Pressroom runs on."""
    if db.engine.dialect.name == "postgresql":
        return postgresql_insert(model)
    return sqlite_insert(model)


def insert_picks():
    """INSERT that skips a pick another worker saving at the same moment wrote first."""
    if db.engine.dialect.name == "postgresql":
        return postgresql_insert(RelatedPick).on_conflict_do_nothing()
    if db.engine.dialect.name == "sqlite":
        return sqlite_insert(RelatedPick).on_conflict_do_nothing()
    return db.insert(RelatedPick)


def write_picks(post_id: int, picks: list[tuple[float, int]]) -> None:
    db.session.execute(db.delete(RelatedPick).where(RelatedPick.post_id == post_id))
    if picks:
        db.session.execute(
            insert_picks(),
            [{"post_id": post_id, "related_id": other, "score": float(score)}
             for score, other in picks],
        )  # fmt: skip


def listed_post_texts() -> Iterator[tuple[int, str, str, set[int], set[int]]]:
    """(id, title, text, category ids, tag ids) of every published post, in batches."""
    last = 0
    while True:
        posts = db.session.execute(
            db.select(Post.id, Post.title, Post.body_html)
            .where(Post.is_listed, Post.id > last)
            .order_by(Post.id)
            .limit(BATCH)
        ).all()
        if not posts:
            return
        ids = [post.id for post in posts]
        categories, tags = {i: set() for i in ids}, {i: set() for i in ids}
        for post_id, category_id in db.session.execute(
            db.select(post_category.c.post_id, post_category.c.category_id).where(
                post_category.c.post_id.in_(ids)
            )
        ):
            categories[post_id].add(category_id)
        for post_id, tag_id in db.session.execute(
            db.select(post_tag.c.post_id, post_tag.c.tag_id).where(post_tag.c.post_id.in_(ids))
        ):
            tags[post_id].add(tag_id)
        for post in posts:
            yield (
                post.id,
                post.title,
                plain_text(post.body_html),
                categories[post.id],
                tags[post.id],
            )
        last = ids[-1]


def rebuild(progress: Callable[[str, int, int], None] = lambda stage, done, total: None) -> int:
    """Learn the model from every published post and recompute every list; one transaction.

    progress(stage, done, total) is called as the work goes on. Returns the posts indexed.
    """
    posts = list(listed_post_texts())
    total = len(posts)
    documents = []
    for done, (_, title, text, _, _) in enumerate(posts, 1):
        documents.append(ranking.post_terms(title, text))
        if done % BATCH == 0 or done == total:
            progress("reading posts", done, total)
    model = ranking.fit(documents)
    weights = [model.weights(terms) for terms in documents]
    words = [ranking.strongest(w) for w in weights]
    themes = [model.theme_vector(w) for w in weights]

    db.session.execute(db.delete(RelatedPick))
    db.session.execute(db.delete(RelatedVector))
    db.session.execute(db.delete(RelatedModel))
    db.session.add(RelatedModel(data=dump_model(model), posts=total))
    for start in range(0, total, BATCH):
        db.session.execute(
            db.insert(RelatedVector),
            [
                {
                    "post_id": posts[n][0],
                    "words": json.dumps(words[n]),
                    "themes": themes[n].tobytes() if themes[n] is not None else None,
                    "categories": " ".join(map(str, sorted(posts[n][3]))),
                    "tags": " ".join(map(str, sorted(posts[n][4]))),
                    "sequence": 1,
                }
                for n in range(start, min(start + BATCH, total))
            ],
        )
        progress("writing vectors", min(start + BATCH, total), total)

    def bonus(a: int, b: int) -> float:
        return ranking.shared_bonus(posts[a][3], posts[b][3], posts[a][4], posts[b][4])

    rows = []
    ranked = ranking.rank_all(model, words, themes, bonus, KEEP, batch=BATCH)
    for n, picks in enumerate(ranked):
        rows.extend(
            {"post_id": posts[n][0], "related_id": posts[other][0], "score": float(score)}
            for score, other in picks
        )
        if (n + 1) % BATCH == 0 or n + 1 == total:
            if rows:
                db.session.execute(db.insert(RelatedPick), rows)
            rows = []
            progress("ranking", n + 1, total)
    with _lock:
        _matrices.pop(_database_key(), None)
    return total
