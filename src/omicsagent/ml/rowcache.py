"""A disk cache of one vector per input string (a sequence, a SMILES), for blocks whose rows are slow to
compute: embeddings from a pretrained model, RDKit fingerprints and descriptors.

Vectors live in shards ``<root>/<identity>/*.npz`` (``identity``: a hash of everything that determines the
vectors), each written atomically, keyed by ``row_key`` of the input text. Folders passed as ``shared`` hold
the same layout and are read first, never written: inside a run, the cross-validation folds, the refit and
the hidden-test scoring run in throwaway workspaces and read the run's cache there, so a row computed once in
a run is not computed again.

Row features (``feature_cache``) are cached only inside a run: the loop names the workspace's folder in
``$OMICSAGENT_FEATURE_CACHE`` and the run's folder in ``$OMICSAGENT_FEATURE_CACHE_SHARED``; a script run by
hand (``best/train.py``) computes everything and writes nothing.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from omicsagent.permissions import make_normal

FEATURE_CACHE_ENV = "OMICSAGENT_FEATURE_CACHE"
FEATURE_CACHE_SHARED_ENV = "OMICSAGENT_FEATURE_CACHE_SHARED"


def row_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()


def env_paths(name: str) -> list[Path]:
    """The folders named in environment variable ``name`` (separated by ``os.pathsep``)."""
    return [Path(p) for p in os.environ.get(name, "").split(os.pathsep) if p]


class RowCache:
    """Vectors by row key, in shards ``<root>/<identity>/*.npz`` written atomically; the same layout under
    each of ``shared`` is read too, never written. ``compress``: zip the shards (row features, mostly zeros,
    shrink about 20-fold; dense embeddings would not)."""

    def __init__(self, root: Path, identity: str, shared: list[Path] | None = None, *,
                 compress: bool = False) -> None:
        self.folder = Path(root) / identity
        self._save = np.savez_compressed if compress else np.savez
        self._shared = [Path(r) / identity for r in (shared or [])]
        self._vectors: dict[str, np.ndarray] = {}
        self._seen: set[Path] = set()

    def load(self) -> None:
        for folder in (*self._shared, self.folder):
            if not folder.is_dir():
                continue
            for shard in sorted(folder.glob("*.npz")):
                if shard in self._seen:
                    continue
                try:
                    with np.load(shard, allow_pickle=False) as data:
                        keys, vectors = data["keys"], data["vectors"]
                except (OSError, ValueError, KeyError):
                    continue  # a damaged shard is recomputed, never trusted
                self._vectors.update(zip(keys.tolist(), vectors))
                self._seen.add(shard)

    def get(self, key: str) -> np.ndarray | None:
        return self._vectors.get(key)

    def put(self, keys: list[str], vectors: np.ndarray) -> None:
        self._vectors.update(zip(keys, vectors))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                self._save(fh, keys=np.array(keys), vectors=vectors.astype(np.float32))
            name = (
                f"{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-"
                f"{hashlib.sha1(''.join(keys).encode()).hexdigest()[:12]}.npz"
            )
            os.replace(make_normal(Path(tmp)), self.folder / name)  # mkstemp's 0600: a group reads runs
            self._seen.add(self.folder / name)
        except OSError:
            pass  # a read-only or full disk only costs recomputation next time


def feature_cache(identity: str) -> RowCache | None:
    """The run's cache of row features for ``identity``, or None outside a run (no cache folder named)."""
    roots = env_paths(FEATURE_CACHE_ENV)
    if not roots:
        return None
    cache = RowCache(roots[0], identity, shared=env_paths(FEATURE_CACHE_SHARED_ENV), compress=True)
    cache.load()
    return cache


def cached_rows(cache: RowCache | None, texts: list[str], compute: Callable[[list[str]], np.ndarray],
                *, width: int, what: str) -> np.ndarray:
    """``compute(texts)`` (one float32 row of ``width`` values per text), computing only the distinct texts
    the cache lacks and storing them; without a cache, everything is computed. One log line says how many
    rows (``what``) came from the cache."""
    if cache is None:
        return compute(texts)
    keys = [row_key(t) for t in texts]
    missing = dict(sorted({k: t for k, t in zip(keys, texts) if cache.get(k) is None}.items()))
    hits = sum(k not in missing for k in keys)
    print(f"{what}: {hits} of {len(keys)} rows from the run's feature cache", flush=True)
    if missing:
        cache.put(list(missing), np.asarray(compute(list(missing.values())), dtype=np.float32))
    if not keys:
        return np.zeros((0, width), dtype=np.float32)
    return np.vstack([cache.get(k) for k in keys]).astype(np.float32)
