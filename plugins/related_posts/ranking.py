"""How related two posts are: pure functions, no database, no Flask.

A post becomes words (lower-cased, stop words dropped, Snowball-stemmed; title and body),
then a TF-IDF vector with sublinear term frequency. Over a whole blog a truncated SVD
(latent semantic analysis) finds the themes that words share, so that posts about the
same subject match even when they use different words. The score of two posts blends
the theme vectors' cosine with the cosine of their strongest words (so a rare shared
name still counts), plus a little for shared categories and tags.

Themes are trusted only as far as they explain a post. A post whose words the blog's
themes hardly hold (a news article among a thousand posts about something else) folds
into a short, arbitrary theme vector; scaled to unit length it would look as close to
every post of the blog's main theme as a real neighbour does. So a post's theme vector
keeps a length, its trust: 1 for a post the themes hold at least half as well as the
blog's median post, less in proportion below that; the weight the themes do not earn
goes to the shared words. Candidates come both from the nearest themes and from the
strongest shared words, so that a post the themes cannot place still meets the posts
that share its names.
"""

import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import snowballstemmer
from scipy import sparse
from scipy.sparse.linalg import svds

TITLE_WEIGHT = 1  # a title counts as the sentence it is (see bench/related_quality.py)
THEME_WEIGHT = 0.8  # the rest is plain word overlap
CATEGORY_BONUS = 0.05  # for sharing at least one category
TAG_BONUS = 0.05  # times the share of tags in common
# A post the themes hold half as well as the blog's median post is trusted fully; below
# that, in proportion (a news article among a thousand posts on something else: 0.1).
FULL_TRUST_SHARE = 0.5
MIN_POSTS_FOR_THEMES = 50  # below this, themes are noise: words alone decide
MAX_THEMES = 100
MAX_TERMS = 60_000  # vocabulary kept in the model, most widespread first
LEXICAL_TERMS = 60  # strongest words kept per post for the word-overlap part
INDEX_TERMS = 20  # of those, the ones other posts can find it by (candidates by words)

STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
said says say told mr mrs ms one two three new year years first last also could may might
must shall us get got like make made many much well way even back still since another
""".split())  # fmt: skip

_word = re.compile(r"[^\W\d_](?:[\w'’-]*[^\W_])?")
_stemmer = snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    # Words repeat endlessly across posts; the stemmer is pure Python and slow.
    return _stemmer.stemWord(word)


def tokenize(text: str) -> list[str]:
    """Words worth comparing: lower-case, no stop words, stemmed ("running" -> "run")."""
    words = []
    for word in _word.findall(text.lower()):
        word = word.replace("’", "'").removesuffix("'s")
        if len(word) > 1 and word not in STOP_WORDS:
            words.append(stem(word))
    return words


def post_terms(title: str, body: str) -> Counter:
    return Counter(tokenize(title) * TITLE_WEIGHT + tokenize(body))


@dataclass
class Model:
    """What a rebuild learns from the whole blog: word weights and theme directions."""

    vocabulary: dict[str, int]
    idf: np.ndarray  # per vocabulary term
    themes: np.ndarray | None  # terms x dimensions, or None for a small blog
    default_idf: float  # for words the model has not seen
    # The length of a folded-in theme vector from which a post's themes are fully trusted:
    # FULL_TRUST_SHARE of the blog's median post. 0 in a model stored before trust
    # existed: every post trusted, as then.
    trusted_capture: float = 0.0

    def weights(self, terms: Counter) -> dict[str, float]:
        """The post's TF-IDF weights, unit length."""
        weights = {}
        for term, count in terms.items():
            index = self.vocabulary.get(term)
            idf = self.idf[index] if index is not None else self.default_idf
            weights[term] = (1 + math.log(count)) * float(idf)
        norm = math.sqrt(sum(value * value for value in weights.values())) or 1.0
        return {term: value / norm for term, value in weights.items()}

    def folded(self, weights: dict[str, float]) -> np.ndarray:
        """The post's projection on the themes, as is (its length: how much they hold)."""
        vector = np.zeros(self.themes.shape[1], dtype=np.float32)
        for term, weight in weights.items():
            index = self.vocabulary.get(term)
            if index is not None:
                vector += weight * self.themes[index]
        return vector

    def theme_vector(self, weights: dict[str, float]) -> np.ndarray | None:
        """The post in the theme space, its length its trust (see the module's docstring);
        None without themes."""
        if self.themes is None:
            return None
        vector = self.folded(weights)
        norm = float(np.linalg.norm(vector))
        if not norm:
            return vector
        trust = min(1.0, norm / self.trusted_capture) if self.trusted_capture > 0 else 1.0
        return vector * (trust / norm)


def theme_count(posts: int) -> int:
    return max(2, min(MAX_THEMES, round(math.sqrt(posts) * 0.75)))


