"""The dataset card `<out>/README.md`: Hub YAML (configs, features, license, tasks) and a body
saying how the data was built, what it holds, its label rules, limits and citations.

The card holds no timestamp or absolute path, so a rebuild from the same inputs gives the same
bytes. Features are read from the written shards, so the card always matches the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datasets import Features
from huggingface_hub import DatasetCard, DatasetCardData

from pipeline.parquet_io import parquet_file
from pipeline.publish.counts import footer_totals, shard_counts
from pipeline.publish.layout import CONFIGS, IMAGE_COLUMN, shard_files
from pipeline.publish.release_report import release_section
from pipeline.storage import FsPath, location

PRETTY_NAME = "MSG: semantic grounding questions (MSG-MCQ) and conversations (MSG-Conv)"
TASK_CATEGORIES = ["visual-question-answering", "multiple-choice", "image-text-to-text"]
SIZE_BOUNDS = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
]

CITATIONS = """\
This dataset follows the semantic-grounding study below (its aspects, question forms and
tuning conversations); please cite it together with the two annotation sources.

```bibtex
@article{lu2024semanticgrounding,
  title   = {Evaluation and Enhancement of Semantic Grounding in Large Vision-Language Models},
  author  = {Lu, Jiaying and Rao, Jinmeng and Chen, Kezhen and Guo, Xiaoyuan and Zhang, Yawen
             and Sun, Baochen and Yang, Carl and Yang, Jie},
  journal = {arXiv preprint arXiv:2309.04041},
  year    = {2024}
}

@inproceedings{lin2014coco,
  title     = {Microsoft {COCO}: Common Objects in Context},
  author    = {Lin, Tsung-Yi and Maire, Michael and Belongie, Serge and Hays, James and Perona,
               Pietro and Ramanan, Deva and Doll{\\'a}r, Piotr and Zitnick, C. Lawrence},
  booktitle = {European Conference on Computer Vision (ECCV)},
  year      = {2014}
}

@article{krishna2017visualgenome,
  title   = {Visual Genome: Connecting Language and Vision Using Crowdsourced Dense Image
             Annotations},
  author  = {Krishna, Ranjay and Zhu, Yuke and Groth, Oliver and Johnson, Justin and Hata, Kenji
             and Kravitz, Joshua and Chen, Stephanie and Kalantidis, Yannis and Li, Li-Jia and
             Shamma, David A. and Bernstein, Michael S. and Fei-Fei, Li},
  journal = {International Journal of Computer Vision},
  volume  = {123},
  pages   = {32--73},
  year    = {2017}
}
```
"""

LABEL_RULES = """\
Every MSG-MCQ item satisfies these rules (the build refuses or re-renders an item otherwise):

1. **Entailed answer**: the answer follows from the annotations; `evidence_ids` lists the
   COCO / Visual Genome records it rests on.
2. **Wrong distractors**: no distractor is true of the referent or of any object the question's
   words could refer to, nor a synonym, hypernym, hyponym or confusable value of the answer
   (`distractor_sources` says where each came from).
3. **Unique referent**: "the bus" is used only when exactly one object answers to that name;
   otherwise the item refers by region (`referent_bbox`) or is not made.
4. **No give-away**: the question does not contain the answer.
5. **Reliable counts**: counting uses COCO's exhaustive instances only, without crowd regions
   or objects too small to see.
6. **Balance**: no answer dominates an aspect and the correct option's position is uniform.
7. **Determinism**: the same inputs, rules and seed give byte-identical files.
8. **Nothing lost silently**: every input record is used, skipped with a reason or quarantined;
   the counts reconcile in `manifest.json`.
"""

LIMITATIONS = """\
- Labels are only as good as the COCO and Visual Genome annotations. Visual Genome is not
  exhaustive: an object or attribute missing from it may still be in the image, so VG-based
  distractors are filtered against confusable lists but can occasionally be true.
- Colour, material and action words are crowd-sourced free text, normalised with lexical
  tables; rare values are dropped rather than guessed.
- Spatial relations from box geometry use the 2-D image plane (left/right/above/below), not
  depth or the objects' own orientation.
- Questions are rendered from templates in English only; they are less varied than human
  questions.
