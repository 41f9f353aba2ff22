"""How related two posts are: pure functions, no database, no Flask.

A post becomes words (lower-cased, stop words dropped, Snowball-stemmed; the title
counted twice), then a TF-IDF vector with sublinear term frequency. Over a whole blog
a truncated SVD (latent semantic analysis) finds the themes that words share, so that
posts about the same subject match even when they use different words. The score of
two posts blends the theme vectors' cosine with the plain word vectors' cosine (so a
rare shared name still counts), plus a little for shared categories and tags.
"""

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import snowballstemmer
from scipy import sparse
from scipy.sparse.linalg import svds

TITLE_WEIGHT = 2
THEME_WEIGHT = 0.8  # the rest is plain word overlap
CATEGORY_BONUS = 0.05  # for sharing at least one category
TAG_BONUS = 0.05  # times the share of tags in common
MIN_POSTS_FOR_THEMES = 50  # below this, themes are noise: words alone decide
MAX_THEMES = 100
MAX_TERMS = 60_000  # vocabulary kept in the model, most widespread first
LEXICAL_TERMS = 60  # strongest words kept per post for the word-overlap part

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

    def weights(self, terms: Counter) -> dict[str, float]:
        """The post's TF-IDF weights, unit length."""
        weights = {}
        for term, count in terms.items():
            index = self.vocabulary.get(term)
            idf = self.idf[index] if index is not None else self.default_idf
            weights[term] = (1 + math.log(count)) * float(idf)
        norm = math.sqrt(sum(value * value for value in weights.values())) or 1.0
        return {term: value / norm for term, value in weights.items()}

    def theme_vector(self, weights: dict[str, float]) -> np.ndarray | None:
        """Fold a post into the theme space: unit length, or None without themes."""
        if self.themes is None:
            return None
        vector = np.zeros(self.themes.shape[1], dtype=np.float32)
        for term, weight in weights.items():
            index = self.vocabulary.get(term)
            if index is not None:
                vector += weight * self.themes[index]
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector


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
    """The post's strongest words, which is all the word-overlap part needs."""
    top = sorted(weights.items(), key=lambda item: item[1], reverse=True)[:limit]
    return dict(top)


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


def blend(theme_similarity: float | None, overlap: float, bonus: float = 0.0) -> float:
    if theme_similarity is None:
        return overlap + bonus
    return THEME_WEIGHT * theme_similarity + (1 - THEME_WEIGHT) * overlap + bonus


CANDIDATES = 50  # posts nearest in themes, re-scored with the full blend


def nearest(matrix: np.ndarray, vector: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of `matrix` (unit theme vectors) most similar to `vector`: (indices, scores)."""
    similarities = matrix @ vector
    limit = min(limit, len(similarities))
    if limit <= 0:
        return np.array([], dtype=int), np.array([], dtype=np.float32)
    top = np.argpartition(-similarities, limit - 1)[:limit]
    top = top[np.argsort(-similarities[top], kind="stable")]
    return top, similarities[top]
