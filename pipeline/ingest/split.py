"""Stage 1: stream every input file once and route each record to the partition of the
scene it belongs to (JSON lines, one bucket per partition and input file). Memory holds
only the id maps needed for routing, never a whole file."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from pipeline.errors import RecordError
from pipeline.hashing import partition_of
from pipeline.ingest.fields import COCO_CATEGORY, check_fields, is_int
from pipeline.ingest.inputs import InputFile, Inputs
from pipeline.jsonstream import iter_items, require_top_level
from pipeline.ledger import Ledger
from pipeline.parquet_io import kill_point, write_json
from pipeline.storage import FsPath

# Write buffer of one bucket on an object store (5 MiB is S3's smallest multipart part):
# a split holds one open bucket per partition, so the default (up to 50 MiB) would add up.
BUCKET_BLOCK_BYTES = 5 * 1024 * 1024
# Lines a bucket gathers before one write call: a call per line through the file object's
# layers cost more than the JSON encoding (a few KB per partition held at a time).
BUCKET_BATCH_LINES = 64


def coco_scene_id(image_id: int) -> str:
    return f"coco/{image_id}"


def vg_scene_id(image_id: int, coco_id: int | None) -> str:
    # A VG image that is also a COCO image joins the COCO scene: one scene, never two.
    return coco_scene_id(coco_id) if coco_id is not None else f"vg/{image_id}"


@dataclass
class Buckets:
    """Bucket files for one input file: part-NNNNN/<label>.jsonl, opened on first use."""

    root: FsPath
    label: str
    num_partitions: int
    handles: dict[int, tuple[Any, FsPath]] = field(default_factory=dict)
    pending: dict[int, list[bytes]] = field(default_factory=dict)
    # The partition of the last scene written: a VG entry's records share their scene.
    last_scene: tuple[str, int] = ("", -1)

    def write(self, scene_id: str, kind: str, where: str, record: Any) -> None:
        if scene_id != self.last_scene[0]:
            self.last_scene = (scene_id, partition_of(scene_id, self.num_partitions))
        part = self.last_scene[1]
        lines = self.pending.get(part)
        if lines is None:
            folder = self.root / f"part-{part:05d}"
            folder.mkdir()
            tmp = folder / f"{self.label}.jsonl.tmp"
            self.handles[part] = (tmp.open("wb", block_size=BUCKET_BLOCK_BYTES), tmp)
            lines = self.pending[part] = []
        line = {"s": scene_id, "k": kind, "f": self.label, "w": where, "r": record}
        lines.append(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE))
        if len(lines) >= BUCKET_BATCH_LINES:
            self._flush(part)

    def _flush(self, part: int) -> None:
        lines = self.pending[part]
        self.handles[part][0].write(b"".join(lines))
        lines.clear()

    def close(self) -> None:
        for handle, _ in self.handles.values():
            handle.close()

    def commit(self) -> None:
        """Give the finished buckets their final names (a partial file never has one)."""
        for part, (handle, tmp) in sorted(self.handles.items()):
            self._flush(part)
            handle.close()
            tmp.replace(tmp.with_name(tmp.name.removesuffix(".tmp")))


class IdSet:
    """Ids seen so far, in about one bit per id: annotation ids are dense integers (VG's
    3.8M object ids would take some 200 MB as a Python set). Ids beyond the bitmap's range
    (COCO crowd annotations use 12-digit ids) go to a plain set."""

    BITMAP_LIMIT = 1 << 30  # at most 128 MiB of bitmap

    def __init__(self) -> None:
        self.bits = bytearray()
        self.sparse: set[int] = set()

    def add(self, value: int) -> bool:
        """Add the id; False when it was already there."""
        if not 0 <= value < self.BITMAP_LIMIT:
            if value in self.sparse:
                return False
            self.sparse.add(value)
            return True
        byte, bit = divmod(value, 8)
        if byte >= len(self.bits):
            self.bits.extend(bytes(max(byte + 1 - len(self.bits), len(self.bits))))
        if self.bits[byte] >> bit & 1:
            return False
        self.bits[byte] |= 1 << bit
        return True


@dataclass
class SplitState:
    """What routing needs across files: the VG image -> scene map and the COCO categories."""

    vg_scene: dict[int, str] = field(default_factory=dict)
    categories: dict[int, dict[str, Any]] = field(default_factory=dict)
    coco_image_ids: set[int] = field(default_factory=set)
    # Record ids seen so far per kind: an id is unique across the whole input, not just
    # within one image (the first occurrence wins, the others are quarantined).
    record_ids: dict[str, IdSet] = field(default_factory=dict)

    def first_time(self, kind: str, record_id: Any) -> bool:
        if not is_int(record_id):
            return True  # a missing or bad id is the scene stage's to report
        ids = self.record_ids.get(kind)  # not setdefault: an IdSet per call is costly
        if ids is None:
            ids = self.record_ids[kind] = IdSet()
        return ids.add(record_id)


def _split_coco_instances(f: InputFile, out: Buckets, state: SplitState, ledger: Ledger) -> None:
    require_top_level(f.path, "object")
    for i, cat in enumerate(iter_items(f.path, "categories.item")):
        where = f"categories[{i}]"
        ledger.read(f.label)
        try:
            check_fields(cat, COCO_CATEGORY)
            known = state.categories.get(cat["id"])
            if known is not None and known["name"] != cat["name"]:
                raise RecordError(
                    "duplicate_id", f"category id {cat['id']} is already '{known['name']}'"
                )
        except RecordError as err:
            ledger.quarantine(f.label, where, err.reason, err.detail, cat)
            continue
        state.categories.setdefault(cat["id"], cat)
        ledger.used(f.label)
    _split_coco_images(f, out, state, ledger, unique=True)
    _route_by_image_id(f, "annotations.item", "annotations", "coco_instance", out, state, ledger)


def _split_coco_captions(f: InputFile, out: Buckets, state: SplitState, ledger: Ledger) -> None:
    require_top_level(f.path, "object")
    # A captions file repeats the image list of its instances file; the scene stage merges.
    _split_coco_images(f, out, state, ledger, unique=False)
    _route_by_image_id(f, "annotations.item", "annotations", "coco_caption", out, state, ledger)


def _split_coco_images(
    f: InputFile, out: Buckets, state: SplitState, ledger: Ledger, unique: bool
) -> None:
    kind = "coco_image" if unique else "coco_caption_image"
    for i, image in enumerate(iter_items(f.path, "images.item")):
        where = f"images[{i}]"
        ledger.read(f.label)
        image_id = image.get("id") if isinstance(image, dict) else None
        if not is_int(image_id):
            reason = "not_an_object" if not isinstance(image, dict) else "missing_field"
            ledger.quarantine(f.label, where, reason, "image has no integer 'id'", image)
            continue
        if unique:
            if image_id in state.coco_image_ids:
                ledger.quarantine(
                    f.label, where, "duplicate_id", f"image id {image_id} appears twice", image
                )
                continue
            state.coco_image_ids.add(image_id)
        out.write(coco_scene_id(image_id), kind, where, image)


def _route_by_image_id(
    f: InputFile,
    prefix: str,
    name: str,
    kind: str,
    out: Buckets,
    state: SplitState,
    ledger: Ledger,
) -> None:
    for i, record in enumerate(iter_items(f.path, prefix)):
        where = f"{name}[{i}]"
        ledger.read(f.label)
        image_id = record.get("image_id") if isinstance(record, dict) else None
        if not is_int(image_id):
            reason = "not_an_object" if not isinstance(record, dict) else "missing_field"
            ledger.quarantine(f.label, where, reason, "record has no integer 'image_id'", record)
            continue
        if not state.first_time(kind, record.get("id")):
            problem = f"annotation id {record['id']} appears twice"
            ledger.quarantine(f.label, where, "duplicate_id", problem, record)
            continue
        out.write(coco_scene_id(image_id), kind, where, record)


def _split_vg_images(f: InputFile, out: Buckets, state: SplitState, ledger: Ledger) -> None:
    require_top_level(f.path, "list")
    for i, image in enumerate(iter_items(f.path, "item")):
        where = f"[{i}]"
        ledger.read(f.label)
        image_id = _vg_image_id(image)
        coco_id = image.get("coco_id") if isinstance(image, dict) else None
        if image_id is None:
            ledger.quarantine(f.label, where, "missing_field", "no integer 'image_id'", image)
            continue
        if image_id in state.vg_scene:
            ledger.quarantine(
                f.label, where, "duplicate_id", f"image id {image_id} appears twice", image
            )
            continue
        scene_id = vg_scene_id(image_id, coco_id if is_int(coco_id) else None)
        state.vg_scene[image_id] = scene_id
        # VG 1.0 named the image id "id"; later releases "image_id": the scene stage reads one.
        out.write(scene_id, "vg_image", where, {**image, "image_id": image_id})


def _vg_image_id(entry: Any) -> int | None:
    if not isinstance(entry, dict):
        return None
    # VG 1.0 per-image entries used "id"; later releases "image_id".
    value = entry.get("image_id", entry.get("id"))
    return value if is_int(value) else None


def _split_vg_nested(
    list_key: str, kind: str, unique_key: str | None
) -> Callable[[InputFile, Buckets, SplitState, Ledger], None]:
    """objects.json, attributes.json and relationships.json: a list of per-image entries,
    each holding a list of records (the records are what the ledger counts). `unique_key`
    names the id that must not repeat in the file (attribute entries may repeat an object)."""

    def split(f: InputFile, out: Buckets, state: SplitState, ledger: Ledger) -> None:
        require_top_level(f.path, "list")
        for i, entry in enumerate(iter_items(f.path, "item")):
            image_id = _vg_image_id(entry)
            records = entry.get(list_key) if isinstance(entry, dict) else None
            if image_id is None or not isinstance(records, list):
                ledger.read(f.label)
                problem = f"entry needs an integer 'image_id' and a list '{list_key}'"
                ledger.quarantine(f.label, f"[{i}]", "malformed_entry", problem, entry)
                continue
            scene_id = state.vg_scene.get(image_id)
            for j, record in enumerate(records):
                where = f"[{i}].{list_key}[{j}]"
                ledger.read(f.label)
                if scene_id is None:
                    problem = f"image {image_id} is not in image_data.json"
                    ledger.quarantine(f.label, where, "unknown_image", problem, record)
                    continue
                if unique_key and isinstance(record, dict):
                    if not state.first_time(kind, record.get(unique_key)):
                        problem = f"{unique_key} {record[unique_key]} appears twice"
                        ledger.quarantine(f.label, where, "duplicate_id", problem, record)
                        continue
                out.write(scene_id, kind, where, {"image_id": image_id, **_as_dict(record)})

    return split


def _as_dict(record: Any) -> dict[str, Any]:
    # Non-object records still travel, so the scene stage quarantines them with the rest.
    return record if isinstance(record, dict) else {"__not_an_object__": record}


SPLITTERS: dict[str, Callable[[InputFile, Buckets, SplitState, Ledger], None]] = {
    "coco_instances": _split_coco_instances,
    "coco_captions": _split_coco_captions,
    "vg_images": _split_vg_images,
    "vg_objects": _split_vg_nested("objects", "vg_object", "object_id"),
    "vg_attributes": _split_vg_nested("attributes", "vg_attribute", None),
    "vg_relationships": _split_vg_nested("relationships", "vg_relationship", "relationship_id"),
}
# The order of the ledger's rows: image_data.json (split first: it maps VG images to
# scenes), then the rest as listed, instances before captions.
KIND_ORDER = ("vg_images", *(k for k in SPLITTERS if k != "vg_images"))


def split_file(
    f: InputFile, split_dir: FsPath, num_partitions: int, state: SplitState, ledger: Ledger
) -> None:
    buckets = Buckets(split_dir, f.label, num_partitions)
    try:
        SPLITTERS[f.kind](f, buckets, state, ledger)
    except BaseException:
        buckets.close()
        raise
    buckets.commit()


# The files of one kind share their id sets (two COCO instance files, say), so they are
# split in one task, in order; kinds share nothing but the VG image -> scene map, which
# image_data.json gives first (`VG_SCENES_FILE`), so the other kinds run side by side.
FIRST_KIND = KIND_ORDER[0]
VG_SCENES_FILE = "vg_scenes.json"


def later_kinds(inputs: Inputs) -> list[str]:
    """The kinds split after image_data.json, one task each, in KIND_ORDER."""
    return [k for k in KIND_ORDER[1:] if inputs.of_kind(k)]


def write_vg_scenes(split_dir: FsPath, state: SplitState) -> None:
    write_json(split_dir / VG_SCENES_FILE, sorted(state.vg_scene.items()))


def split_kind_task(
    split_dir: FsPath, kind: str, files: list[InputFile], num_partitions: int
) -> dict[str, Any]:
    """Split the files of one kind (on a worker). image_data.json writes the VG image ->
    scene map for the later kinds; a later VG kind reads it. Returns its ledger (counts and
    quarantined rows, in file order) and the COCO categories it found."""
    state, ledger = SplitState(), Ledger()
    if kind != FIRST_KIND and kind.startswith("vg_"):
        pairs = orjson.loads((split_dir / VG_SCENES_FILE).read_bytes())
        state.vg_scene = {image_id: scene_id for image_id, scene_id in pairs}
    for f in files:
        split_file(f, split_dir, num_partitions, state, ledger)
        kill_point("split")
    if kind == FIRST_KIND:  # even with no file: the later VG kinds read it
        write_vg_scenes(split_dir, state)
    categories = [state.categories[k] for k in sorted(state.categories)]
    return {
        "ledger": ledger.to_dict(),
        "quarantine": ledger.quarantine_rows,
        "categories": categories,
    }


def write_categories(split_dir: FsPath, categories: list[dict[str, Any]]) -> None:
    # Through a temp name and a rename, like every file a killed run might leave behind.
    write_json(split_dir / "categories.json", sorted(categories, key=lambda c: c["id"]))


def read_categories(split_dir: FsPath) -> dict[int, dict[str, Any]]:
    path = split_dir / "categories.json"
    if not path.exists():
        return {}
    return {c["id"]: c for c in json.loads(path.read_bytes())}


def read_partition(split_dir: FsPath, part: int) -> Iterator[dict[str, Any]]:
    """Every routed record of one partition, in input-file order then file order."""
    folder = split_dir / f"part-{part:05d}"
    for path in folder.iterdir():  # sorted by name; none for a partition without records
        if not path.name.endswith(".jsonl"):
            continue
        with path.open("rb") as handle:
            yield from map(orjson.loads, handle)  # one line, one record
