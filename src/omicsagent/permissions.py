"""Results get the user's normal permissions, so a group can read a run folder.

Files are created ``0666 & ~umask`` and folders ``0777 & ~umask`` (0644 and 0755 with the usual umask 022),
but ``tempfile.mkdtemp``/``mkstemp`` make private 0700/0600 entries. Anything made that way that ends up
holding results (``best/`` is first built in a temporary folder and renamed) is given the normal mode here.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def normal_mode(*, folder: bool) -> int:
    """The mode ``mkdir``/``open`` would give a new folder or file under the current umask."""
    return (0o777 if folder else 0o666) & ~current_umask()


def make_normal(path: Path) -> Path:
    """Give ``path`` (a file or folder) the mode a plainly created one would have."""
    path = Path(path)
    path.chmod(normal_mode(folder=path.is_dir()))
    return path


def results_temp_dir(*, prefix: str, dir: Path) -> Path:
    """``tempfile.mkdtemp`` with the normal folder mode, for a folder that becomes part of the results."""
    return make_normal(Path(tempfile.mkdtemp(prefix=prefix, dir=dir)))