- The images are not part of the annotation license (see below).
"""

LICENSE_TEXT = """\
The questions, answers and conversations are derived from the COCO and Visual Genome
annotations, both released under CC BY 4.0, and are released under **CC BY 4.0** as well.
The **images are not relicensed**: each COCO image keeps the Flickr license named by the
`license` id of its COCO annotation record (Creative Commons licenses such as CC BY 2.0 and
CC BY-SA 2.0), and Visual Genome images keep the licenses of their Flickr / YFCC100M sources.
Where a config has an `image` column, using an image means following that image's license.
"""


DEFAULT_CONFIG = "mcq"
# The scenes the items were made from (`<out>/scenes/`, uploaded by `msg publish`) are a
# config too, so that the card declares every Parquet file the repository holds.
SCENES_CONFIG, SCENES_SPLIT, SCENES_PATTERN = "scenes", "scenes", "scenes/*.parquet"


def scene_files(out: Path | FsPath) -> list[Path | FsPath]:
    folder = location(out / "scenes")
    if not folder.is_dir():
        return []
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".parquet"))
    return [out / "scenes" / n for n in names if not n.startswith((".", "_"))]


def _scenes_entries(out: Path | FsPath) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The `scenes` config and its dataset_info, when the folder has scene files."""
    files = scene_files(out)
    if not files:
        return None
    rows, size = footer_totals(files)  # a partition's file each, 140 at 100K images
    features = Features.from_arrow_schema(parquet_file(files[0]).schema_arrow)
    config = {
        "config_name": SCENES_CONFIG,
        "data_files": [{"split": SCENES_SPLIT, "path": SCENES_PATTERN}],
    }
    info = {
        "config_name": SCENES_CONFIG,
        "features": features._to_yaml_list(),
        "splits": [{"name": SCENES_SPLIT, "num_bytes": size, "num_examples": rows}],
        "download_size": sum(location(p).size() for p in files),
        "dataset_size": size,
    }
    return config, info


def size_category(rows: int) -> str:
    for bound, label in SIZE_BOUNDS:
        if rows < bound:
            return label
    return "n>100M"


def card_data(out: Path | FsPath, counts: dict[str, Any]) -> DatasetCardData:
    """The YAML header: one `datasets` config per data folder that has shards."""
    configs: list[dict[str, Any]] = []
    infos: list[dict[str, Any]] = []
    for name, cfg in CONFIGS.items():
        files = shard_files(out, cfg)
        if not files:
            continue
        features = Features.from_arrow_schema(parquet_file(files[0]).schema_arrow)
        entry = {"config_name": name, "data_files": [{"split": cfg.split, "path": cfg.pattern()}]}
        # MSG-MCQ is what `load_dataset(OUT)` or a Hub id gives without a config name.
        configs.append(entry | ({"default": True} if name == DEFAULT_CONFIG else {}))
        c = counts[name]
        infos.append(
            {
                "config_name": name,
                "features": features._to_yaml_list(),
                "splits": [{"name": cfg.split, "num_bytes": c["bytes"], "num_examples": c["rows"]}],
                "download_size": c["download_bytes"],
                "dataset_size": c["bytes"],
            }
        )
    scenes = _scenes_entries(out)
    if scenes is not None:
        configs.append(scenes[0])
        infos.append(scenes[1])
    total = sum(counts[name]["rows"] for name in CONFIGS if name in counts)
    return DatasetCardData(
        language=["en"],
        license="cc-by-4.0",
        pretty_name=PRETTY_NAME,
        task_categories=TASK_CATEGORIES,
        task_ids=["visual-question-answering", "multiple-choice-qa"],
        size_categories=[size_category(total)],
        source_datasets=["extended|coco", "extended|visual_genome"],
        tags=["semantic-grounding", "hallucination", "vision-language", "coco", "visual-genome"],
        configs=configs,
        dataset_info=infos,
    )


