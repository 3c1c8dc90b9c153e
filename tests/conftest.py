"""Shared fixtures: the embedded demo sample (pipeline/demo_sample.py, written by the project
in the official COCO / VG formats, so it is there in any clone), small editable input sets cut
from it, one build of it per session; the real-data sample (../shared/data or
$MSG_SAMPLE_DATA) and its build, for the few tests about the real rows themselves; and helpers
to run and inspect builds."""

from __future__ import annotations

import copy
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SAMPLE = REPO.parent / "shared" / "data"
SAMPLE_ENV = "MSG_SAMPLE_DATA"

COCO_INSTANCES = "coco/annotations/instances_val2017.json"
COCO_CAPTIONS = "coco/annotations/captions_val2017.json"
VG_DIR = "vg"
VG_SIDE_FILES = (
    "object_alias.txt",
    "relationship_alias.txt",
    "object_synsets.json",
    "attribute_synsets.json",
    "relationship_synsets.json",
)
# The small sample, cut from the demo sample by image id. COCO: index 1 (640 x 480) holds
# people, index 2 a crowd instance, index 3 a tiny object. VG: the first image has a merged
# object (merged_object_ids), the second an object known only to attributes.json. No VG image
# of the cut is a COCO twin: a coco_id naming an image left out of the cut is cleared (tests
# that want a twin make one).
SMALL_COCO_IMAGES = (900438, 900542, 900655, 900101)
SMALL_VG_IMAGES = (2501007, 2501518)


def resolve_sample_data() -> Path:
    """The real-data folder, or a skip / failure as the issue asks."""
    value = os.environ.get(SAMPLE_ENV)
    if value:
        folder = Path(value)
        if not folder.is_dir():
            pytest.fail(
                f"{SAMPLE_ENV} is set to {value!r} but that folder does not exist; "
                "real-data tests must not be skipped when the variable is set"
            )
        return folder
    if not DEFAULT_SAMPLE.is_dir():
        pytest.skip(
            f"real sample data absent: {DEFAULT_SAMPLE} does not exist and {SAMPLE_ENV} is unset"
        )
    return DEFAULT_SAMPLE


def real_sample_configured() -> bool:
    """Whether this run has the real sample: the variable is set (to a missing folder, the
    real-data tests then fail) or the default folder exists. Otherwise only the demo sample
    is used, and the few tests about real rows skip."""
    return bool(os.environ.get(SAMPLE_ENV)) or DEFAULT_SAMPLE.is_dir()


# The samples that tests of behaviour (not of specific real rows) run on: always the embedded
# demo sample, and the real sample too when this run has it (CI does).
SAMPLES = ("demo", "real") if real_sample_configured() else ("demo",)


@pytest.fixture(scope="session")
def sample_data() -> Path:
    """The real-data folder (COCO val subset and VG folder)."""
    return resolve_sample_data()


@pytest.fixture(scope="session")
def real_inputs(sample_data: Path) -> dict[str, Path]:
    paths = {
        "instances": sample_data / COCO_INSTANCES,
        "captions": sample_data / COCO_CAPTIONS,
        "vg_dir": sample_data / VG_DIR,
    }
    missing = [str(p) for p in paths.values() if not p.exists()]
    if missing:
        pytest.fail(f"real sample folder {sample_data} lacks {', '.join(missing)}")
    return paths


def build_sample(inputs: dict[str, Path], out: Path, **options: Any) -> Path:
    """Build a sample's inputs (instances, captions, VG folder) into `out` with these build
    options; returns `out`."""
    from pipeline.build import run_build
    from pipeline.config import BuildOptions
    from pipeline.progress import Progress

    paths = {
        "coco_instances": [inputs["instances"]],
        "coco_captions": [inputs["captions"]],
        "vg_dir": inputs["vg_dir"],
    }
    run_build(BuildOptions(**paths, out=out, **options), Progress(quiet=True))
    return out


@pytest.fixture(scope="session")
def real_build(real_inputs: dict[str, Path], tmp_path_factory) -> Path:
    """The real sample built once per session; returns the output folder. Every image is
    on the evaluation side, as issue 3 measures it."""
    out = tmp_path_factory.mktemp("real_build") / "out"
    return build_sample(real_inputs, out, tuning_fraction=0.0)


def load_raw(inputs: dict[str, Path]) -> dict[str, Any]:
    """The raw JSON of a sample (instances, captions, VG folder), loaded whole."""
    vg = inputs["vg_dir"]

    def load(path: Path) -> Any:
        return json.loads(path.read_text(encoding="utf-8"))

    return {
        "instances": load(inputs["instances"]),
        "captions": load(inputs["captions"]),
        "vg_images": load(vg / "image_data.json"),
        "vg_objects": load(vg / "objects.json"),
        "vg_attributes": load(vg / "attributes.json"),
        "vg_relationships": load(vg / "relationships.json"),
    }


