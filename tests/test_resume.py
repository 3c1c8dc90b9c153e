"""Issue 8 point 3 and issue 9 point 4: a build killed (SIGKILL) at several points and run
again gives output byte-identical to an uninterrupted build, redoes only what was missing,
and never shows a partial file under a final name.

The kill points are exact: the build process runs with MSG_KILL_AFTER=<point>:<n> (a test
hook in pipeline/parquet_io.py) and kills itself the n-th time it passes <point>."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.build import STAGES as BUILD_STAGES
from pipeline.cli import main
from pipeline.parquet_io import KILL_ENV

REPO = Path(__file__).resolve().parent.parent
PARTITIONS = 8
# The stages with a completion marker per partition (the driver steps have none).
STAGES = tuple(stage.name for stage in BUILD_STAGES if not stage.on_driver)
# Where the build is killed (docs/reliability.md lists these; keep them in step):
KILL_POINTS = {
    "split:2": "during split, after 2 of the 6 input files",
    "scenes:3": "after 3 of 8 scene partitions",
    "mcq:5": "after 5 of 8 mcq partitions",
    "rename:part-00003.json:1": "planning the balance: 3 of 8 partitions' actions written",
    "conv:8": "after every partition stage, before any output is written",
    "shards:1": "publishing: the mcq shards written by their task, the conv shards not yet",
    "quarantine:1": "while writing outputs: scenes copied, 1 of 2 quarantine files written",
    "rename:manifest.json:1": "the manifest complete under its temp name, not yet renamed",
}


@pytest.fixture(scope="module")
def inputs(small_factory, tmp_path_factory) -> list[str]:
    """The small sample plus one bad record in two files, so that quarantine files exist."""
    root = tmp_path_factory.mktemp("resume")
    sample = small_factory(root / "in")
    anns = sample.instances["annotations"]
    anns.append(dict(copy.deepcopy(anns[0]), id=8_000_001, bbox=[1.0, 1.0, -5.0, 5.0]))
    objects = sample.vg_objects[0]["objects"]
    objects.append(dict(copy.deepcopy(objects[0]), object_id=8_000_002, w=-1))
    return [*sample.write(), "--partitions", str(PARTITIONS)]


@pytest.fixture(scope="module")
def reference(inputs: list[str], tmp_path_factory) -> Path:
    """The uninterrupted build."""
    out = tmp_path_factory.mktemp("resume_ref") / "out"
    assert main(["build", *inputs, "--out", str(out), "--quiet"]) == 0
    assert len(list((out / "quarantine").glob("*.jsonl"))) == 2
    return out


def files_of(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
    }


def is_final_name(path: Path) -> bool:
    # Temp names: hidden with a .tmp-<pid> suffix (parquet_io, shards, card) or *.tmp (split).
    return not path.name.startswith(".") and not path.name.endswith(".tmp")


def partial_files(out: Path) -> list[str]:
    """Files under a final name that do not parse as what their name says."""
    bad = []
    for path in sorted(p for p in out.rglob("*") if p.is_file() and is_final_name(p)):
        try:
            if path.suffix == ".parquet":
                pq.read_table(path)
            elif path.suffix == ".json":
                json.loads(path.read_bytes())
            elif path.suffix == ".jsonl":
                for line in path.read_bytes().splitlines():
                    json.loads(line)
        except Exception as exc:  # any parse failure is the finding
            bad.append(f"{path.relative_to(out)}: {type(exc).__name__}: {exc}")
    return bad


def markers(out: Path) -> dict[str, int]:
    """Finished work a rerun may reuse: the split marker and result markers per stage."""
    work = out / "_work"
    done = {"split": int((work / "split" / "_SUCCESS.json").exists())}
    for stage in STAGES:
        done[stage] = len(list((work / stage).glob("part-*.result.json")))
    return done


def rerun(inputs: list[str], out: Path) -> str:
    """The same command again (in this process: its imports are warm); returns the log."""
    log = io.StringIO()
    with contextlib.redirect_stderr(log):
        code = main(["build", *inputs, "--out", str(out)])
    assert code == 0, log.getvalue()
    return log.getvalue()


def build_killed_at(point: str, argv: list[str]) -> None:
    """`msg build ARGV` in a subprocess that kills itself (SIGKILL) at `point`."""
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "build", *argv, "--quiet"],
        cwd=REPO,
        env={**os.environ, KILL_ENV: point},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr)


@pytest.mark.slow
@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_killed_build_resumes_to_identical_output(
    inputs: list[str], reference: Path, tmp_path: Path, point: str
) -> None:
    out = tmp_path / "out"
    build_killed_at(point, [*inputs, "--out", str(out)])
    assert partial_files(out) == []
    assert not (out / "manifest.json").exists()  # the build never looks finished
    if point.startswith("rename:"):  # complete, but only under its temp name
        assert list(out.rglob(f".{point.split(':')[1]}.tmp-*"))
    done = markers(out)
    assert any(done.values()) or point == "split:2"

    log = rerun(inputs, out)
    # Only what was missing is redone: the log says what was reused, and each stage ran
    # exactly the partitions that had no marker.
    assert ("[split] reusing the finished split" in log) == bool(done["split"])
    for stage in STAGES:
        reused = re.search(rf"^\[{stage}\] (\d+) partitions already done$", log, re.M)
        assert (int(reused[1]) if reused else 0) == done[stage], (stage, log)
        ran = re.search(rf"^\[{stage}\] done: (\d+) in ", log, re.M)
        assert ran and int(ran[1]) == PARTITIONS - done[stage], (stage, log)
    # Byte-identical to the uninterrupted build, with nothing left over (no _work, no
    # temp file of the killed process).
    assert files_of(out) == files_of(reference)
