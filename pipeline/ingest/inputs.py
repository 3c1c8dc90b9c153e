"""Which input files a build reads, and the label each is known by in the manifest and
in the quarantine folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError

# Visual Genome files in a --vg-dir: (file name, kind, required)
VG_FILES = (
    ("image_data.json", "vg_images", True),
    ("objects.json", "vg_objects", True),
    ("attributes.json", "vg_attributes", False),
    ("relationships.json", "vg_relationships", False),
)
VG_SIDE_FILES = (
    "object_synsets.json",
    "attribute_synsets.json",
    "relationship_synsets.json",
    "object_alias.txt",
    "relationship_alias.txt",
)


@dataclass(frozen=True)
class InputFile:
    label: str
    path: Path
    kind: str  # coco_instances, coco_captions, vg_images, vg_objects, ...


@dataclass(frozen=True)
class Inputs:
    files: tuple[InputFile, ...]
    side_files: tuple[Path, ...]  # synset maps and alias lists: read whole, not records
    vg_dir: Path | None

    def of_kind(self, kind: str) -> list[InputFile]:
        return [f for f in self.files if f.kind == kind]

    def bytes_of(self, kind: str) -> int:
        return sum(f.path.stat().st_size for f in self.of_kind(kind))

    def side_file(self, name: str) -> Path | None:
        return next((p for p in self.side_files if p.name == name), None)


def _unique_label(path: Path, prefix: str, taken: set[str]) -> str:
    label = f"{prefix}{path.name}"
    if label in taken:
        label = f"{prefix}{path.parent.name}_{path.name}"
    n = 2
    base = label
    while label in taken:
        label, n = f"{base}.{n}", n + 1
    taken.add(label)
    return label


def plan_inputs(
    coco_instances: list[Path], coco_captions: list[Path], vg_dir: Path | None
) -> Inputs:
    """Resolve the input options into files; a missing required file is an InputError."""
    taken: set[str] = set()
    files: list[InputFile] = []
    for path in coco_instances:
        files.append(InputFile(_unique_label(path, "", taken), path, "coco_instances"))
    for path in coco_captions:
        files.append(InputFile(_unique_label(path, "", taken), path, "coco_captions"))
    side: list[Path] = []
    if vg_dir is not None:
        if not vg_dir.is_dir():
            raise InputError(vg_dir, "Visual Genome folder not found")
        for name, kind, required in VG_FILES:
            path = vg_dir / name
            if path.exists():
                files.append(InputFile(_unique_label(path, "vg_", taken), path, kind))
            elif required:
                raise InputError(path, "required Visual Genome file not found")
        side = [vg_dir / n for n in VG_SIDE_FILES if (vg_dir / n).exists()]
    for f in files:
        if not f.path.exists():
            raise InputError(f.path, "file not found")
    return Inputs(tuple(files), tuple(side), vg_dir)
