"""A run's cache of fitted models, so that a blend or a bagged ensemble does not fit again a member that an
earlier iteration already fitted.

A fit is identified by everything that determines it: the model's kind and options (its seed included), the
features it was given and its encoded labels (``fit_key``). Inside a run, ``Model.fit`` looks the key up
before fitting and stores what it fitted after: the tree search's blend of iteration 3's model with
iteration 5's then only reads both members back, and a bag of three seeds fits two.

Entries are pickles (``joblib``) of fitted models, read only by code inside the sandbox, as the models an
iteration saves are. Like the row-feature cache (``ml.rowcache``), the cache is active only inside a run:
the loop names the workspace's folder in ``$OMICSAGENT_FIT_CACHE`` and, for a throwaway workspace (a
cross-validation fold, the refit), the run's folder in ``$OMICSAGENT_FIT_CACHE_SHARED``, read first and
never written. A script run by hand (``best/train.py``) fits everything and writes nothing.

A fitted model is reused whatever time limit the new fit has: a model that stopped early at its own
limit is reused as it is.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import fields
from pathlib import Path

import numpy as np
from scipy import sparse

from omicsagent.ml.features import OUTPUT_KINDS, FeatureSet
from omicsagent.ml.rowcache import env_paths
from omicsagent.permissions import make_normal

FIT_CACHE_ENV = "OMICSAGENT_FIT_CACHE"
FIT_CACHE_SHARED_ENV = "OMICSAGENT_FIT_CACHE_SHARED"
_FORMAT = 1
_SUFFIX = ".joblib"


def is_entry(name: str) -> bool:
    """Whether a file name is a cache entry's (a hex key and the suffix)."""
    key, _, rest = name.partition(".")
    return f".{rest}" == _SUFFIX and len(key) == 40 and all(ch in "0123456789abcdef" for ch in key)


def active() -> bool:
    return bool(os.environ.get(FIT_CACHE_ENV) or os.environ.get(FIT_CACHE_SHARED_ENV))


def _update_array(h, a: np.ndarray) -> None:
    a = np.ascontiguousarray(a)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.data if a.dtype != object else repr(a.tolist()).encode())


def feature_digest(X: FeatureSet) -> str:
    """A hash of a FeatureSet's values and flat column names: equal for the same features however the
    matrix was assembled (a sparse matrix is hashed in canonical form)."""
    h = hashlib.blake2b(digest_size=20)
    for name in OUTPUT_KINDS:
        a = getattr(X, name)
        h.update(name.encode())
        if a is None:
            h.update(b"none")
        elif sparse.issparse(a):
            c = sparse.csr_matrix(a, copy=True)
            c.sum_duplicates()
            c.eliminate_zeros()
            c.sort_indices()
            h.update(f"csr{c.shape}".encode())
            for part in (c.indptr.astype(np.int64), c.indices.astype(np.int64), c.data):
                _update_array(h, part)
        elif name == "graph":
            for g in a:
                for part in (g.atoms, g.src, g.dst, g.bonds):
                    _update_array(h, part)
        else:
            _update_array(h, np.asarray(a))
    h.update(json.dumps(list(X.flat_names)).encode())
    return h.hexdigest()


def fit_key(model, X: FeatureSet, y: np.ndarray) -> str:
    """The key of fitting ``model`` (unfitted, options set) on ``X`` and encoded labels ``y``."""
    from omicsagent import __version__

    spec = {f.name: getattr(model, f.name) for f in fields(model) if f.init}
    h = hashlib.blake2b(digest_size=20)
    h.update(json.dumps([_FORMAT, __version__, model.kind, spec], sort_keys=True, default=repr).encode())
    h.update(feature_digest(X).encode())
    _update_array(h, np.asarray(y))
    classes = getattr(model, "classes_", None)
    h.update(repr(None if classes is None else list(map(str, classes))).encode())
    return h.hexdigest()


def _folders() -> list[Path]:
    return env_paths(FIT_CACHE_SHARED_ENV) + env_paths(FIT_CACHE_ENV)


def load(key: str, cls: type):
    """The fitted model stored under ``key``, or None (absent, unreadable, or of another class)."""
    import joblib

    for folder in _folders():
        file = folder / f"{key}{_SUFFIX}"
        if file.is_file():
            try:
                model = joblib.load(file)
            except Exception:  # a truncated or foreign file: fit again
                continue
            if type(model) is cls:
                return model
    return None


def store(key: str, model, log) -> None:
    """Write a fitted model under ``key`` in the workspace's cache (atomically; no-op outside a run). A
    write that fails (a full disk) is logged and skipped: the fit itself succeeded."""
    import joblib

    own = env_paths(FIT_CACHE_ENV)
    if not own:
        return
    tmp = None
    try:
        own[0].mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=own[0], suffix=".tmp")
        os.close(fd)
        joblib.dump(model, tmp, compress=1)
        os.replace(make_normal(Path(tmp)), own[0] / f"{key}{_SUFFIX}")
    except OSError as exc:
        log(f"fit cache: could not store this fit ({exc}); later iterations will fit it again")
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