def fit(documents: list[Counter]) -> Model:
    """Learn the model from every published post's terms."""
    count = len(documents)
    document_frequency = Counter(term for terms in documents for term in terms)
    kept = [term for term, df in document_frequency.most_common(MAX_TERMS) if df >= 1]
    vocabulary = {term: index for index, term in enumerate(kept)}
    df = np.array([document_frequency[term] for term in kept], dtype=np.float64)
    idf = (np.log((1 + count) / (1 + df)) + 1).astype(np.float32)
    default_idf = float(math.log(1 + count) + 1)
    model = Model(vocabulary, idf, None, default_idf)
    dimensions = min(theme_count(count), min(count, len(kept)) - 1)
    if count < MIN_POSTS_FOR_THEMES or dimensions < 2:
        return model
    matrix = weight_matrix(model, documents)
    # A fixed start vector makes the decomposition, and so every rebuild, repeatable.
    start = np.ones(min(matrix.shape), dtype=np.float64)
    _, strengths, directions = svds(matrix, k=dimensions, v0=start)
    order = np.argsort(-strengths)
    model.themes = np.ascontiguousarray(directions[order].T, dtype=np.float32)
    folded = matrix @ model.themes  # every post's projection at once, as folded() makes it
    median = float(np.median(np.linalg.norm(folded, axis=1)))
    model.trusted_capture = FULL_TRUST_SHARE * median
    return model


def weight_matrix(model: Model, documents: list[Counter]) -> sparse.csr_matrix:
    rows, columns, values = [], [], []
    for row, terms in enumerate(documents):
        for term, weight in model.weights(terms).items():
            index = model.vocabulary.get(term)
            if index is not None:
                rows.append(row)
                columns.append(index)
                values.append(weight)
    return sparse.csr_matrix(
        (np.array(values), (rows, columns)), shape=(len(documents), len(model.vocabulary))
    )


def strongest(weights: dict[str, float], limit: int = LEXICAL_TERMS) -> dict[str, float]:
    """The post's strongest words, unit length: all the word-overlap part needs."""
    top = sorted(weights.items(), key=lambda item: item[1], reverse=True)[:limit]
    norm = math.sqrt(sum(weight * weight for _, weight in top)) or 1.0
    return {term: weight / norm for term, weight in top}


def score(
    words_a: dict[str, float],
    themes_a: np.ndarray | None,
    trust_a: float,
    words_b: dict[str, float],
    themes_b: np.ndarray | None,
    trust_b: float,
    bonus: float = 0.0,
) -> float:
    """How related two posts are; trust_* is trust(themes_*), computed once per post."""
    themes = None
    if themes_a is not None and themes_b is not None and themes_a.shape == themes_b.shape:
        themes = float(themes_a @ themes_b)
    return blend(themes, trust_a * trust_b, word_overlap(words_a, words_b), bonus)


def word_overlap(a: dict[str, float], b: dict[str, float]) -> float:
    if len(b) < len(a):
        a, b = b, a
    return sum(weight * b[term] for term, weight in a.items() if term in b)


def shared_bonus(categories_a, categories_b, tags_a, tags_b) -> float:
    bonus = CATEGORY_BONUS if set(categories_a) & set(categories_b) else 0.0
    tags_a, tags_b = set(tags_a), set(tags_b)
    if tags_a and tags_b:
        bonus += TAG_BONUS * len(tags_a & tags_b) / len(tags_a | tags_b)
    return bonus


def trust(themes: np.ndarray | None) -> float:
    return float(np.linalg.norm(themes)) if themes is not None else 0.0


def blend(themes: float | None, trusted: float, overlap: float, bonus: float = 0.0) -> float:
    """themes: the dot product of the two theme vectors, which is their cosine times both
    trusts; trusted: the product of the trusts. The weight the themes do not earn goes to
    the shared words."""
    if themes is None:
        return overlap + bonus
    return THEME_WEIGHT * themes + (1 - THEME_WEIGHT * trusted) * overlap + bonus


CANDIDATES = 50  # posts nearest in themes, re-scored with the full blend
WORD_BATCH = 50  # rows whose shared-word candidates are found in one sparse product


