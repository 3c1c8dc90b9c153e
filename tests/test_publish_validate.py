"""`msg validate` and the manifest schema: a fresh folder passes; any changed, missing,
unlisted or invalid file is listed by name and the exit code is non-zero."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_publish_support import build_folder, conv_row, mcq_row

from pipeline.cli import main
from pipeline.publish.validate import validate_folder
from pipeline.schema_files import load_schema


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("validate") / "out"
    build_folder(out, [mcq_row(i) for i in range(30)], [conv_row(i) for i in range(6)])
    return out


@pytest.fixture
def out(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(built, copy)
    return copy


def shard(out: Path, config: str = "mcq") -> Path:
    return next((out / "data" / config).glob("*.parquet"))


def run(out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["validate", str(out)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fresh_folder_is_valid(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate_folder(out) == []
    code, stdout, stderr = run(out, capsys)
    assert (code, stderr) == (0, "")
    assert "is valid" in stdout


def test_one_changed_byte_in_a_shard_fails_naming_the_file(
    out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shard(out)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    code, _, stderr = run(out, capsys)
    assert code == 1
    rel = path.relative_to(out).as_posix()
    assert f"{rel}: sha256 " in stderr
    assert all(rel in line for line in stderr.splitlines()[:-1])  # only that file is blamed


def test_missing_unlisted_and_resized_files_are_listed(out: Path) -> None:
    shard(out, "conv").unlink()
    (out / "extra.txt").write_text("not in the manifest")
    (out / "README.md").write_text((out / "README.md").read_text() + "\nedited\n")
    (out / "_work").mkdir()
    (out / "_work" / "scratch.bin").write_bytes(b"work files are not outputs")
    problems = validate_folder(out)
    assert any(p.startswith("data/conv/train-00000-of-00001.parquet: listed") for p in problems)
    assert "extra.txt: present but not listed in manifest.json" in problems
    assert any(p.startswith("README.md: size ") for p in problems)
    assert any(p.startswith("README.md: sha256 ") for p in problems)
    assert not any("_work" in p for p in problems)


def test_invalid_record_is_named_even_when_the_manifest_agrees(out: Path) -> None:
    # A record that breaks the JSON schema, in a shard the manifest agrees with.
    path = shard(out)
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[2]["options"] = rows[2]["options"][:3] if rows[2]["form"] == "mcq" else ["yes"]
    rows[2]["form"] = "mcq"
    rewrite_shard(out, path, rows, table.schema)
    problems = validate_folder(out)
    assert problems and all(
        p.startswith(f"{path.relative_to(out).as_posix()}: row 2") for p in problems
    )
    assert rows[2]["id"] in problems[0]


def rewrite_shard(out: Path, path: Path, rows: list[dict], schema: pa.Schema) -> None:
    """Write `rows` to the shard and re-list it in the manifest: only record checks can
    then catch what is wrong with them."""
    from pipeline.manifest import describe_file

    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    manifest = json.loads((out / "manifest.json").read_text())
    rel = path.relative_to(out).as_posix()
    manifest["outputs"] = [
        describe_file(path, out) if e["path"] == rel else e for e in manifest["outputs"]
    ]
    (out / "manifest.json").write_text(json.dumps(manifest))


def test_a_schema_valid_record_whose_answer_is_not_its_option_is_named(out: Path) -> None:
    # Every field has its type and the options are four distinct strings, so the JSON
    # schema accepts it; the answer is simply not the option the index points at.
    path = shard(out)
    table = pq.read_table(path)
    rows = table.to_pylist()
    victim = next(i for i, r in enumerate(rows) if r["form"] == "mcq")
    row = rows[victim]
    row["answer_index"] = (row["answer_index"] + 1) % len(row["options"])
    rewrite_shard(out, path, rows, table.schema)
    problems = validate_folder(out)
    assert problems == [
        f"{path.relative_to(out).as_posix()}: row {victim} (id {row['id']!r}): "
        "$: answer is not the option at answer_index"
    ]


def test_wrong_column_types_and_broken_manifest(out: Path) -> None:
    path = shard(out, "conv")
    table = pq.read_table(path)
    pq.write_table(table.set_column(7, "width", table["width"].cast(pa.float64())), path)
    (out / "manifest.json").write_text("{not json")
    problems = validate_folder(out)
    assert any(p.startswith("manifest.json: not valid JSON") for p in problems)
    assert (
        f"{path.relative_to(out).as_posix()}: columns/types differ from the conv schema" in problems
    )


def test_stray_shard_name_is_reported(out: Path) -> None:
    shutil.copy(shard(out), out / "data" / "mcq" / "test-00001-of-00002.parquet")
    problems = validate_folder(out)
    assert any(p.startswith("data/mcq: shard names are not one complete set") for p in problems)


def test_missing_folder_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, stderr = run(tmp_path / "nope", capsys)
    assert code == 2 and stderr.count("\n") == 1 and "output folder not found" in stderr


def test_manifest_schema_accepts_the_manifest_and_rejects_drift(built: Path) -> None:
    schema = load_schema("manifest")
    jsonschema.Draft202012Validator.check_schema(schema)
    manifest = json.loads((built / "manifest.json").read_text())
    jsonschema.validate(manifest, schema)
    listed = {e["path"] for e in manifest["outputs"]}
    assert "README.md" in listed and "data/mcq/test-00000-of-00001.parquet" in listed
    for broken in (
        {**manifest, "seed": "0"},
        {**manifest, "outputs": [{**manifest["outputs"][0], "sha256": "xyz"}]},
        {**manifest, "outputs": [{**manifest["outputs"][0], "path": "../escape"}]},
        {k: v for k, v in manifest.items() if k != "inputs"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)
