"""Issue 9, point 3: a Hub token in the environment never appears in any output, log,
manifest or error message. One real build of the small sample, then validate, a dry-run
publish, a publish against an unreachable Hub and a failing build, all as subprocesses
with a fake HF_TOKEN; everything printed and every file written is searched for it.

test_publish_upload.py checks the publish command alone (with the Hub patched); this runs
the whole chain as a user would."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FAKE_TOKEN = "hf_RELIABILITYfake0123456789abcdefghijkl"
# The token in the forms a leak could take: as is, base64 (an Authorization header dump)
# and URL-quoted (it has no special characters, so that is the same text).
LEAK_FORMS = (FAKE_TOKEN.encode(), base64.b64encode(FAKE_TOKEN.encode()))
COMMANDS = 5  # build, validate, dry run, failing publish, failing build (the doc quotes it)


def msg(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *argv],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_token_is_in_no_output_log_manifest_or_error(small, tmp_path: Path) -> None:
    home = tmp_path / "hf-home"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))},
        "HF_TOKEN": FAKE_TOKEN,
        "HF_HOME": str(home),
        "HF_ENDPOINT": "http://127.0.0.1:9",  # discard port: refused at once, no network
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_OFFLINE": "0",
    }
    small.write()
    out = tmp_path / "out"
    runs = {
        # Not --quiet: progress lines are logs too.
        "build": msg("build", *small.args(), "--out", str(out), env=env),
        "validate": msg("validate", str(out), env=env),
        "dry_run": msg("publish", str(out), "--repo-id", "tester/msg", "--dry-run", env=env),
        "publish": msg("publish", str(out), "--repo-id", "tester/msg", env=env),
    }
    (small.vg_dir / "objects.json").write_text("[{broken")
    runs["failing_build"] = msg("build", *small.args(), "--out", str(tmp_path / "o2"), env=env)

    assert len(runs) == COMMANDS
    assert runs["build"].returncode == 0, runs["build"].stderr
    assert runs["validate"].returncode == 0, runs["validate"].stderr
    assert runs["dry_run"].returncode == 0, runs["dry_run"].stderr
    assert runs["publish"].returncode == 1  # the Hub cannot be reached
    assert "cannot reach the Hub" in runs["publish"].stderr
    assert runs["failing_build"].returncode == 2
    for name, proc in runs.items():
        printed = (proc.stdout + proc.stderr).encode()
        assert "Traceback" not in proc.stderr, name
        for form in LEAK_FORMS:
            assert form not in printed, f"token printed by {name}"
    written = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()]
    assert out / "manifest.json" in written and any(p.suffix == ".parquet" for p in written)
    for path in written:
        data = path.read_bytes()
        for form in LEAK_FORMS:
            assert form not in data, f"token written to {path}"
