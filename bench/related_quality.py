"""Related-posts relevance on the labelled BBC corpus: precision@3 beside two baselines.

    .venv/bin/python bench/related_quality.py [--corpus ../shared/fixtures/related-corpus]

For each of the 2,095 articles, three picks are made from title and body alone (topics
stay hidden); precision@3 is the share of picks that share the article's topic. Printed
beside random picks and plain TF-IDF cosine (sublinear TF, title and body), measured in
the same run, with the time each method took.
"""

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import sparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plugins.related_posts import ranking  # noqa: E402 -- after the path is set

DEFAULT_CORPUS = ROOT.parent / "shared" / "fixtures" / "related-corpus"
PICKS = 3


def precision(picks: list[list[int]], topics: list[str]) -> float:
    hits = [topics[pick] == topics[index] for index, row in enumerate(picks) for pick in row]
    return sum(hits) / len(hits)


def random_picks(count: int) -> list[list[int]]:
    rng = random.Random(2006)
    return [rng.sample([other for other in range(count) if other != index], PICKS)
            for index in range(count)]  # fmt: skip


def plain_tfidf_picks(articles: list[dict]) -> list[list[int]]:
    """TF-IDF cosine as scikit-learn does it (sublinear TF, smooth IDF), no stemming."""
    token = re.compile(r"(?u)\b\w\w+\b")
    counts = [Counter(token.findall(f"{a['title']}\n{a['body']}".lower())) for a in articles]
    vocabulary = {term: i for i, term in enumerate({t for c in counts for t in c})}
    rows, columns, values = [], [], []
    for row, terms in enumerate(counts):
        for term, count in terms.items():
            rows.append(row)
            columns.append(vocabulary[term])
            values.append(1 + np.log(count))
    matrix = sparse.csr_matrix((values, (rows, columns)), shape=(len(counts), len(vocabulary)))
    df = np.bincount(matrix.indices, minlength=len(vocabulary))
    matrix = matrix.multiply(np.log((1 + len(counts)) / (1 + df)) + 1).tocsr()
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    matrix = sparse.diags(1 / norms) @ matrix
    similarity = (matrix @ matrix.T).toarray()
    np.fill_diagonal(similarity, -1)
    return np.argsort(-similarity, axis=1)[:, :PICKS].tolist()


def our_picks(articles: list[dict]) -> list[list[int]]:
    """The plugin's own ranking, as its index computes it."""
    documents = [ranking.post_terms(a["title"], a["body"]) for a in articles]
    model = ranking.fit(documents)
    weights = [model.weights(terms) for terms in documents]
    lexical = [ranking.strongest(w) for w in weights]
    themes = np.array([model.theme_vector(w) for w in weights])
    picks = []
    for index in range(len(articles)):
        candidates, similarities = ranking.nearest(themes, themes[index], ranking.CANDIDATES + 1)
        scored = [
            (
                ranking.blend(
                    float(similarity), ranking.word_overlap(lexical[index], lexical[other])
                ),
                other,
            )
            for other, similarity in zip(candidates, similarities, strict=True)
            if other != index
        ]
        scored.sort(key=lambda pair: -pair[0])
        picks.append([other for _, other in scored[:PICKS]])
    return picks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    path = args.corpus / "articles.jsonl"
    if not path.exists():
        raise SystemExit(f"related_quality: {path} not found (the corpus lives in ../shared)")
    articles = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    topics = [article["topic"] for article in articles]
    articles = [{"title": a["title"], "body": a["body"]} for a in articles]  # topics stay hidden

    print(f"{len(articles)} articles, precision@{PICKS} (share of picks on the same topic)")
    results = {}
    for name, method in (
        ("random picks", lambda: random_picks(len(articles))),
        ("plain TF-IDF cosine", lambda: plain_tfidf_picks(articles)),
        ("Pressroom related_posts", lambda: our_picks(articles)),
    ):
        started = time.perf_counter()
        results[name] = precision(method(), topics)
        print(f"  {name:<24} {results[name]:.4f}   ({time.perf_counter() - started:.1f} s)")
    ours, plain = results["Pressroom related_posts"], results["plain TF-IDF cosine"]
    verdict = "met" if ours >= 0.96 else "MISSED"
    print(f"ours - plain TF-IDF: {ours - plain:+.4f}; target 0.96: {verdict}")


if __name__ == "__main__":
    main()
