"""Embeddings from a pretrained model the user already has on disk, in the Hugging Face format.

The ``embedding`` block runs a sequence column through a local model folder (ESM-2 for proteins, Nucleotide
Transformer / DNABERT-2 / HyenaDNA for DNA, ChemBERTa for SMILES...) with ``transformers`` and
``local_files_only=True``: nothing is ever downloaded. Hidden states are mean-pooled over the sequence's
tokens (or the first token with ``pooling: "cls"``), in batches sorted by length, on a GPU when torch sees
one. Vectors are cached on disk per model identity (a hash of its config, tokenizer files and weight
files' sizes and edges) and per sequence (a hash of the text), so a rerun on the same sequences does not
load the model at all. The cache folder is ``cache_dir``, else ``$OMICSAGENT_EMBEDDING_CACHE``, else
``~/.cache/omicsagent/embeddings``; inside a run the loop points it at the workspace's ``scratch/``. Folders
named in ``$OMICSAGENT_EMBEDDING_CACHE_SHARED`` (separated by ``os.pathsep``) are read too, never written:
the run's cross-validation folds, refit and hidden-test scoring run in throwaway workspaces and read the run's
cache there, so the vectors of a sequence are computed once per run, not once per fold.

``transformers`` is an optional dependency (``pip install 'omicsagent[fm]'``); ``configure`` checks a
``--embeddings MODALITY=FOLDER`` setting before a run starts.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omicsagent.configfile import read_toml
from omicsagent.errors import ConfigError, InputError
from omicsagent.ml.features import Block
from omicsagent.ml.rowcache import RowCache, env_paths, row_key

MODALITIES = ("protein", "dna", "rna", "smiles")
CACHE_ENV = "OMICSAGENT_EMBEDDING_CACHE"
SHARED_CACHE_ENV = "OMICSAGENT_EMBEDDING_CACHE_SHARED"
POOLINGS = ("mean", "cls")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "tokenizer_config.json", "merges.txt",
                   "special_tokens_map.json", "tokenizer.model", "spiece.model")
INSTALL_HINT = "pip install 'omicsagent[fm]'"
CHUNK = 256  # sequences embedded between two cache writes


def transformers_available() -> bool:
    try:
        import transformers  # noqa: F401
    except ImportError:
        return False
    return True


# --- model folders ------------------------------------------------------------------------------------

def check_model_folder(path: str | Path, *, what: str = "embedding model") -> Path:
    """The resolved folder, or ``ConfigError`` when it is not a Hugging Face model folder."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"The {what} folder {str(folder)!r} does not exist; give the folder that holds the "
                          f"model's config.json, weights and tokenizer files.")
    folder = folder.resolve()
    names = {p.name for p in folder.iterdir()}
    if "config.json" not in names:
        raise ConfigError(
            f"{folder} has no config.json, so it is not a Hugging Face model folder; give the folder "
            f"written by save_pretrained (or a downloaded checkpoint)."
        )
    if not any(n.endswith(WEIGHT_SUFFIXES) for n in names):
        raise ConfigError(f"{folder} has no weight files (*.safetensors or pytorch_model.bin); copy the "
                          f"checkpoint's weights into it.")
    if not names & set(TOKENIZER_FILES):
        raise ConfigError(
            f"{folder} has no tokenizer files (tokenizer.json, vocab.txt or tokenizer_config.json); "
            f"save the tokenizer into the model folder."
        )
    return folder


def _weight_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))


def estimate_parameters(folder: str | Path) -> int:
    """Parameters of a checkpoint from the size of its weight files (bytes per value from config's dtype)."""
    folder = Path(folder)
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, json.JSONDecodeError):
        config = {}
    dtype = str(config.get("torch_dtype") or config.get("dtype") or "float32")
    per_value = 2 if ("16" in dtype) else 4
    files = _weight_files(folder)
    if any(f.suffix == ".safetensors" for f in files):  # a checkpoint may ship several formats
        files = [f for f in files if f.suffix == ".safetensors"]
    return int(sum(f.stat().st_size for f in files) / per_value)