def _build_section(manifest: dict[str, Any]) -> str:
    m = {k: manifest.get(k, "?") for k in ("package_version", "rules_version", "schema_version")}
    lines = [
        f"Generated by the `msg` pipeline (package version `{m['package_version']}`, rules "
        f"`{m['rules_version']}`, record schema `{m['schema_version']}`, seed "
        f"`{manifest.get('seed', '?')}`) "
        "from the official MS-COCO and Visual Genome annotation files. Each image becomes a "
        "scene (objects with canonical names, synsets, boxes and typed attributes, relations, "
        "captions); facts about a scene are rendered as questions (MSG-MCQ) or conversations "
        "(MSG-Conv). Images are split by a hash of their id, so no MSG-Conv image appears in "
        "MSG-MCQ.",
        "",
    ]
    command = manifest.get("command")
    if command:
        # File names only: absolute paths of the build machine say nothing to a reader.
        shown = [Path(a).name if "/" in a else a for a in command]
        lines += ["Command (content options only):", "", "```", " ".join(shown), "```", ""]
    inputs = manifest.get("inputs") or []
    if inputs:
        lines += ["| input | kind | bytes | sha256 |", "| --- | --- | ---: | --- |"]
        for f in inputs:
            lines.append(
                f"| `{f.get('label', '')}` | {f.get('kind', '')} | {f.get('bytes', '')} | "
                f"`{f.get('sha256', '')}` |"
            )
        lines.append("")
    lines.append(
        "`manifest.json` lists every input with its checksum, what became of every input "
        "record, and every file of this folder with its rows, size and sha256; "
        "`msg validate` checks a downloaded copy against it."
    )
    return "\n".join(lines)


def _counts_section(counts: dict[str, Any]) -> str:
    mcq = counts.get("mcq", {})
    table = mcq.get("by_aspect_form", {})
    forms = sorted({f for per in table.values() for f in per})
    lines = [f"**MSG-MCQ** (`mcq`, split `test`): {mcq.get('rows', 0)} items.", ""]
    if table:
        lines += [
            "| aspect | " + " | ".join(forms) + " | total |",
            "| --- | " + " | ".join("---:" for _ in forms) + " | ---: |",
        ]
        for aspect, per in table.items():
            cells = " | ".join(str(per.get(f, 0)) for f in forms)
            lines.append(f"| {aspect} | {cells} | {sum(per.values())} |")
        lines.append("")
    conv = counts.get("conv", {})
    lines += [f"**MSG-Conv** (`conv`, split `train`): {conv.get('rows', 0)} samples.", ""]
    empty = [name for name in CONFIGS if counts.get(name, {}).get("rows", 0) == 0]
    if empty:
        # `datasets` cannot build an empty split (huggingface/datasets#8401), but streaming
        # reads the schema; say so rather than leave users with a bare ValueError.
        lines += [
            f"Empty in this build: {', '.join(f'`{n}`' for n in empty)} (one empty shard keeps "
            "the schema). `load_dataset(..., streaming=True)` reads an empty config; a "
            "non-streaming `load_dataset` of an empty split fails in `datasets`.",
            "",
        ]
    if conv.get("by_kind"):
        lines += ["| kind | samples |", "| --- | ---: |"]
        lines += [f"| {k} | {n} |" for k, n in conv["by_kind"].items()]
        lines.append("")
    return "\n".join(lines)


def _usage_section(has_image: bool) -> str:
    image_note = (
        "The `image` column holds each image (decoded to a PIL image by `datasets`)."
        if has_image
        else "Items carry `file_name` and `url` of their COCO / Visual Genome image; the "
        "images themselves are not included."
    )
    return f"""\
```python
from datasets import load_dataset

mcq = load_dataset("<repo-id or local folder>", "mcq", split="test")
conv = load_dataset("<repo-id or local folder>", "conv", split="train")
scenes = load_dataset("<repo-id or local folder>", "scenes", split="scenes")
```

{image_note} The `scenes` config (split `scenes`) holds the scene each item was made
from: its objects with boxes, names, synsets and attributes, relations and captions.

Fields of `mcq`: `question`, `options` (four for `form` = `mcq`, yes/no for `yes_no`, none for
`fill_blank` / `correction`), `answer`, `answer_index`, `aspect`, `form`, `referent_*`,
`evidence_ids`, `distractor_sources`, `group_id` and `rotation` (CircularEval copies of one
question share a `group_id`). Fields of `conv`: `conversations` (LLaVA style `from` / `value`
turns, the first starting with `<image>`), `kind` (`conversation`, `region`, `fact_check`,
`description`), and `evidence_ids` per turn; a `description` also lists its `sentences`,
each with its `sentence_evidence` (annotation ids) and `sentence_facts`."""


