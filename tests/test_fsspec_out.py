"""`msg build --out` may be an fsspec URL (pipeline/storage.py): a memory:// build and a
file:// build on a 2-worker Dask cluster give the same bytes as a plain local folder, a
file:// build killed half-way resumes from its markers, and a URL the pipeline cannot use
ends in one line that names it."""

from __future__ import annotations

import contextlib
import io
import re
import uuid
from importlib.util import find_spec
from pathlib import Path

import fsspec
import pytest
from test_resume import build_killed_at

from pipeline.build import run_build
from pipeline.cli import main
from pipeline.progress import Progress

PARTITIONS = 4


def local_files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def memory_files(root: str) -> dict[str, bytes]:
    fs, path = fsspec.core.url_to_fs(root)
    return {p[len(path) + 1 :]: fs.cat_file(p) for p in sorted(fs.find(path))}


@pytest.fixture
def memory_out():
    """A fresh memory:// output folder, removed afterwards (the store is process-wide)."""
    url = f"memory://msg-test/{uuid.uuid4().hex}/out"
    yield url
    fs, path = fsspec.core.url_to_fs(url)
    if fs.exists(path):
        fs.rm(path, recursive=True)


@pytest.fixture
def local_reference(small, tmp_path) -> Path:
    """The small sample built into a plain local folder (the bytes every URL build must give)."""
    small.instances["annotations"].append({"id": 1, "image_id": 123456789})  # a quarantine file
    small.write()
    out = tmp_path / "local"
    run_build(small.options(out, partitions=PARTITIONS), Progress(quiet=True))
    return out


def test_memory_build_gives_the_local_bytes(small, local_reference, memory_out, tmp_path):
    import datasets
    import pyarrow.parquet as pq

    expected = local_files(local_reference)
    assert "manifest.json" in expected and "quarantine/instances_val2017.json.jsonl" in expected
    cwd = tmp_path / "cwd"  # a URL mistaken for a relative path would land here
    cwd.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    with contextlib.chdir(cwd):
        manifest = run_build(small.options(memory_out, partitions=PARTITIONS), Progress(quiet=True))

    got = memory_files(memory_out)
    assert got.keys() == expected.keys()  # no _work, no temp file left behind
    for name, data in expected.items():
        assert got[name] == data, name
    assert [o["path"] for o in manifest["outputs"]] == [k for k in expected if k != "manifest.json"]
    assert list(cwd.iterdir()) == []  # nothing written to local disk for it
    assert sorted(p.name for p in tmp_path.iterdir()) == before

    # The shards read back straight from the URL, with `datasets` and with pyarrow.
    mcq = datasets.load_dataset(
        "parquet",
        data_files={"test": f"{memory_out}/data/mcq/test-*.parquet"},
        split="test",
        cache_dir=str(tmp_path / "hf-cache"),
    )
    local_rows = pq.read_table(local_reference / "data" / "mcq").to_pylist()
    assert len(local_rows) > 0
    assert mcq.num_rows == len(local_rows)
    assert mcq.to_list() == local_rows


@pytest.mark.slow
def test_file_url_on_two_dask_workers_gives_the_local_bytes(small, local_reference, tmp_path):
    out = tmp_path / "url"
    options = small.options(f"file://{out}", partitions=PARTITIONS, workers=2)
    run_build(options, Progress(quiet=True))
    assert local_files(out) == local_files(local_reference)


def finished_partitions(out: Path) -> dict[str, int]:
    """Finished partitions a rerun may reuse, per stage."""
    work = out / "_work"
    return {
        stage: len(list((work / stage).glob("part-*.result.json")))
        for stage in ("scenes", "stats", "mcq", "conv")
    }


@pytest.mark.slow
@pytest.mark.parametrize("point", ["mcq:2", "rename:manifest.json:1"])
def test_killed_file_url_build_resumes(small, local_reference, tmp_path, point):
    out = tmp_path / "killed"
    argv = [*small.args(), "--partitions", str(PARTITIONS), "--out", f"file://{out}"]
    build_killed_at(point, argv)
    assert not (out / "manifest.json").exists()
    assert (out / "_work" / "run.json").exists()  # the run signature, under the URL output
    done = finished_partitions(out)
    if point == "mcq:2":
        assert done == {"scenes": PARTITIONS, "stats": PARTITIONS, "mcq": 2, "conv": 0}
    else:  # complete under a hidden temp name only: the rerun removes it
        assert list(out.glob(".manifest.json.tmp-*"))
        assert all(n == PARTITIONS for n in done.values())

    log = io.StringIO()
    with contextlib.redirect_stderr(log):
        assert main(["build", *argv]) == 0, log.getvalue()
    for stage, n in done.items():
        reused = re.search(rf"^\[{stage}\] (\d+) partitions already done$", log.getvalue(), re.M)
        assert (int(reused[1]) if reused else 0) == n, (stage, log.getvalue())
    assert local_files(out) == local_files(local_reference)


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_unknown_protocol_is_one_line_naming_the_url(small, cli):
    code, _, err = cli("build", *small.write(), "--out", "nosuchfs://bucket/x", "--quiet")
    assert code == 2
    line = one_error_line(err)
    assert line.startswith("msg build: error: nosuchfs://bucket/x: ")
    assert "nosuchfs" in line.split(": ", 2)[2]


@pytest.mark.skipif(find_spec("s3fs") is not None, reason="s3fs is installed here")
def test_missing_filesystem_package_is_named(small, cli):
    code, _, err = cli("build", *small.write(), "--out", "s3://bucket/x")
    assert code == 2
    assert one_error_line(err) == (
        "msg build: error: s3://bucket/x: no filesystem for s3://; "
        "install the `s3fs` package (pip install s3fs)"
    )


def test_url_misuse_is_refused_clearly(small, cli, tmp_path):
    args = small.write()
    # The demo sample is written beside a local --out only.
    code, _, err = cli("build", "--out", "memory://msg-test/demo")
    assert code == 2 and "memory://msg-test/demo" in one_error_line(err)
    assert "--coco-instances" in err
    # The memory filesystem is private to one process: no worker cluster on it.
    code, _, err = cli("build", *args, "--out", "memory://msg-test/w", "--workers", "2")
    assert code == 2 and "--workers 1" in one_error_line(err)
    # Inputs stay local.
    code, _, err = cli("build", "--vg-dir", "s3://bucket/vg", "--out", str(tmp_path / "o"))
    assert code == 2 and "s3://bucket/vg" in err and "local path" in err
    # Commands that read a finished build are local-only.
    for argv in (("validate",), ("audit",), ("export", "--format", "llava", "--dest", "d")):
        code, _, err = cli(argv[0], "memory://msg-test/out", *argv[1:])
        assert code == 2 and "memory://msg-test/out" in err and "local path" in err, argv
