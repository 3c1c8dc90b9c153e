"""Where a build writes: `--out` is a local folder or an fsspec URL (`s3://bucket/x`,
`gcs://...`, `file:///abs/path`, `memory://x`), so that Dask workers on other machines write
to shared storage. Inputs are always local files.

`FsPath` is an fsspec filesystem and a path on it, with the few pathlib-like operations the
pipeline needs (`/`, `name`, `exists`, `open`, `replace`, `rmtree`, ...). A local `--out`
goes through fsspec's local filesystem too, so tests on local folders run the same code as a
bucket; its moves stay `os.replace`, as atomic as before.

Why not `universal_pathlib` (UPath): it is the same idea with a much larger surface whose
semantics differ between filesystems and releases (rename, mkdir, glob on object stores),
and its remote paths cannot be handed to pyarrow either. The operations below are few and
each is one fsspec call, so they are easy to read and to check on any filesystem.
"""

from __future__ import annotations

import os
import re
from typing import IO, Any

import fsspec
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem
from fsspec.registry import known_implementations

from pipeline.errors import InputError

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+://|::")


def is_url(value: object) -> bool:
    """`s3://...`, `file:///...`, chained `simplecache::s3://...`; not a plain path."""
    return isinstance(value, str) and bool(_URL.search(value))


class FsPath:
    """A file or folder on an fsspec filesystem (immutable; pickles to Dask workers)."""

    __slots__ = ("fs", "path")

    def __init__(self, fs: fsspec.AbstractFileSystem, path: str) -> None:
        self.fs = fs
        self.path = path.rstrip("/") or "/"

    # -- names ------------------------------------------------------------------------
    def __truediv__(self, name: str | os.PathLike) -> FsPath:
        return FsPath(self.fs, f"{self.path.rstrip('/')}/{os.fspath(name)}")

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        name = self.name
        i = name.rfind(".")
        return name[i:] if 0 < i < len(name) - 1 else ""

    @property
    def parent(self) -> FsPath:
        head, sep, _ = self.path.rpartition("/")
        return FsPath(self.fs, head if sep else self.path)  # a bucket is its own parent

    def with_name(self, name: str) -> FsPath:
        return self.parent / name

    def relative_to(self, root: FsPath) -> str:
        """This path below `root`, as a POSIX string."""
        prefix = root.path.rstrip("/") + "/"
        if not self.path.startswith(prefix):
            raise ValueError(f"{self} is not under {root}")
        return self.path[len(prefix) :]

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    def __str__(self) -> str:
        """The plain path for a local file, else the URL (which `location()` reads back)."""
        return self.path if self.is_local else self.fs.unstrip_protocol(self.path)

    def __repr__(self) -> str:
        return f"FsPath({str(self)!r})"

    def __fspath__(self) -> str:
        # Lets code that only knows local paths (open, pyarrow) keep working on a local
        # output; on any other filesystem it must go through this class instead.
        if not self.is_local:
            raise TypeError(f"{self} is not a local path: open it through pipeline.storage")
        return self.path

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FsPath) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __lt__(self, other: FsPath) -> bool:
        return self.path < other.path

    # -- queries ----------------------------------------------------------------------
    def exists(self) -> bool:
        return self.fs.exists(self.path)

    def is_file(self) -> bool:
        return self.fs.isfile(self.path)

    def is_dir(self) -> bool:
        return self.fs.isdir(self.path)

    def size(self) -> int:
        return self.fs.size(self.path)

    def iterdir(self) -> list[FsPath]:
        """Files and folders directly inside, sorted by name; none if it does not exist."""
        self.fs.invalidate_cache(self.path)  # other processes may have written here
        try:
            found = self.fs.ls(self.path, detail=False)
        except FileNotFoundError:
            return []
        return sorted(FsPath(self.fs, p) for p in found if p.rstrip("/") != self.path)

    def files(self) -> list[FsPath]:
        """Every file below, at any depth (unsorted)."""
        self.fs.invalidate_cache(self.path)
        if not self.exists():
            return []
        return [FsPath(self.fs, p) for p in self.fs.find(self.path)]

    # -- reading and writing -----------------------------------------------------------
    def open(self, mode: str = "rb", **kwargs: Any) -> IO[Any]:
        return self.fs.open(self.path, mode, **kwargs)

    def read_bytes(self) -> bytes:
        return self.fs.cat_file(self.path)

    def write_bytes(self, data: bytes) -> None:
        with self.open("wb") as handle:
            handle.write(data)

    def mkdir(self) -> None:
        """The folder and its parents (object stores have no folders: nothing happens)."""
        self.fs.makedirs(self.path, exist_ok=True)

    def replace(self, target: FsPath) -> None:
        """Move a file or folder to `target` (a file there is replaced). Local: os.replace,
        atomic; an object store copies then deletes, so the source must be a hidden name."""
        if self.is_local:
            os.replace(self.path, target.path)
        else:
            self.fs.mv(self.path, target.path, recursive=self.fs.isdir(self.path))

    def copy_to(self, target: FsPath) -> None:
        self.fs.copy(self.path, target.path)

    def unlink(self, missing_ok: bool = False) -> None:
        try:
            self.fs.rm_file(self.path)
        except FileNotFoundError:
            if not missing_ok:
                raise

    def rmtree(self) -> None:
        """Remove the folder and everything in it, if it exists."""
        if self.exists():
            self.fs.rm(self.path, recursive=True)


def location(value: str | os.PathLike | FsPath) -> FsPath:
    """A path, a URL or an FsPath -> FsPath. An unusable URL is an InputError that names it
    and, for a known protocol whose package is missing, the package to install."""
    if isinstance(value, FsPath):
        return value
    if not is_url(value):
        local = LocalFileSystem()
        return FsPath(local, local._strip_protocol(os.fspath(value)))
    url = str(value)
    try:
        fs, path = url_to_fs(url)
    except ImportError:
        protocol = url.split("::")[-1].split("://", 1)[0]
        package = known_implementations.get(protocol, {}).get("class", "").split(".")[0]
        hint = f"; install the `{package}` package (pip install {package})" if package else ""
        raise InputError(url, f"no filesystem for {protocol}://{hint}") from None
    except ValueError as exc:
        raise InputError(url, f"cannot use this location ({exc})") from None
    return FsPath(fs, path)


def local_path(value: str) -> os.PathLike:
    """argparse `type=` for commands that read or write local files only: a URL is refused
    in one line instead of being read as a strange relative path."""
    import argparse
    from pathlib import Path

    if is_url(value):
        raise argparse.ArgumentTypeError(
            f"{value}: only a local path is accepted here (only `msg build --out` takes a URL)"
        )
    return Path(value)
