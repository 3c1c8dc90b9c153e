"""The card and `msg publish` agree (issue 18, point 5): every Parquet file the upload
sends is declared by one of the card's configs (the scenes included), each config's files
are uploaded, and `load_dataset(OUT, "scenes")` reads the scenes the manifest counts."""

from __future__ import annotations

import json
from fnmatch import fnmatch
from pathlib import Path

import datasets
import pytest
from huggingface_hub import DatasetCard
from test_publish_support import offline_hf

from pipeline.publish.upload import upload_plan


def test_every_uploaded_parquet_file_is_declared_by_a_config(demo_build: Path) -> None:
    card = DatasetCard.load(demo_build / "README.md")
    patterns = {c["config_name"]: [f["path"] for f in c["data_files"]] for c in card.data.configs}
    assert "scenes" in patterns
    planned = [
        f.path_in_repo for f in upload_plan(demo_build) if f.path_in_repo.endswith(".parquet")
    ]
    assert any(p.startswith("scenes/") for p in planned)
    for path in planned:
        owners = [n for n, globs in patterns.items() if any(fnmatch(path, g) for g in globs)]
        assert len(owners) == 1, f"{path} is declared by {owners or 'no config'}"
    for name, globs in patterns.items():  # and no config declares files that are not sent
        assert any(fnmatch(p, g) for p in planned for g in globs), name


def test_scenes_config_loads_with_datasets(
    demo_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline_hf(monkeypatch, tmp_path / "hf")
    manifest = json.loads((demo_build / "manifest.json").read_text())
    scenes = datasets.load_dataset(
        str(demo_build), "scenes", split="scenes", cache_dir=str(tmp_path / "c")
    )
    assert len(scenes) == manifest["counts"]["scenes"] > 0
    info = {
        i["config_name"]: i for i in DatasetCard.load(demo_build / "README.md").data.dataset_info
    }
    assert info["scenes"]["splits"][0]["num_examples"] == len(scenes)
    assert datasets.Features._from_yaml_list(info["scenes"]["features"]) == scenes.features
    # The default config is still MSG-MCQ.
    default = datasets.load_dataset(str(demo_build), split="test", cache_dir=str(tmp_path / "d"))
    assert "question" in default.column_names