def model_identity(folder: str | Path, *, extra: str = "") -> str:
    """A hash of what determines the vectors: config, tokenizer files, weight files (name, size, first and
    last MiB), plus ``extra`` (pooling, layer, maximum length). Moving or copying the folder keeps it."""
    folder = Path(folder)
    h = hashlib.sha256(extra.encode())
    for p in sorted(folder.iterdir()):
        if not p.is_file():
            continue
        if p.name.endswith(WEIGHT_SUFFIXES):
            size = p.stat().st_size
            h.update(f"{p.name}:{size}".encode())
            with p.open("rb") as fh:
                h.update(fh.read(1 << 20))
                if size > 2 << 20:
                    fh.seek(size - (1 << 20))
                    h.update(fh.read(1 << 20))
        elif p.suffix in (".json", ".txt", ".model", ".py") and p.stat().st_size < (64 << 20):
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:32]


# --- the cache -------------------------------------------------------------------------------------

def cache_root(cache_dir: str | None = None) -> Path:
    if cache_dir:
        return Path(cache_dir)
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "omicsagent" / "embeddings"


# --- running the model -------------------------------------------------------------------------------

def _quiet_transformers() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach out to a model hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def load_model(folder: str | Path, *, trust_remote_code: bool = False):
    """(tokenizer, model, device) from a local folder; ``InputError`` with one sentence when it cannot
    load."""
    if not transformers_available():
        raise InputError(f"The embedding block needs the optional transformers package; install it with "
                         f"{INSTALL_HINT}.")
    _quiet_transformers()
    import torch
    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer

    path = str(folder)
    kwargs = {"local_files_only": True, "trust_remote_code": trust_remote_code}
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
        try:
            model = AutoModel.from_pretrained(path, **kwargs)
        except (ValueError, KeyError):  # some remote-code checkpoints only register a masked-LM class
            model = AutoModelForMaskedLM.from_pretrained(path, **kwargs)
    except Exception as err:  # noqa: BLE001 - safetensors, tokenizers and remote code raise their own types
        hint = (
            " (it ships its own code: set trust_remote_code = true for it)"
            if "trust_remote_code" in str(err)
            else ""
        )
        raise InputError(
            f"Could not load the model in {path} ({type(err).__name__}: {str(err)[:200]}){hint}; "
            f"check that the folder holds a complete Hugging Face checkpoint."
        ) from None
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device).eval()
    return tokenizer, model, device


def _max_tokens(tokenizer, model, requested: int | None) -> int:
    limits = [requested] if requested else []
    n_pos = getattr(model.config, "max_position_embeddings", None)
    if isinstance(n_pos, int) and n_pos > 2:
        limits.append(n_pos - 2)
    t_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(t_max, int) and 0 < t_max < 1_000_000:
        limits.append(t_max)
    return min(limits) if limits else 512


def embed_texts(texts: list[str], tokenizer, model, device: str, *, pooling: str = "mean", layer: int = -1,
                batch_size: int = 16, max_length: int | None = None) -> np.ndarray:
    """Pooled hidden states ``(n, hidden)`` for ``texts`` (sorted by length into batches)."""
    import torch

    limit = _max_tokens(tokenizer, model, max_length)
    order = np.argsort([len(t) for t in texts])
    out: list[np.ndarray | None] = [None] * len(texts)
    for b in range(0, len(order), batch_size):
        idx = order[b:b + batch_size]
        enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=limit,
                        return_tensors="pt", return_special_tokens_mask=True)
        special = enc.pop("special_tokens_mask", None)
        inputs = {
            k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")
        }
        with torch.inference_mode():
            result = model(**inputs, output_hidden_states=True)
        hidden = _hidden(result, layer)
        mask = inputs.get("attention_mask", torch.ones(hidden.shape[:2], device=hidden.device)).float()
        if pooling == "cls":
            pooled = hidden[:, 0]
        else:
            keep = mask * (1.0 - special.to(mask.device).float()) if special is not None else mask
            keep = torch.where(
                keep.sum(dim=1, keepdim=True) > 0, keep, mask
            )  # a sequence of special tokens only
            pooled = (hidden * keep[..., None]).sum(dim=1) / keep.sum(dim=1, keepdim=True).clamp(min=1.0)
        for i, v in zip(idx, pooled.float().cpu().numpy()):
            out[i] = v
    return np.vstack(out).astype(np.float32) if out else np.zeros((0, 0), dtype=np.float32)