def nearest(matrix: np.ndarray, vector: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of `matrix` (unit theme vectors) most similar to `vector`: (indices, scores)."""
    similarities = matrix @ vector
    limit = min(limit, len(similarities))
    if limit <= 0:
        return np.array([], dtype=int), np.array([], dtype=np.float32)
    top = np.argpartition(-similarities, limit - 1)[:limit]
    top = top[np.argsort(-similarities[top], kind="stable")]
    return top, similarities[top]


def index_row(
    weights: dict[str, float], vocabulary: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """A post's INDEX_TERMS strongest known words, by which others find it: (term indices,
    weights), padded with len(vocabulary), a column that is always 0, and weight 0."""
    top = sorted(weights.items(), key=lambda item: item[1], reverse=True)[:INDEX_TERMS]
    known = [(vocabulary[term], weight) for term, weight in top if term in vocabulary]
    terms = np.full(INDEX_TERMS, len(vocabulary), dtype=np.int32)
    values = np.zeros(INDEX_TERMS, dtype=np.float32)
    for slot, (index, weight) in enumerate(known):
        terms[slot], values[slot] = index, weight
    return terms, values


def word_index(words: list[dict[str, float]], vocabulary: dict[str, int]) -> sparse.csr_matrix:
    """Posts x terms (and the padding column): each post's index_row."""
    rows = [index_row(weights, vocabulary) for weights in words]
    terms = np.array([terms for terms, _ in rows], dtype=np.int32).reshape(-1, INDEX_TERMS)
    values = np.array([values for _, values in rows], dtype=np.float32).reshape(-1, INDEX_TERMS)
    matrix = sparse.csr_matrix(
        (values.ravel(), terms.ravel(), np.arange(0, terms.size + 1, INDEX_TERMS)),
        shape=(len(words), len(vocabulary) + 1),
    )
    matrix.sum_duplicates()  # the padding column, repeated
    return matrix


def shared_word_rows(
    terms: np.ndarray,
    values: np.ndarray,
    words: dict[str, float],
    vocabulary: dict[str, int],
    limit: int,
) -> np.ndarray:
    """Rows of stacked index_rows that share the most of `words` (a post's strongest),
    best first, only those sharing any (ties: lowest row first)."""
    query = np.zeros(len(vocabulary) + 1, dtype=np.float32)
    for term, weight in words.items():
        index = vocabulary.get(term)
        if index is not None:
            query[index] = weight
    shared = (query[terms] * values).sum(axis=1)
    rows = np.flatnonzero(shared > 0)
    order = np.lexsort((rows, -shared[rows]))[:limit]
    return rows[order]


def query_matrix(words: list[dict[str, float]], vocabulary: dict[str, int]) -> sparse.csr_matrix:
    """Posts x terms: all of each post's strongest words, as it looks for others."""
    rows, columns, values = [], [], []
    for row, weights in enumerate(words):
        for term, weight in weights.items():
            index = vocabulary.get(term)
            if index is not None:
                rows.append(row)
                columns.append(index)
                values.append(weight)
    return sparse.csr_matrix(
        (np.array(values, dtype=np.float32), (rows, columns)),
        shape=(len(words), len(vocabulary) + 1),
    )


def top_columns(row: sparse.csr_matrix, limit: int) -> np.ndarray:
    """Columns of a one-row sparse matrix with the highest positive values, best first
    (ties: lowest column first, so that every run picks the same)."""
    values, columns = row.data, row.indices
    keep = values > 0
    values, columns = values[keep], columns[keep]
    order = np.lexsort((columns, -values))[:limit]
    return columns[order]


def rank_all(
    model: Model,
    words: list[dict[str, float]],
    themes: list[np.ndarray | None],
    bonus: Callable[[int, int], float],
    keep: int,
    batch: int = 500,
) -> Iterator[list[tuple[float, int]]]:
    """Every post's `keep` best (score, index), best first, in the posts' order: scored
    against the CANDIDATES nearest in themes and the CANDIDATES sharing the most strong
    words (every post, on a blog too small for themes). bonus(a, b): for shared categories
    and tags. Ties go to the higher index."""
    total = len(words)
    trusts = [trust(vector) for vector in themes]
    matrix = np.array(themes, dtype=np.float32) if total and model.themes is not None else None
    found_by = word_index(words, model.vocabulary).T.tocsr()  # terms x posts
    asking = query_matrix(words, model.vocabulary)
    limit = min(CANDIDATES + 1, total)
    for start in range(0, total, batch):
        stop = min(start + batch, total)
        if matrix is not None:
            # One matrix product for the whole batch (BLAS), then the nearest per row.
            similarities = matrix[start:stop] @ matrix.T
            nearest_themes = np.argpartition(-similarities, limit - 1, axis=1)[:, :limit]
        for n in range(start, stop):
            if matrix is None:
                candidates = set(range(total))
            else:
                candidates = set(nearest_themes[n - start].tolist())
                if (n - start) % WORD_BATCH == 0:
                    # Posts sharing words with each of the next rows: a sparse product,
                    # in small batches (common words make it dense on a large blog).
                    shared = (asking[n : min(n + WORD_BATCH, stop)] @ found_by).tocsr()
                candidates.update(top_columns(shared[(n - start) % WORD_BATCH], limit).tolist())
            candidates.discard(n)
            scored = sorted(
                ((score(words[n], themes[n], trusts[n], words[other], themes[other],
                        trusts[other], bonus(n, other)), other)
                 for other in candidates),
                reverse=True,
            )  # fmt: skip
            yield [(value, other) for value, other in scored if value > 0][:keep]