@pytest.fixture(scope="session")
def raw_sample(real_inputs: dict[str, Path]) -> dict[str, Any]:
    """The raw JSON of the real sample, loaded whole (small files)."""
    return load_raw(real_inputs)


# -- the embedded demo sample ----------------------------------------------------------------
@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory) -> Path:
    """The demo sample written once per session by pipeline.demo_sample (official formats),
    its two COCO files renamed as in the real sample folder, so that code taking a sample
    folder (the benchmark generator, the tests' option helpers) reads it the same way."""
    from pipeline.demo_sample import write_demo_sample

    folder = tmp_path_factory.mktemp("demo_sample")
    written = write_demo_sample(folder)
    written.coco_instances.rename(folder / COCO_INSTANCES)
    written.coco_captions.rename(folder / COCO_CAPTIONS)
    return folder


@pytest.fixture(scope="session")
def demo_inputs(demo_folder: Path) -> dict[str, Path]:
    """The demo sample's input files (instances, captions, vg_dir)."""
    return {
        "instances": demo_folder / COCO_INSTANCES,
        "captions": demo_folder / COCO_CAPTIONS,
        "vg_dir": demo_folder / VG_DIR,
    }


@pytest.fixture(scope="session")
def demo_raw(demo_inputs: dict[str, Path]) -> dict[str, Any]:
    """The raw JSON of the demo sample, as written (never edit it: copy first)."""
    return load_raw(demo_inputs)


@pytest.fixture(scope="session")
def demo_build(demo_inputs: dict[str, Path], tmp_path_factory) -> Path:
    """The demo sample built once per session (every image on the evaluation side, as
    `real_build`); returns the output folder."""
    out = tmp_path_factory.mktemp("demo_build") / "out"
    return build_sample(demo_inputs, out, tuning_fraction=0.0)


def read_scenes(out: Path) -> list[dict[str, Any]]:
    """Every scene row of a build, in partition order."""
    rows: list[dict[str, Any]] = []
    for path in sorted((out / "scenes").glob("*.parquet")):
        rows.extend(pq.read_table(path).to_pylist())
    return rows


def read_quarantine(out: Path, label: str) -> list[dict[str, Any]]:
    path = out / "quarantine" / f"{label}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def read_manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def scenes_of() -> Callable[[Path], list[dict[str, Any]]]:
    """scenes_of(out) -> the scene rows of a build."""
    return read_scenes


@pytest.fixture(scope="session")
def quarantine_of() -> Callable[[Path, str], list[dict[str, Any]]]:
    """quarantine_of(out, label) -> the rows of <out>/quarantine/<label>.jsonl."""
    return read_quarantine


@pytest.fixture(scope="session")
def manifest_of() -> Callable[[Path], dict[str, Any]]:
    return read_manifest


@pytest.fixture(scope="session")
def real_scenes(real_build: Path) -> dict[str, dict[str, Any]]:
    """The real build's scenes by scene id."""
    return {s["scene_id"]: s for s in read_scenes(real_build)}


# -- one sample of each available kind: the demo always, the real one when present ---------
@pytest.fixture(scope="session", params=SAMPLES)
def sample_name(request) -> str:
    """Which sample the `sample_*` fixtures below give: "demo" or "real"."""
    return request.param


@pytest.fixture(scope="session")
def sample_folder(sample_name: str, request) -> Path:
    """The sample's folder (coco/annotations/..., vg/...), as the real sample lays it out."""
    return request.getfixturevalue("sample_data" if sample_name == "real" else "demo_folder")


@pytest.fixture(scope="session")
def sample_inputs(sample_name: str, request) -> dict[str, Path]:
    """The input files (instances, captions, vg_dir) of the sample named by sample_name."""
    return request.getfixturevalue(f"{sample_name}_inputs")


@pytest.fixture(scope="session")
def sample_raw(sample_name: str, request) -> dict[str, Any]:
    """The raw JSON of the sample (same keys as raw_sample)."""
    return request.getfixturevalue("raw_sample" if sample_name == "real" else "demo_raw")


@pytest.fixture(scope="session")
def sample_build(sample_name: str, request) -> Path:
    """The sample built once per session with every image on the evaluation side."""
    return request.getfixturevalue(f"{sample_name}_build")


@pytest.fixture(scope="session")
def sample_scenes(sample_build: Path) -> dict[str, dict[str, Any]]:
    """The sample build's scenes by scene id."""
    return {s["scene_id"]: s for s in read_scenes(sample_build)}


def vg_scene_id(image: dict[str, Any]) -> str:
    """The scene a VG image_data row lands in: its COCO twin's, if it names one."""
    coco_id = image.get("coco_id")
    return f"coco/{coco_id}" if coco_id is not None else f"vg/{image['image_id']}"