def _hidden(result: Any, layer: int):
    states = getattr(result, "hidden_states", None)
    if states is not None and len(states):
        return states[layer]
    last = getattr(result, "last_hidden_state", None)
    if last is not None:
        return last
    return result[0]  # remote-code models that return tuples


# --- the block ---------------------------------------------------------------------------------------

@dataclass
class EmbeddingBlock(Block):
    """Pooled hidden states of a local pretrained model (a Hugging Face folder) for a sequence column.

    ``model``: the folder; ``pooling``: mean (over the sequence's tokens) | cls; ``layer``: hidden layer
    (-1 = last); ``batch_size``; ``max_length``: tokens (default the model's limit); ``trust_remote_code``:
    for checkpoints that ship their own modelling code (DNABERT-2, HyenaDNA, Nucleotide Transformer v2);
    ``uppercase``: upper-case the text first (protein and DNA vocabularies are upper case; never for
    SMILES); ``cache_dir``: where vectors are kept (see the module docstring)."""

    kind = "embedding"
    output = "flat"
    column: str = ""
    model: str = ""
    pooling: str = "mean"
    layer: int = -1
    batch_size: int = 16
    max_length: int | None = None
    trust_remote_code: bool = False
    uppercase: bool = False
    cache_dir: str | None = None
    _dim: int = field(default=0, repr=False, init=False)

    def check(self) -> None:
        if not self.column or not self.model:
            raise InputError('The "embedding" block needs "column" (a sequence column) and "model" (a local '
                             'Hugging Face model folder); add them to the spec.')
        if self.pooling not in POOLINGS:
            raise InputError(
                f"pooling must be one of {', '.join(POOLINGS)}, got {self.pooling!r}; fix the spec."
            )
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise InputError("batch_size must be a positive integer; fix the embedding block.")

    @property
    def input_columns(self) -> list[str]:
        return [self.column]

    def feature_names(self) -> list[str]:
        return [f"{self.column}:emb{i}" for i in range(self._dim)]

    def column_groups(self) -> dict[str, np.ndarray]:
        return {f"embedding:{self.column}": np.arange(self._dim)}

    def fit(self, df: pd.DataFrame) -> EmbeddingBlock:
        self._dim = 0
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        try:
            folder = check_model_folder(self.model)
        except ConfigError as err:
            raise InputError(str(err)) from None
        texts = [("" if not isinstance(v, str) else v.strip()) for v in df[self.column].tolist()]
        if self.uppercase:
            texts = [t.upper() for t in texts]
        extra = json.dumps({"pooling": self.pooling, "layer": self.layer, "max_length": self.max_length})
        cache = RowCache(cache_root(self.cache_dir), model_identity(folder, extra=extra),
                         shared=env_paths(SHARED_CACHE_ENV))
        cache.load()
        keys = [row_key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts) if cache.get(k) is None}.items())
        if missing:
            tokenizer, model, device = load_model(folder, trust_remote_code=self.trust_remote_code)
            print(f"embedding: {len(missing)} of {len(texts)} sequences with {folder.name} on {device} "
                  f"({len(texts) - len(missing)} cached)", flush=True)
            start = time.monotonic()
            for at in range(
                0, len(missing), CHUNK
            ):  # cached chunk by chunk: an interrupted run keeps its work
                chunk = missing[at:at + CHUNK]
                vectors = embed_texts(
                    [t for _, t in chunk],
                    tokenizer,
                    model,
                    device,
                    pooling=self.pooling,
                    layer=self.layer,
                    batch_size=self.batch_size,
                    max_length=self.max_length,
                )
                cache.put([k for k, _ in chunk], vectors)
                print(f"embedding: {at + len(chunk)}/{len(missing)} sequences "
                      f"({time.monotonic() - start:.0f}s)", flush=True)
        out = np.vstack([cache.get(k) for k in keys]).astype(np.float32) if keys else np.zeros((0, self._dim))
        if self._dim == 0:
            self._dim = out.shape[1]
        elif out.shape[1] != self._dim:
            raise InputError(
                f"The model in {folder} now gives {out.shape[1]}-dimensional vectors but the block was "
                f"fitted with {self._dim}; retrain with the same model."
            )
        return out


