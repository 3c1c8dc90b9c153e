"""A fixed-size MSG-MCQ release (issue 19): `--mcq-size 500` on the real sample gives exactly
500 items, quotas met or named shortfalls, one item per fact, at most 5 per image, the
balance bounds on the release itself, leakage no higher than the pool's, and the same
bytes for 1 and 2 workers and another partition count. `--conv-size` likewise for MSG-Conv."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.audit.leakage import blind_leakage
from pipeline.errors import InputError
from pipeline.mcq.balance import unit_row
from pipeline.mcq.balance_plan import MCQ_ASPECT_SHARE, OPEN_MARGIN, TEXT_SHARE
from pipeline.tables import load_table
from tests.conftest import build_sample, read_manifest

SIZE = 500
PER_IMAGE = 5


def items_of(out: Path, config: str = "mcq") -> list[dict]:
    files = sorted((out / "data" / config).glob("*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


@pytest.fixture(scope="module")
def release(real_inputs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "one"
    return build_sample(real_inputs, out, tuning_fraction=0.0, mcq_size=SIZE)


@pytest.fixture(scope="module")
def release_two_workers(real_inputs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "two"
    return build_sample(
        real_inputs, out, tuning_fraction=0.0, mcq_size=SIZE, workers=2, partitions=5
    )


def test_release_has_exactly_the_size_and_names_its_shortfalls(release):
    items = items_of(release)
    assert len(items) == SIZE
    report = read_manifest(release)["counts"]["mcq"]["release"]
    assert report["size"] == SIZE and report["pool"] > SIZE
    selected = Counter(f"{r['aspect']}/{r['form']}/{r['image_source']}" for r in items)
    assert report["composition"] == dict(sorted(selected.items()))
    for cell, q in report["quotas"].items():
        assert q["selected"] == selected.get(cell, 0)
        assert q["selected"] <= q["available"]
        # a cell below its quota is a named shortfall of exactly the missing items
        missing = q["quota"] - q["selected"]
        assert report["shortfalls"].get(cell, 0) == max(0, missing)
    # the real sample has no relation items: their quota is a shortfall, not a silent zero
    assert any(k.startswith("relation/") for k in report["shortfalls"])


def fact_of(item: dict) -> tuple:
    ids = tuple(item["referent_object_ids"]) or ("name", item["referent_name"])
    value = item["referent_name"] if item["aspect"] == "existence" else item["answer_value"]
    return item["scene_id"], item["aspect"], ids, value


def test_one_item_per_fact_and_at_most_five_per_image(release):
    items = items_of(release)
    facts = Counter(fact_of(r) for r in items)
    assert max(facts.values()) == 1
    per_image = Counter(r["scene_id"] for r in items)
    assert max(per_image.values()) <= PER_IMAGE
    # spread: more images than the fewest that could hold the release
    assert len(per_image) > SIZE / PER_IMAGE


def closed_share(aspect: str, form: str, head_share: float = 0.5) -> float:
    share = min(head_share, TEXT_SHARE.get(form, head_share))
    return min(share, MCQ_ASPECT_SHARE.get(aspect, share)) if form == "mcq" else share


def test_balance_bounds_hold_on_the_release(release):
    items = items_of(release)
    values: dict[str, set] = defaultdict(set)
    for r in items:
        values[r["aspect"]].add(r["answer_value"])
    by_group: dict[tuple, Counter] = defaultdict(Counter)
    for r in items:
        label = r["answer"] if r["form"] in ("mcq", "yes_no") else r["answer_value"]
        by_group[r["aspect"], r["form"]][label] += 1
    for (aspect, form), counts in by_group.items():
        if form in ("fill_blank", "correction"):
            share = 1 / len(values[aspect]) + OPEN_MARGIN
        else:
            share = closed_share(aspect, form)
        n = sum(counts.values())
        head = max(counts.values())
        assert head <= max(1, share * n), (aspect, form, counts)
    # correct positions: round-robin per aspect
    positions: dict[str, Counter] = defaultdict(Counter)
    for r in items:
        if r["form"] == "mcq":
            assert r["options"][r["answer_index"]] == r["answer"]
            positions[r["aspect"]][r["answer_index"]] += 1
    for aspect, spread in positions.items():
        counts = [spread.get(k, 0) for k in range(4)]
        assert max(counts) - min(counts) <= 1, (aspect, counts)
    # yes/no: every asked value as often with yes as with no, per phrasing
    asked: dict[tuple, Counter] = defaultdict(Counter)
    for r in items:
        if r["form"] == "yes_no":
            unit = unit_row(r)
            asked[r["aspect"], unit["frame"], unit["asked"]][r["answer"]] += 1
    assert asked
    for key, counts in asked.items():
        assert counts["yes"] == counts["no"], (key, counts)


def test_release_leaks_no_more_than_the_pool(release, real_build):
    folds = load_table("audit")["checks"]["blind_folds"]
    pool = blind_leakage(items_of(real_build), folds, 0)["overall"]["leakage"]
    ours = blind_leakage(items_of(release), folds, 0)["overall"]["leakage"]
    assert ours <= pool
    reported = read_manifest(release)["release"]["mcq"]["leakage"]["overall"]
    assert reported == ours
    card = (release / "README.md").read_text(encoding="utf-8")
    assert f"overall {100 * ours:+.1f}" in card
    assert f"fixed-size release of **{SIZE} items**" in card


def test_same_bytes_for_one_and_two_workers(release, release_two_workers):
    for config in ("mcq", "conv"):
        one = sorted((release / "data" / config).glob("*.parquet"))
        two = sorted((release_two_workers / "data" / config).glob("*.parquet"))
        assert [p.name for p in one] == [p.name for p in two]
        assert [p.read_bytes() for p in one] == [p.read_bytes() for p in two]
    report = read_manifest(release)["counts"]["mcq"]["release"]
    assert read_manifest(release_two_workers)["counts"]["mcq"]["release"] == report


def test_release_items_come_from_the_pool(release, real_build):
    pool = {r["id"]: r for r in items_of(real_build)}
    for r in items_of(release):
        same = pool[r["id"]]
        assert (r["question"], r["answer"], sorted(r["options"])) == (
            same["question"],
            same["answer"],
            sorted(same["options"]),
        )


# -- errors and MSG-Conv, on the small demo cut ------------------------------------------------
def test_size_larger_than_the_pool_is_a_clear_error(small, build):
    with pytest.raises(InputError, match="larger than the balanced pool"):
        build(small, mcq_size=10**6)


def test_strict_size_makes_a_shortfall_an_error(release, real_inputs, tmp_path):
    assert read_manifest(release)["counts"]["mcq"]["release"]["shortfalls"]
    with pytest.raises(InputError, match="cannot fill every quota"):
        build_sample(
            real_inputs, tmp_path / "strict", tuning_fraction=0.0, mcq_size=SIZE, strict_size=True
        )


def test_circular_release_is_refused(small, build):
    with pytest.raises(InputError, match="circular"):
        build(small, mcq_size=5, circular=True)


def test_conv_size_picks_exactly_m_samples_per_kind_in_proportion(small, build):
    pool = items_of(build(small, "pool", tuning_fraction=1.0), "conv")
    size = len(pool) // 2
    out = build(small, "half", tuning_fraction=1.0, conv_size=size)
    chosen = items_of(out, "conv")
    assert len(chosen) == size
    assert {r["id"] for r in chosen} <= {r["id"] for r in pool}
    share = Counter(r["kind"] for r in pool)
    for kind, n in Counter(r["kind"] for r in chosen).items():
        assert abs(n - size * share[kind] / len(pool)) < 1
    assert read_manifest(out)["counts"]["conv"]["release"]["size"] == size
    assert f"fixed-size release of **{size} samples**" in (out / "README.md").read_text()


def test_aspect_shares_from_the_toml_file(cli, real_inputs, tmp_path):
    config = tmp_path / "release.toml"
    config.write_text(
        "[build]\nmcq_size = 120\nmcq_per_image = 3\n"
        "mcq_aspect_shares = { color = 1, entity = 1 }\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, stdout, err = cli(
        "build",
        "--config",
        config,
        "--coco-instances",
        real_inputs["instances"],
        "--coco-captions",
        real_inputs["captions"],
        "--vg-dir",
        real_inputs["vg_dir"],
        "--tuning-fraction",
        "0",
        "--out",
        out,
    )
    assert code == 0, err
    items = items_of(out)
    aspects = Counter(r["aspect"] for r in items)
    assert len(items) == 120 and set(aspects) == {"color", "entity"}
    assert max(Counter(r["scene_id"] for r in items).values()) <= 3
    assert "release: 120 of a pool of" in stdout
    manifest = read_manifest(out)
    assert manifest["options"]["mcq_aspect_shares"] == {"color": 1, "entity": 1}
    quotas = manifest["counts"]["mcq"]["release"]["quotas"]
    # equal shares: each aspect's first quotas sum to half the size
    for aspect in ("color", "entity"):
        assert sum(q["quota"] for k, q in quotas.items() if k.startswith(aspect + "/")) == 60


def test_unknown_aspect_in_the_shares_is_named():
    from pipeline.mcq.release_plan import aspect_shares

    with pytest.raises(InputError, match="texture"):
        aspect_shares({"texture": 1.0})
    shares = aspect_shares({})
    assert abs(sum(shares.values()) - 1) < 1e-9
    core = load_table("release")["release"]["core_aspects"]
    assert len({round(shares[a], 9) for a in core}) == 1  # the six core aspects: equal


def test_the_documented_9k_toml_is_a_valid_config(tmp_path):
    from pipeline.config import resolve

    text = (Path(__file__).parent.parent / "docs" / "release.md").read_text(encoding="utf-8")
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    config = tmp_path / "release-9k.toml"
    config.write_text(example, encoding="utf-8")
    options = resolve({}, config)
    assert options.mcq_size == 9000 and options.mcq_per_image == 5
    from pipeline.mcq.release_plan import aspect_shares

    shares = aspect_shares(options.mcq_aspect_shares)
    assert abs(sum(shares.values()) - 1) < 1e-9 and shares["color"] == 2 * shares["existence"]


def test_a_release_validates(cli, release):
    code, out, err = cli("validate", release)
    assert code == 0, err
