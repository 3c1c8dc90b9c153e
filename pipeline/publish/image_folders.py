"""Image files found by name across several folders (COCO train2017 and val2017, Visual
Genome VG_100K and VG_100K_2, ...), searched in the order given. A name held by two folders
with different bytes is an error naming both paths: which one an item shows must never
depend on the order of the flags."""

from __future__ import annotations

import filecmp
import os
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from pipeline.errors import InputError

IMAGES_FLAG = "--images-dir"


class ImageRejected(Exception):
    """One image cannot be used; `reason` is its quarantine reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class ImageConflict(InputError):
    """One file name, two folders, different bytes."""

    def __init__(self, name: str, first: Path, second: Path) -> None:
        super().__init__(
            first,
            f"image {name!r} is also in {second} with different bytes; keep one copy or "
            f"leave one of the folders out of {IMAGES_FLAG}",
        )


def resolve_image_path(images_dir: Path, file_name: str) -> Path:
    """The file for `file_name` inside `images_dir`; refuses absolute paths, `..` and
    symlinks that lead outside the folder (a record must not read arbitrary files)."""
    rel = PurePosixPath(file_name.replace("\\", "/"))
    if not file_name or rel.is_absolute() or ".." in rel.parts or Path(file_name).is_absolute():
        raise ImageRejected("image_unsafe_path", f"file name {file_name!r} is not a relative path")
    if "\x00" in file_name:  # the OS would cut the name there (and Python refuses it)
        raise ImageRejected("image_unsafe_path", f"file name {file_name!r} holds a NUL byte")
    root = images_dir.resolve()
    try:
        path = (root / rel).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop (RuntimeError before 3.13)
        raise ImageRejected("image_unreadable", f"{images_dir / rel}: {exc}") from None
    if not path.is_relative_to(root):
        raise ImageRejected("image_unsafe_path", f"{file_name!r} leads outside {images_dir}")
    return path


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b) or filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


class ImageFolders:
    """Folders searched by file name; `find` gives the one file a name stands for."""

    def __init__(self, dirs: Path | Iterable[Path] | None) -> None:
        if dirs is None:
            dirs = ()
        elif isinstance(dirs, (str, os.PathLike)):
            dirs = (dirs,)
        self.dirs: tuple[Path, ...] = tuple(Path(d) for d in dirs)

    def __bool__(self) -> bool:
        return bool(self.dirs)

    def describe(self) -> str:
        return ", ".join(str(d) for d in self.dirs) or "(no folder)"

    def check(self) -> ImageFolders:
        """Every folder exists, and no file name at their top level holds two different
        images (checked before a build starts, not after its stages ran)."""
        seen: dict[str, Path] = {}
        for folder in self.dirs:
            if not folder.is_dir():
                raise InputError(folder, f"images folder not found ({IMAGES_FLAG})")
            with os.scandir(folder) as entries:
                names = sorted(e.name for e in entries if e.is_file())
            for name in names:
                path = folder / name
                first = seen.setdefault(name, path)
                if first != path and not _same_bytes(first, path):
                    raise ImageConflict(name, first, path)
        return self

    def candidates(self, file_name: str) -> list[Path]:
        """The existing files named `file_name`, folder by folder."""
        return [p for d in self.dirs if (p := resolve_image_path(d, file_name)).is_file()]

    def find(self, file_name: str) -> Path:
        """The file, or ImageRejected("image_missing") naming every folder searched."""
        found = self.candidates(file_name)
        if not found:
            raise ImageRejected(
                "image_missing", f"{file_name} is in none of {IMAGES_FLAG} {self.describe()}"
            )
        for other in found[1:]:  # a name below the top level was not checked up front
            if not _same_bytes(found[0], other):
                raise ImageConflict(file_name, found[0], other)
        return found[0]


def as_folders(dirs: Path | Sequence[Path] | ImageFolders | None) -> ImageFolders:
    return dirs if isinstance(dirs, ImageFolders) else ImageFolders(dirs)


def build_image_dirs(manifest: dict) -> list[Path]:
    """The image folders a build was given (one path in manifests written before
    --images-dir could be repeated, a list since)."""
    value = manifest.get("options", {}).get("images_dir") or []
    return [Path(v) for v in ([value] if isinstance(value, str) else value)]


def folders_for(out: Path, given: Sequence[Path] | None) -> ImageFolders:
    """The folders given to a command, else those the build of `out` used."""
    if given:
        return ImageFolders(given)
    import json

    manifest = out / "manifest.json"
    if not manifest.is_file():
        return ImageFolders(())
    return ImageFolders(build_image_dirs(json.loads(manifest.read_text(encoding="utf-8"))))
