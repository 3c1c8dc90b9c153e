"""Bad input files: missing, unreadable, not JSON, truncated, empty, the wrong JSON kind.
Each ends `msg build` with exit code 2 and one error line naming the file (and the byte
where a parse broke), never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith("msg build: error: "), lines[0]
    return lines[0]


def _break_instances_truncated(small) -> tuple[Path, bool]:
    data = small.instances_path.read_bytes()
    small.instances_path.write_bytes(data[: len(data) // 2])
    return small.instances_path, True


def _break_objects_not_json(small) -> tuple[Path, bool]:
    path = small.vg_dir / "objects.json"
    path.write_text("objects: [this is not JSON]\n")
    return path, True


def _break_captions_garbage_inside(small) -> tuple[Path, bool]:
    text = small.captions_path.read_text()
    cut = text.index('"annotations"')
    small.captions_path.write_text(text[:cut] + "@@@" + text[cut:])
    return small.captions_path, True


def _break_relationships_truncated(small) -> tuple[Path, bool]:
    path = small.vg_dir / "relationships.json"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    return path, True


def _break_attributes_empty(small) -> tuple[Path, bool]:
    path = small.vg_dir / "attributes.json"
    path.write_bytes(b"")
    return path, False


def _break_instances_empty(small) -> tuple[Path, bool]:
    small.instances_path.write_bytes(b"")
    return small.instances_path, False


def _break_image_data_object(small) -> tuple[Path, bool]:
    path = small.vg_dir / "image_data.json"
    path.write_text(json.dumps({"images": small.vg_images}))
    return path, False


def _break_objects_object(small) -> tuple[Path, bool]:
    path = small.vg_dir / "objects.json"
    path.write_text(json.dumps({str(e["image_id"]): e for e in small.vg_objects}))
    return path, False


def _break_instances_list(small) -> tuple[Path, bool]:
    small.instances_path.write_text(json.dumps(small.instances["annotations"]))
    return small.instances_path, False


def _break_objects_not_utf8(small) -> tuple[Path, bool]:
    path = small.vg_dir / "objects.json"
    path.write_bytes(b'[{"image_id": 1, "objects": [{"names": ["\xff\xfe"]}]}]')
    return path, True


BROKEN = {
    "truncated_instances": _break_instances_truncated,
    "truncated_relationships": _break_relationships_truncated,
    "not_json_objects": _break_objects_not_json,
    "not_json_inside_captions": _break_captions_garbage_inside,
    "not_utf8_objects": _break_objects_not_utf8,
    "empty_attributes": _break_attributes_empty,
    "empty_instances": _break_instances_empty,
    "object_instead_of_list_image_data": _break_image_data_object,
    "object_instead_of_list_objects": _break_objects_object,
    "list_instead_of_object_instances": _break_instances_list,
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_file_is_one_error_line_with_exit_2(small, cli, tmp_path, case):
    small.write()
    path, has_position = BROKEN[case](small)
    code, out, err = cli("build", *small.args(), "--out", tmp_path / "out", "--quiet")
    assert code == 2
    line = _one_error_line(err)
    assert str(path) in line
    if has_position:
        assert "byte" in line, line
    if "instead_of" in case:
        assert "expected" in line
    assert not (tmp_path / "out" / "manifest.json").exists()


@pytest.mark.parametrize("case", ["empty_attributes", "empty_instances"])
def test_empty_file_is_called_empty(small, cli, tmp_path, case):
    small.write()
    path, _ = BROKEN[case](small)
    code, _, err = cli("build", *small.args(), "--out", tmp_path / "out", "--quiet")
    assert code == 2
    line = _one_error_line(err)
    assert str(path) in line and "empty file" in line


def test_missing_coco_file(small, cli, tmp_path):
    small.write()
    missing = tmp_path / "nowhere" / "instances_train2017.json"
    code, _, err = cli("build", "--coco-instances", missing, "--out", tmp_path / "out")
    assert code == 2
    line = _one_error_line(err)
    assert str(missing) in line and "not found" in line


def test_missing_required_vg_file(small, cli, tmp_path):
    small.write()
    (small.vg_dir / "objects.json").unlink()
    code, _, err = cli("build", *small.args(), "--out", tmp_path / "out", "--quiet")
    assert code == 2
    line = _one_error_line(err)
    assert str(small.vg_dir / "objects.json") in line and "not found" in line


def test_missing_vg_folder(cli, tmp_path):
    missing = tmp_path / "no_vg"
    code, _, err = cli("build", "--vg-dir", missing, "--out", tmp_path / "out")
    assert code == 2
    assert str(missing) in _one_error_line(err)


def test_folder_in_place_of_a_file_is_unreadable(small, cli, tmp_path):
    small.write()
    folder = tmp_path / "instances_as_folder.json"
    folder.mkdir()
    args = ["--coco-instances", folder, "--coco-captions", small.captions_path]
    code, _, err = cli("build", *args, "--out", tmp_path / "out", "--quiet")
    assert code == 2
    line = _one_error_line(err)
    assert str(folder) in line and "folder" in line


def test_file_without_read_permission(small, cli, tmp_path, monkeypatch):
    small.write()
    small.instances_path.chmod(0)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # chmod 000 does not stop root: the open the reader makes fails as it would.
        from pipeline import jsonstream

        def unreadable(path, *args, **kwargs):
            if Path(path) == small.instances_path:
                raise PermissionError(13, "Permission denied", str(path))
            return open(path, *args, **kwargs)

        monkeypatch.setattr(jsonstream, "open", unreadable, raising=False)
    try:
        code, _, err = cli("build", *small.args(), "--out", tmp_path / "out", "--quiet")
    finally:
        small.instances_path.chmod(0o644)
    assert code == 2
    line = _one_error_line(err)
    assert str(small.instances_path) in line and "cannot be read" in line


def test_error_line_without_quiet_is_still_the_only_error(small, cli, tmp_path):
    # Progress lines also go to stderr; the error itself is still one line, no traceback.
    small.write()
    path, _ = _break_instances_truncated(small)
    code, _, err = cli("build", *small.args(), "--out", tmp_path / "out")
    assert code == 2
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and str(path) in errors[0] and "byte" in errors[0]


def test_broken_file_as_a_subprocess(small, tmp_path):
    small.write()
    path, _ = _break_objects_not_json(small)
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "build", *small.args(), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("msg build: error")]
    assert len(errors) == 1
    assert str(path) in errors[0] and "byte" in errors[0]
