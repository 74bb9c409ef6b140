"""Small file helpers shared by the readers: gzip-transparent text, file picking, trait names."""

from __future__ import annotations

import gzip
import os
import re
import zlib
from pathlib import Path

from omicsagent.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def read_text(path: str | os.PathLike[str]) -> str:
    """The whole file as text, gunzipped when it is gzip (by its magic bytes, not its name)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist; check the path.")
    try:
        raw = gzip.decompress(path.read_bytes()) if is_gzip(path) else path.read_bytes()
    except (EOFError, OSError, zlib.error) as err:
        raise InputError(f"{path} is a truncated or corrupt gzip file ({err}); download it again.") from err
    # GEO files are UTF-8 in practice; latin-1 never fails, so it is the fallback for odd bytes.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def list_files(folder: Path, *, sort: bool = True) -> list[str]:
    """File names in ``folder``; sorted by default, raw ``os.listdir`` order when ``sort`` is false."""
    names = [n for n in os.listdir(folder) if (folder / n).is_file() and not n.startswith(".")]
    return sorted(names) if sort else names


def pick_file(folder: Path, needle: str, *, sort: bool = True, exclude: tuple[str, ...] = ()) -> Path | None:
    """First file whose lower-cased name contains ``needle`` (the reference picks in listdir order)."""
    for name in list_files(folder, sort=sort):
        low = name.lower()
        if needle in low and not any(x in low for x in exclude):
            return folder / name
    return None


def check_file_name(name: str, what: str) -> str:
    """``name`` is used as one file or folder name under an output folder: it must not leave it."""
    seps = {"/", "\\", os.sep, *([os.altsep] if os.altsep else [])}
    if name == "." or ".." in name or any(sep in name for sep in seps) or "\0" in name:
        raise InputError(f"The {what} {name!r} is not a plain name (it holds a path separator, .. or is .), "
                         "so it could write outside the output folder; use letters, digits and _ such as "
                         "Colorectal_Cancer.")
    return name


def normalize_trait_name(name: str) -> str:
    """GenoTEX trait names: spaces become ``_`` and apostrophes are dropped (``Crohn's disease``).

    The name becomes a folder under ``--out``, so separators and ``..`` are refused."""
    cleaned = name.strip().replace("'", "").replace("\u2019", "")
    cleaned = re.sub(r"\s+", "_", cleaned)
    if not cleaned:
        raise InputError("The trait name is empty; pass --trait with a name such as Colorectal_Cancer.")
    return check_file_name(cleaned, "trait name")


# Words too common in disease names to tell one trait from another.
GENERIC_WORDS = frozenset({"cancer", "cancers", "disease", "diseases", "disorder", "syndrome", "tumor",
                           "tumour", "tumors", "carcinoma", "and", "the", "with", "type", "cell", "chronic",
                           "acute"})


def trait_mentioned(trait: str, texts: list[str]) -> bool:
    """Whether a distinctive word of the trait name occurs in the cohort's own text (case, spaces, hyphens
    and apostrophes ignored, so ``Large_B-cell_Lymphoma`` matches ``TCGA_Large_Bcell_Lymphoma_(DLBC)``)."""
    words = [w for w in re.split(r"[^a-z0-9]+", trait.lower()) if len(w) >= 3]
    distinctive = [w for w in words if w not in GENERIC_WORDS] or words
    compact = re.sub(r"[^a-z0-9]+", "", " ".join(texts).lower())
    if not distinctive:
        return True  # nothing to look for: no warning
    return any(w in compact or (len(w) > 4 and w.endswith("s") and w[:-1] in compact) for w in distinctive)