# --- configuration for a run -------------------------------------------------------------------------

def configure(options: list[str] | None = None, config_file: Path | None = None) -> dict[str, dict[str, Any]]:
    """``{modality: {"path", "name", "params", "trust_remote_code", "pooling"}}`` from ``--embeddings
    MODALITY=FOLDER`` options and a config file's ``[embeddings]`` table; one-sentence errors."""
    wanted: dict[str, dict[str, Any]] = {}
    if config_file is not None:
        wanted.update(_from_config_file(Path(config_file)))
    for opt in options or []:
        modality, sep, path = opt.partition("=")
        modality = modality.strip().lower()
        if not sep or not path.strip():
            raise ConfigError(f"--embeddings {opt!r} is not MODALITY=FOLDER; write it like "
                              f"--embeddings protein=/models/esm2_t12_35M_UR50D.")
        wanted[modality] = {**wanted.get(modality, {}), "path": path.strip()}
    if not wanted:
        return {}
    bad = [m for m in wanted if m not in MODALITIES]
    if bad:
        raise ConfigError(f"Unknown embedding modality {bad[0]!r}; use one of {', '.join(MODALITIES)} "
                          f"(e.g. protein=/models/esm2).")
    if not transformers_available():
        raise ConfigError(
            f"Embeddings need the optional transformers package, which is not installed; install it "
            f"with {INSTALL_HINT} or drop --embeddings."
        )
    out = {}
    for modality, entry in wanted.items():
        folder = check_model_folder(entry["path"], what=f"{modality} embedding model")
        pooling = entry.get("pooling", "mean")
        if pooling not in POOLINGS:
            raise ConfigError(f"[embeddings.{modality}] pooling must be one of {', '.join(POOLINGS)}.")
        out[modality] = {"path": str(folder), "name": folder.name, "params": estimate_parameters(folder),
                         "trust_remote_code": bool(entry.get("trust_remote_code", False)), "pooling": pooling}
    return out


def _from_config_file(path: Path) -> dict[str, dict[str, Any]]:
    raw = read_toml(path)
    section = raw.get("embeddings", {})
    if not isinstance(section, dict):
        raise ConfigError(
            f"{path} has an [embeddings] entry that is not a table; write it as an [embeddings] section."
        )
    out: dict[str, dict[str, Any]] = {}
    base = path.resolve().parent
    for modality, value in section.items():
        entry = {"path": value} if isinstance(value, str) else value
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise ConfigError(
                f'{path}: [embeddings] {modality} needs a folder, as {modality} = "/models/..." or '
                f'[embeddings.{modality}] with path = "/models/...".'
            )
        unknown = sorted(set(entry) - {"path", "trust_remote_code", "pooling"})
        if unknown:
            raise ConfigError(
                f"{path}: [embeddings.{modality}] has unknown setting {unknown[0]!r}; use path, "
                f"trust_remote_code or pooling."
            )
        folder = Path(entry["path"]).expanduser()
        out[str(modality).lower()] = {**entry, "path": str(folder if folder.is_absolute() else base / folder)}
    return out


def mounts(embeddings: dict[str, dict[str, Any]] | None) -> list[Path]:
    """Folders to mount read-only into the sandbox for a run's configured models."""
    return sorted({Path(e["path"]) for e in (embeddings or {}).values() if e.get("path")})


def modality_of(role: str, embeddings: dict[str, dict[str, Any]]) -> str | None:
    """The configured modality that applies to a column role (RNA falls back to a DNA model)."""
    if role in embeddings:
        return role
    if role == "rna" and "dna" in embeddings:
        return "dna"
    if role == "dna" and "rna" in embeddings:
        return "rna"
    return None
