"""The `msg` command: help for every option, TOML config under the flags, --quiet, progress."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import parser

REPO = Path(__file__).resolve().parent.parent
# The options issue 2 names (later issues may add more; those are checked via argparse).
ISSUE_OPTIONS = (
    "--coco-instances",
    "--coco-captions",
    "--vg-dir",
    "--images-dir",
    "--out",
    "--seed",
    "--workers",
    "--scheduler",
    "--config",
    "--quiet",
)


def _build_subparser() -> argparse.ArgumentParser:
    sub = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["build"]


def _toml_value(value) -> str:
    return json.dumps(value)  # strings, numbers, lists of strings are the same in TOML


def test_top_level_help_lists_the_build_command(cli):
    code, out, _ = cli("--help")
    assert code == 0
    assert "build" in out
    assert "usage: msg" in out


def test_build_help_lists_every_option_with_an_explanation(cli):
    code, out, _ = cli("build", "--help")
    assert code == 0
    for option in ISSUE_OPTIONS:
        assert option in out, option
    for action in _build_subparser()._actions:
        assert action.help and action.help != argparse.SUPPRESS, action.option_strings
        for flag in action.option_strings:
            assert flag in out, flag


def test_unknown_flag_is_a_usage_error(cli):
    code, _, err = cli("build", "--no-such-flag")
    assert code == 2
    assert "Traceback" not in err
    assert "--no-such-flag" in err


def _write_config(path: Path, values: dict, table: bool) -> Path:
    lines = ["[build]"] if table else []
    lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("table", [True, False], ids=["build_table", "top_level"])
def test_config_file_sets_options_and_flags_override_it(
    small, cli, manifest_of, scenes_of, tmp_path, table
):
    small.write()
    out = tmp_path / "from_config"
    config = _write_config(
        tmp_path / "msg.toml",
        {
            "coco_instances": [str(small.instances_path)],
            "coco_captions": [str(small.captions_path)],
            "vg_dir": str(small.vg_dir),
            "out": str(out),
            "seed": 7,
            "partitions": 3,
            "count_cap": 4,
            "quiet": True,
        },
        table,
    )
    code, stdout, err = cli("build", "--config", config, "--seed", "11")
    assert code == 0, err
    assert stdout.strip() == f"output: {out.resolve()}"  # quiet from the config
    manifest = manifest_of(out)
    assert manifest["seed"] == 11  # the flag wins
    assert manifest["options"]["seed"] == 11
    assert manifest["options"]["partitions"] == 3  # from the file
    assert manifest["options"]["count_cap"] == 4
    assert len(list((out / "scenes").glob("*.parquet"))) == 3
    assert len(scenes_of(out)) == len(small.instances["images"]) + len(small.vg_images)


def test_flag_overrides_config_out(small, cli, tmp_path):
    small.write()
    config = _write_config(
        tmp_path / "msg.toml", {"out": str(tmp_path / "config_out"), "quiet": True}, True
    )
    flag_out = tmp_path / "flag_out"
    code, stdout, err = cli("build", "--config", config, *small.args(), "--out", flag_out)
    assert code == 0, err
    assert (flag_out / "manifest.json").exists()
    assert not (tmp_path / "config_out").exists()


def test_unknown_config_key_is_one_error_line(small, cli, tmp_path):
    small.write()
    config = _write_config(tmp_path / "msg.toml", {"seed": 1, "colour_mode": "fancy"}, True)
    code, stdout, err = cli("build", "--config", config, "--out", tmp_path / "out")
    assert code == 2
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert str(config) in lines[0] and "colour_mode" in lines[0]
    assert not (tmp_path / "out").exists()


def test_missing_and_invalid_config_files_are_one_error_line(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("seed = = 3\n")
    for config in (tmp_path / "absent.toml", bad):
        code, _, err = cli("build", "--config", config, "--out", tmp_path / "out")
        assert code == 2
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and str(config) in lines[0], err
        assert "Traceback" not in err


def test_quiet_prints_only_the_output_line(small, cli, tmp_path):
    small.write()
    out = tmp_path / "out"
    code, stdout, err = cli("build", *small.args(), "--out", out, "--quiet")
    assert code == 0
    assert stdout.splitlines() == [f"output: {out.resolve()}"]
    assert err == ""


def test_progress_lines_appear_when_not_quiet(small, cli, tmp_path):
    small.write()
    out = tmp_path / "out"
    code, stdout, err = cli("build", *small.args(), "--out", out)
    assert code == 0
    for stage in ("split", "scenes"):
        assert f"[{stage}] started" in err, err
        assert f"[{stage}] done" in err, err
    assert "[build]" in err
    n_scenes = len(small.instances["images"]) + len(small.vg_images)
    assert f"scenes: {n_scenes}" in stdout
    assert stdout.splitlines()[-1] == f"output: {out.resolve()}"


def test_msg_as_a_subprocess(small, tmp_path):
    small.write()
    out = tmp_path / "out"
    msg = Path(sys.executable).with_name("msg")
    command = [str(msg)] if msg.exists() else [sys.executable, "-m", "pipeline"]
    proc = subprocess.run(
        [*command, "build", *small.args(), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"output: {out.resolve()}"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["reconciled"] and manifest["counts"]["scenes"] == 6


def test_python_dash_m_pipeline_help():
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "build", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0
    assert all(option in proc.stdout for option in ISSUE_OPTIONS)
