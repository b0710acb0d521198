"""Writing files so that nobody ever reads half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from benzokit.errors import InputError


def write_atomically(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, synced, then renamed.

    A reader never sees half a file: either the old file or the whole new one. Only a regular file is
    ever replaced: a path that is a folder, a device (``/dev/null``), a pipe or a socket is refused, since
    renaming over it would remove it (as root, even a device node).
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError("path", str(path), f"the folder {str(path.parent)!r} does not exist")
    if path.exists() and not path.is_file():
        raise InputError(
            "path",
            str(path),
            "a file to write (this is a folder, a device or another special file)",
        )
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
