"""Build the installable WordPress plugin: ``make dist``.

Writes ``dist/gardien-<version>.zip`` (the version of the plugin header) holding one folder,
``gardien/``, with the files of ``wp-plugin/`` except those ``wp-plugin/.distignore`` lists
(the plugin's tests, its development tools and their configuration). That zip is what
Plugins → Add New → Upload Plugin takes, and what the plugin directory receives.

``.distignore`` is read the way ``wp dist-archive`` reads it (gitignore rules, the subset the
file uses): one pattern a line, ``#`` comments; a leading ``/`` anchors a pattern to the plugin
folder, a pattern without ``/`` matches a file or folder name anywhere, a trailing ``/`` matches
folders only; an ignored folder is left out with everything in it.
"""

from __future__ import annotations

import os
import re
import sys
import zipfile
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_DIR = ROOT / "wp-plugin"
DIST_DIR = ROOT / "dist"
SLUG = "gardien"


def header_version(plugin_dir: Path = PLUGIN_DIR) -> str:
    """The ``Version:`` of the plugin header, checked against the readme and the constant."""
    entry = (plugin_dir / f"{SLUG}.php").read_text(encoding="utf-8")
    found = re.search(r"^\s*\*\s*Version:\s*(\S+)\s*$", entry, re.MULTILINE)
    if found is None:
        raise SystemExit(f"no Version: in the header of wp-plugin/{SLUG}.php")
    version = found[1]
    constant = re.search(r"define\('GARDIEN_VERSION', '([^']+)'\)", entry)
    stable = re.search(
        r"^Stable tag:\s*(\S+)\s*$",
        (plugin_dir / "readme.txt").read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    if constant is None or constant[1] != version:
        raise SystemExit(f"GARDIEN_VERSION in {SLUG}.php is not the header's version {version}")
    if stable is None or stable[1] != version:
        raise SystemExit(f"readme.txt's Stable tag is not the header's version {version}")
    return version


def distignore_patterns(plugin_dir: Path = PLUGIN_DIR) -> list[str]:
    lines = (plugin_dir / ".distignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def is_ignored(path: PurePosixPath, is_dir: bool, patterns: list[str]) -> bool:
    """Whether ``path`` (relative to the plugin folder) matches a .distignore pattern."""
    for pattern in patterns:
        if pattern.endswith("/"):
            if not is_dir:
                continue
            pattern = pattern.rstrip("/")
        if "/" in pattern:
            if fnmatchcase(path.as_posix(), pattern.lstrip("/")):
                return True
        elif fnmatchcase(path.name, pattern):
            return True
    return False


def shipped_files(plugin_dir: Path = PLUGIN_DIR) -> list[PurePosixPath]:
    """Every file of the plugin that the zip holds, relative to the plugin folder, sorted."""
    patterns = distignore_patterns(plugin_dir)
    files = []
    for directory, subdirectories, names in os.walk(plugin_dir):
        here = PurePosixPath(Path(directory).relative_to(plugin_dir).as_posix())
        subdirectories[:] = sorted(
            name for name in subdirectories if not is_ignored(here / name, True, patterns)
        )
        files += [here / name for name in names if not is_ignored(here / name, False, patterns)]
    return sorted(files)


def build(plugin_dir: Path = PLUGIN_DIR, dist_dir: Path = DIST_DIR) -> Path:
    """Write the zip and return its path."""
    version = header_version(plugin_dir)
    files = shipped_files(plugin_dir)
    dist_dir.mkdir(exist_ok=True)
    target = dist_dir / f"{SLUG}-{version}.zip"
    partial = target.with_suffix(".zip.partial")
    folders = sorted({parent for path in files for parent in path.parents if parent.name})
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        root = zipfile.ZipInfo(f"{SLUG}/", date_time=(1980, 1, 1, 0, 0, 0))
        root.external_attr = (0o40755 << 16) | 0x10
        archive.writestr(root, b"")
        for folder in folders:
            entry = zipfile.ZipInfo(f"{SLUG}/{folder}/", date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = (0o40755 << 16) | 0x10
            archive.writestr(entry, b"")
        for path in files:
            source = plugin_dir / path
            entry = zipfile.ZipInfo.from_file(source, f"{SLUG}/{path}")
            entry.external_attr = 0o100644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, source.read_bytes())
    partial.replace(target)
    return target


def main() -> None:
    target = build()
    print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)


if __name__ == "__main__":
    sys.exit(main())
