"""`msg publish`: validation first, an exact dry run with no network and no token, the upload
calls (with HfApi patched: no Hub here), one-line errors, and the token never leaking."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import huggingface_hub
import pytest
from huggingface_hub import HfApi
from test_publish_support import REPO_ROOT, build_folder, conv_row, mcq_row

from pipeline.cli import main
from pipeline.manifest import output_files

FAKE_TOKEN = "hf_FAKEtoken0123456789abcdefghijklmnopq"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("publish") / "out"
    build_folder(out, [mcq_row(i) for i in range(20)], [conv_row(i) for i in range(5)])
    return out


@pytest.fixture
def out(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(built, copy)
    return copy


@pytest.fixture
def no_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("network used")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def hub_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple, dict]]:
    """HfApi methods replaced by recorders (with the token each instance was given)."""
    calls: list[tuple[str, tuple, dict]] = []

    def recorder(name: str):
        def method(self, *args, **kwargs):
            calls.append((name, args, {**kwargs, "_token": self.token}))
            if name == "upload_folder":
                return type("Info", (), {"commit_url": "https://hub.test/commit/abc"})()
            return {"name": "tester"} if name == "whoami" else None

        return method

    for name in ("whoami", "create_repo", "create_branch", "upload_folder", "upload_file",
                 "create_commit", "delete_repo"):  # fmt: skip
        monkeypatch.setattr(HfApi, name, recorder(name))
    return calls


def publish(out: Path, *extra: str) -> int:
    return main(["publish", str(out), "--repo-id", "tester/msg", *extra])


def test_dry_run_lists_every_file_with_size_without_token_or_network(
    out: Path, no_token: None, no_network: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert publish(out, "--dry-run", "--revision", "v1", "--private") == 0
    stdout = capsys.readouterr().out
    files = [*output_files(out), out / "manifest.json"]
    assert "dry run, nothing uploaded" in stdout
    assert f"dataset repo tester/msg (private), revision v1: {len(files)} files" in stdout
    for path in files:
        rel = path.relative_to(out).as_posix()
        line = next(x for x in stdout.splitlines() if x.strip().startswith(rel + " "))
        assert f"{path.stat().st_size} bytes" in line
        assert line.endswith(f"-> hf://datasets/tester/msg@v1/{rel}")
    assert len([x for x in stdout.splitlines() if "-> hf://" in x]) == len(files)


def test_invalid_folder_is_refused_before_any_upload(
    out: Path, hub_calls: list, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    (out / "README.md").write_text("changed after the build")
    for extra in ((), ("--dry-run",)):
        assert publish(out, *extra) == 1
        stderr = capsys.readouterr().err
        assert "README.md: sha256" in stderr and "nothing uploaded" in stderr
    assert hub_calls == []


def test_upload_calls_hub_with_dataset_repo_branch_and_exact_files(
    out: Path, hub_calls: list, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    assert publish(out, "--private", "--revision", "v1") == 0
    names = [c[0] for c in hub_calls]
    assert names == ["whoami", "create_repo", "create_branch", "upload_folder"]
    _, args, kwargs = hub_calls[1]
    assert args == ("tester/msg",)
    assert kwargs == {
        "repo_type": "dataset",
        "private": True,
        "exist_ok": True,
        "_token": FAKE_TOKEN,
    }
    assert hub_calls[2][2]["branch"] == "v1" and hub_calls[2][2]["repo_type"] == "dataset"
    upload = hub_calls[3][2]
    assert upload["repo_type"] == "dataset" and upload["revision"] == "v1"
    assert Path(upload["folder_path"]) == out
    expected = sorted(
        p.relative_to(out).as_posix() for p in [*output_files(out), out / "manifest.json"]
    )
    assert sorted(upload["allow_patterns"]) == expected
    assert upload["delete_patterns"] == ["data/*/*.parquet"]  # no stale remote shards
    assert all(c[2]["_token"] == FAKE_TOKEN for c in hub_calls)
    captured = capsys.readouterr()
    assert "uploaded to https://hub.test/commit/abc" in captured.out
    assert FAKE_TOKEN not in captured.out + captured.err


def test_missing_token_is_one_clear_line(
    out: Path, no_token: None, no_network: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert publish(out) == 1
    stderr = capsys.readouterr().err
    assert stderr.splitlines() == [
        "msg publish: error: no Hugging Face token found: set HF_TOKEN or log in with "
        "`hf auth login`"
    ]


def test_hub_errors_are_one_line_and_scrub_the_token(
    out: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)

    def whoami(self, *args, **kwargs):
        raise RuntimeError(f"bad header Authorization: Bearer {FAKE_TOKEN}\nmore detail")

    monkeypatch.setattr(HfApi, "whoami", whoami)
    assert publish(out) == 1
    stderr = capsys.readouterr().err
    assert len(stderr.splitlines()) == 1
    assert "while checking the token: RuntimeError: bad header Authorization: Bearer ***" in stderr
    assert FAKE_TOKEN not in stderr


def test_unreachable_hub_is_one_line_and_the_token_is_nowhere(out: Path, tmp_path: Path) -> None:
    home = tmp_path / "hf-home"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))},
        "HF_ENDPOINT": "http://127.0.0.1:9",  # discard port: connection refused at once
        "HF_TOKEN": FAKE_TOKEN,
        "HF_HOME": str(home),
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "publish", str(out), "--repo-id", "tester/msg"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("msg publish: error: cannot reach the Hub at http://127.0.0.1:9")
    assert "Traceback" not in proc.stderr
    assert FAKE_TOKEN not in proc.stdout + proc.stderr
    for folder in (out, home, tmp_path):
        for path in folder.rglob("*"):
            if path.is_file():
                assert FAKE_TOKEN.encode() not in path.read_bytes(), path
