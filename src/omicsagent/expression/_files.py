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


def normalize_trait_name(name: str) -> str:
    """GenoTEX trait names: spaces become ``_`` and apostrophes are dropped (``Crohn's disease``)."""
    cleaned = name.strip().replace("'", "").replace("\u2019", "")
    cleaned = re.sub(r"\s+", "_", cleaned)
    if not cleaned:
        raise InputError("The trait name is empty; pass --trait with a name such as Colorectal_Cancer.")
    return cleaned
