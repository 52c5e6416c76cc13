"""Files and folders the service creates are its own only (0600, 0700), whatever the umask.

A database file created by SQLite itself would get 0644 under the usual umask 022, and
SQLite gives its write-ahead log and shared-memory files (``-wal``, ``-shm``) the mode of
the database file: so the database file is created here, private, before SQLite opens
it. Modes are set explicitly after creation, as a umask can only take bits away.
Existing files and folders are left as they are: someone chose their mode.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> None:
    """Create the folder ``path`` (mode 0700; missing parents as the umask says) unless
    it exists."""
    try:
        path.mkdir(mode=FOLDER_MODE, parents=True)
    except FileExistsError:
        return
    path.chmod(FOLDER_MODE)


def private_file(path: Path) -> int | None:
    """Create the empty file ``path`` (mode 0600) and return it open for writing, or None
    if it exists already."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return None
    os.fchmod(fd, FILE_MODE)
    return fd


def private_database(path: Path, instance_path: Path) -> None:
    """Create the SQLite file ``path`` privately before SQLite does; its folder too when it
    is the instance folder. A database anywhere else needs its folder to exist already."""
    if path.parent == instance_path:
        private_folder(instance_path)
    try:
        fd = private_file(path)
    except FileNotFoundError:
        return  # no folder: SQLite fails to open it too, and the caller answers 503
    if fd is not None:
        os.close(fd)
