"""An installable package (issue 18, point 6): `pip wheel .`, then `pip install` of that
wheel into a fresh virtual environment in a temporary folder, and `msg build` (demo),
`msg validate` and `msg export` run from a folder outside the checkout.

No network: the wheel is built without build isolation (setuptools comes with the test
extra), and installed with --no-deps --no-index; the fresh environment reaches the heavy
dependencies (dask, datasets, spacy, ...) through a .pth line naming this environment's
site-packages. A .pth line only adds a folder: the editable install there (its own .pth
files) is not processed, so `pipeline` can only come from the wheel."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.normalize import wordnet_setup

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

# Not part of a source tree: VCS data, environments, build leftovers, outputs, caches.
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".ruff_cache",
    ".pytest_cache", "outputs", "data", "results",
)  # fmt: skip


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{argv}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    """(the fresh environment's bin folder, its environment variables, a work folder)."""
    root = tmp_path_factory.mktemp("wheel")
    source = shutil.copytree(REPO, root / "src", ignore=IGNORED)  # leaves the checkout clean
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NLTK_DATA")}
    wheels = root / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run([*pip, "wheel", str(source), "--no-deps", "--no-build-isolation", "-q", "-w",
         str(wheels)], root, env)  # fmt: skip
    [wheel] = wheels.glob("msg_pipeline-*.whl")
    target = root / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, env=env,
    ).stdout.strip()  # fmt: skip
    deps = "\n".join(site.getsitepackages())
    Path(purelib, "_msg_test_dependencies.pth").write_text(deps + "\n", encoding="utf-8")
    run([*pip, "--python", str(python), "install", "--no-deps", "--no-index", "-q",
         str(wheel)], root, env)  # fmt: skip
    work = root / "elsewhere"
    work.mkdir()
    return target / "bin", env, work


def test_wheel_carries_schemas_and_tables(installed: tuple[Path, dict[str, str], Path]) -> None:
    bin_dir, env, work = installed
    probe = (
        "import pipeline, pipeline.schema_files as s, pipeline.tables as t; "
        "print(pipeline.__file__); print(s.schema_dir()); print(len(s.schema_names()))"
    )
    lines = run([str(bin_dir / "python"), "-c", probe], work, env).stdout.splitlines()
    venv_root = bin_dir.parent.resolve()
    assert Path(lines[0]).resolve().is_relative_to(venv_root), lines[0]  # not the checkout
    assert Path(lines[1]).resolve().is_relative_to(venv_root)
    assert int(lines[2]) == len(list((REPO / "schemas").glob("*.schema.json")))


@pytest.mark.skipif(
    not (wordnet_setup.SYSTEM_WORDNET / "data.noun").is_file(),
    reason="Debian WordNet (wordnet-base) not installed at /usr/share/wordnet",
)
def test_installed_msg_builds_validates_and_exports_outside_the_checkout(
    installed: tuple[Path, dict[str, str], Path],
) -> None:
    bin_dir, env, work = installed
    msg = str(bin_dir / "msg")
    # WordNet set up from the installed package, into the fresh environment.
    setup = run([str(bin_dir / "python"), "-m", "pipeline.normalize.wordnet_setup"], work, env)
    assert str(bin_dir.parent) in setup.stdout
    built = run([msg, "build", "--out", "demo"], work, env)
    assert "output:" in built.stdout and (work / "demo" / "manifest.json").is_file()
    assert (work / "demo" / "README.md").is_file()
    run([msg, "validate", "demo"], work, env)
    exported = run([msg, "export", "demo", "--format", "lmms-eval", "--dest", "tasks"], work, env)
    assert (work / "tasks" / "msg_mcq" / "utils.py").is_file(), exported.stdout
    run([msg, "export", "demo", "--format", "llava", "--dest", "llava"], work, env)
    assert (work / "llava" / "msg_llava.json").is_file()


def test_missing_wordnet_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nowhere to copy it from and no download: a message naming what to install and run."""
    monkeypatch.setattr(wordnet_setup, "_wordnet_loads", lambda: False)
    monkeypatch.setattr(wordnet_setup, "SYSTEM_WORDNET", tmp_path / "no-wordnet")
    monkeypatch.setenv("NLTK_DATA", str(tmp_path / "nltk"))

    def offline(data_dir: Path) -> Path:
        raise OSError("no network")

    monkeypatch.setattr(wordnet_setup, "_download", offline)
    with pytest.raises(InputError) as err:
        wordnet_setup.ensure_wordnet()
    message = str(err.value)
    assert str(tmp_path / "nltk") in message and "no network" in message
    assert "wordnet-base" in message and "python -m pipeline.normalize.wordnet_setup" in message