class SmallSample:
    """A few COCO and VG images of a sample (the demo sample) with all their records, as
    editable data; `write()` puts them into official-format files under `root` and returns
    the CLI arguments."""

    PARTS = (
        "instances",
        "captions",
        "vg_images",
        "vg_objects",
        "vg_attributes",
        "vg_relationships",
    )

    def __init__(self, raw: dict[str, Any], vg_source: Path, root: Path) -> None:
        self.root = root
        self.vg_source = vg_source
        inst = raw["instances"]
        by_id = {im["id"]: im for im in inst["images"]}
        images = [by_id[i] for i in SMALL_COCO_IMAGES]
        ids = {im["id"] for im in images}
        self.instances = {
            "info": inst.get("info", {}),
            "licenses": inst.get("licenses", []),
            "images": images,
            "annotations": [a for a in inst["annotations"] if a["image_id"] in ids],
            "categories": inst["categories"],
        }
        cap = raw["captions"]
        self.captions = {
            "info": cap.get("info", {}),
            "licenses": cap.get("licenses", []),
            "images": [im for im in cap["images"] if im["id"] in ids],
            "annotations": [a for a in cap["annotations"] if a["image_id"] in ids],
        }

        def pick(entries: list[dict]) -> list[dict]:
            by_id = {e.get("image_id", e.get("id")): e for e in entries}
            return [by_id[i] for i in SMALL_VG_IMAGES if i in by_id]

        self.vg_images = [
            im if im.get("coco_id") in ids else dict(im, coco_id=None)
            for im in pick(raw["vg_images"])
        ]
        self.vg_objects = pick(raw["vg_objects"])
        self.vg_attributes = pick(raw["vg_attributes"])
        self.vg_relationships = pick(raw["vg_relationships"])
        for name in self.PARTS:  # tests edit these freely: never the session's raw data
            setattr(self, name, copy.deepcopy(getattr(self, name)))

    @property
    def instances_path(self) -> Path:
        return self.root / "coco" / "instances_val2017.json"

    @property
    def captions_path(self) -> Path:
        return self.root / "coco" / "captions_val2017.json"

    @property
    def vg_dir(self) -> Path:
        return self.root / "vg"

    def write(self) -> list[str]:
        (self.root / "coco").mkdir(parents=True, exist_ok=True)
        self.vg_dir.mkdir(parents=True, exist_ok=True)
        self.instances_path.write_text(json.dumps(self.instances))
        self.captions_path.write_text(json.dumps(self.captions))
        for name, data in (
            ("image_data.json", self.vg_images),
            ("objects.json", self.vg_objects),
            ("attributes.json", self.vg_attributes),
            ("relationships.json", self.vg_relationships),
        ):
            (self.vg_dir / name).write_text(json.dumps(data))
        for name in VG_SIDE_FILES:
            if (self.vg_source / name).exists():
                shutil.copyfile(self.vg_source / name, self.vg_dir / name)
        return self.args()

    def args(self) -> list[str]:
        return [
            "--coco-instances",
            str(self.instances_path),
            "--coco-captions",
            str(self.captions_path),
            "--vg-dir",
            str(self.vg_dir),
        ]

    def options(self, out: Path, **extra: Any):
        from pipeline.config import BuildOptions

        return BuildOptions(
            coco_instances=[self.instances_path],
            coco_captions=[self.captions_path],
            vg_dir=self.vg_dir,
            out=out,
            **extra,
        )


@pytest.fixture(scope="session")
def small_factory(
    demo_raw: dict[str, Any], demo_inputs: dict[str, Path]
) -> Callable[[Path], SmallSample]:
    """small_factory(root) -> a new SmallSample writing under root (for module fixtures)."""
    return lambda root: SmallSample(demo_raw, demo_inputs["vg_dir"], root)


@pytest.fixture
def small(small_factory: Callable[[Path], SmallSample], tmp_path: Path) -> SmallSample:
    """A small editable sample cut from the demo sample (4 COCO images, 2 VG images)."""
    return small_factory(tmp_path / "in")


@pytest.fixture
def build(tmp_path: Path) -> Callable[..., Path]:
    """build(sample, out_name="out", **options) -> output folder, built in-process quietly."""
    from pipeline.build import run_build
    from pipeline.progress import Progress

    def run(sample: SmallSample, out_name: str = "out", **extra: Any) -> Path:
        sample.write()
        out = tmp_path / out_name
        run_build(sample.options(out, **extra), Progress(quiet=True))
        return out

    return run


@pytest.fixture
def cli(capsys) -> Callable[..., tuple[int, str, str]]:
    """cli(*argv) -> (exit code, stdout, stderr) of `msg` run in-process."""
    from pipeline.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse: --help, usage errors
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