def _images_section(manifest: dict[str, Any], has_image: bool) -> str:
    """Image coverage per source, from the manifest (distinct images the items use)."""
    coverage = manifest.get("counts", {}).get("image_coverage") or {}
    lines = [
        "Items name their image by `image_source` (`coco` or `vg`), `file_name` and `url`. "
        + (
            "Where the build found an image (`msg build --images-dir`, once per folder), it is "
            "embedded in the `image` column; items whose image was missing or rejected have "
            "`image` = null and are listed in `quarantine/images.jsonl` with the reason."
            if has_image
            else "No image is embedded in this build (it was made without `--images-dir`)."
        ),
        "",
    ]
    if coverage:
        lines += [
            "| source | images | embedded | missing | rejected | not searched | items | items "
            "with image |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for source, c in coverage.items():
            cells = [c.get(k, 0) for k in ("images", "embedded", "missing", "rejected")]
            cells += [c.get(k, 0) for k in ("not_searched", "items", "items_embedded")]
            lines.append(f"| {source} | " + " | ".join(str(x) for x in cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip()


EXPORTS = """\
`msg export OUT --format FORMAT --dest DIR` (in the `msg-pipeline` package) writes files for
other tools from this folder:

| format | for | images |
| --- | --- | --- |
| `llava` | LLaVA training JSON (`msg_llava.json`; MSG-Conv, with `--include-mcq` MSG-MCQ too) | \
`image` = `<image_source>/<file_name>` under one image folder: `DIR/images/` for embedded \
images, or `--link-images FOLDER`, filled with symlinks to the `--images-dir` folders |
| `lmms-eval` | an lmms-eval task folder (`msg_mcq/msg_mcq.yaml`, `utils.py`) | embedded \
images; others from the folders in `MSG_IMAGES_DIR` (or `--images-dir`), else one error \
naming the file and the variable |
| `vlmevalkit` | a VLMEvalKit multiple-choice TSV (`MSG_MCQ.tsv`) | base64 when embedded or \
found in `--images-dir`, else absolute paths that exist; a missing image stops the export \
with the files' names |
"""


def render_card(
    out: Path | FsPath, manifest: dict[str, Any], counts: dict[str, Any]
) -> DatasetCard:
    data = card_data(out, counts)
    has_image = any(
        IMAGE_COLUMN in parquet_file(files[0]).schema_arrow.names
        for cfg in CONFIGS.values()
        if (files := shard_files(out, cfg))
    )
    body = "\n\n".join(
        [
            f"# {PRETTY_NAME}",
            "MSG measures and improves the **semantic grounding** of vision-language models: "
            "whether a model connects words to what is really in the image (which object, its "
            "colour, material, number, action and position). **MSG-MCQ** is an evaluation set "
            "of grounded questions with one verifiably correct answer and verifiably wrong "
            "distractors; **MSG-Conv** is a fine-grained instruction-tuning set on images that "
            "never appear in MSG-MCQ.",
            "## Use\n\n" + _usage_section(has_image),
            "## Images\n\n" + _images_section(manifest, has_image),
            "## Exports\n\n" + EXPORTS.rstrip(),
            "## Contents\n\n" + _counts_section(counts),
            *([f"## Release selection\n\n{r}"] if (r := release_section(manifest)) else []),
            "## How it was built\n\n" + _build_section(manifest),
            "## Label rules\n\n" + LABEL_RULES,
            "## Known limitations\n\n" + LIMITATIONS,
            "## License\n\n" + LICENSE_TEXT,
            "## Citation\n\n" + CITATIONS,
        ]
    )
    return DatasetCard(f"---\n{data.to_yaml()}\n---\n\n{body.rstrip()}\n")


def write_dataset_card(
    out: Path | FsPath, manifest: dict[str, Any], counts: dict[str, Any] | None = None
) -> Path | FsPath:
    """Write `out/README.md` from the shards in `out/data/` and the manifest's build facts
    (package/rules/schema versions, seed, command, inputs). `counts` defaults to counts read
    from the shards (see `counts.shard_counts`)."""
    counts = counts if counts is not None else shard_counts(out)
    card = render_card(out, manifest, counts)
    path = out / "README.md"
    target = location(path)
    tmp = target.with_name(".README.md.tmp")
    tmp.write_bytes(str(card).encode("utf-8"))
    tmp.replace(target)
    return path
