"""A new attribute aspect is data, not code: a copy of the tables with a "texture" aspect
(an attributes.toml section, an [aspects] entry and a family) and a few VG objects with
texture attributes give texture items that pass schema validation, are re-derived by the
oracle, and are scored (with surface forms canonicalised), without touching the code.

The build and the checks run in a child process with MSG_TABLES_DIR set, as a user's would
(every table is read once per process)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipeline.demo_sample import write_demo_sample
from pipeline.tables import PACKAGED_TABLES

TEXTURE_VALUES = textwrap.dedent(
    """

    [texture]
    smooth = ["smooth", "sleek"]
    rough = ["rough", "bumpy", "coarse"]
    fuzzy = ["fuzzy", "furry", "fluffy"]
    grainy = ["grainy"]
    wrinkled = ["wrinkled", "crinkled"]
    """
)
TEXTURE_FAMILY = textwrap.dedent(
    """

    [families.texture]
    aspect = "texture"
    generator = "attribute"
    forms = ["mcq", "yes_no", "fill_blank", "correction"]
    mcq = ["What is the texture of {ref}?", "How does the surface of {ref} look?"]
    yes_no = ["Does {ref} look {value}?"]
    statement = ["{Ref} looks {value}."]
    fill_blank = ["Fill in the blank with a texture: {Ref} looks ___."]
    """
)
# VG objects of the demo sample (by object id) given a texture attribute.
TEXTURED = {3950000: "smooth", 3950102: "furry", 3950201: "smooth", 3950105: "bumpy"}

CHECK = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import pyarrow.parquet as pq
    from pipeline.audit.oracle import Oracle, RawIndex
    from pipeline.build import run_build
    from pipeline.config import BuildOptions
    from pipeline.evaluate.extract import judge
    from pipeline.normalize import Vocabulary
    from pipeline.progress import Progress
    from pipeline.validation import problems

    inputs, out = Path(sys.argv[1]), Path(sys.argv[2])
    vg = inputs / "vg"
    coco = [inputs / "coco" / "annotations" / "instances_demo.json"]
    options = BuildOptions(
        coco_instances=coco, vg_dir=vg, out=out, tuning_fraction=0.0, head_share=1.0
    )
    run_build(options, Progress(quiet=True))
    items = [i for i in pq.read_table(out / "data" / "mcq").to_pylist()]
    texture = [i for i in items if i["aspect"] == "texture"]
    vocab = Vocabulary.load(vg / "object_alias.txt", vg / "relationship_alias.txt")
    oracle = Oracle(RawIndex.load(coco, vg, vocab), options.min_count_area, options.spatial_margin)
    report = {
        "forms": sorted({i["form"] for i in texture}),
        "values": sorted({i["answer_value"] for i in texture}),
        "schema_problems": [p for i in texture for p in problems("mcq", i)],
        "oracle_violations": {i["id"]: v for i in texture if (v := oracle.violations(i))},
        "distractor_true": [],
        "gold_right": [],
        "synonym_right": [],
        "distractor_right": [],
    }
    synonyms = {"smooth": "sleek", "rough": "bumpy", "fuzzy": "furry"}
    for item in texture:
        report["gold_right"].append(judge(item, item["answer"]).correct)
        for d in item["distractor_sources"]:
            report["distractor_true"].append(oracle.true_of(item, d["option"]))
        if item["form"] == "fill_blank" and item["answer_value"] in synonyms:
            said = f"It looks {synonyms[item['answer_value']]}."
            report["synonym_right"].append(judge(item, said).correct)
        if item["form"] == "mcq":
            wrong = next(o for o in item["options"] if o != item["answer"])
            report["distractor_right"].append(judge(item, wrong).correct)
    scenes = pq.read_table(out / "scenes").to_pylist()
    report["scene_textures"] = sorted(
        v for s in scenes for o in s["objects"] for v in o["attributes"].get("texture", [])
    )
    print(json.dumps(report))
    """
)


def texture_tables(dest: Path) -> Path:
    shutil.copytree(PACKAGED_TABLES, dest, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    with (dest / "attributes.toml").open("a", encoding="utf-8") as f:
        f.write(TEXTURE_VALUES)
    families = (dest / "families.toml").read_text(encoding="utf-8")
    families = families.replace(
        'existence = { grounding = "existence" }',
        'existence = { grounding = "existence" }\n'
        'texture = { grounding = "attribute", single_valued = true }',
    )
    (dest / "families.toml").write_text(families + TEXTURE_FAMILY, encoding="utf-8")
    return dest


def textured_inputs(dest: Path) -> Path:
    write_demo_sample(dest)
    path = dest / "vg" / "attributes.json"
    entries = json.loads(path.read_text(encoding="utf-8"))
    for entry in entries:
        for obj in entry["attributes"]:
            if obj["object_id"] in TEXTURED:
                obj["attributes"] = [*(obj.get("attributes") or []), TEXTURED[obj["object_id"]]]
    path.write_text(json.dumps(entries), encoding="utf-8")
    return dest


@pytest.mark.slow
def test_texture_aspect_from_tables_alone(tmp_path):
    tables = texture_tables(tmp_path / "tables")
    inputs = textured_inputs(tmp_path / "input")
    env = dict(os.environ, MSG_TABLES_DIR=str(tables))
    run = subprocess.run(
        [sys.executable, "-c", CHECK, str(inputs), str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    # Scenes carry the new typed attribute, canonicalised ("furry" is "fuzzy").
    assert {"smooth", "fuzzy", "rough"} <= set(report["scene_textures"])
    assert report["forms"] == ["correction", "fill_blank", "mcq", "yes_no"]
    assert set(report["values"]) <= {"smooth", "rough", "fuzzy", "grainy", "wrinkled"}
    assert report["schema_problems"] == []
    assert report["oracle_violations"] == {}
    assert report["distractor_true"] and not any(report["distractor_true"])
    assert report["gold_right"] and all(report["gold_right"])
    assert report["synonym_right"] and all(report["synonym_right"])
    assert report["distractor_right"] and not any(report["distractor_right"])


def test_the_packaged_tables_have_no_texture():
    """The test above proves something only if texture is not already shipped."""
    assert "texture" not in (PACKAGED_TABLES / "families.toml").read_text(encoding="utf-8")
