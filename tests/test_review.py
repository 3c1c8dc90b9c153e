"""Issue 20: the human review round. Figures (Wilson, kappa, consensus), the page on the real
sample, import with bad lines, and exclusions fed back into a build."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.review.figures import cohen_kappa, tally, wilson
from pipeline.review.verdicts import Verdict, consensus


def page_data(html: str) -> dict:
    return json.loads(re.search(r'id="review-data">(.*?)</script>', html, re.S).group(1))


def test_wilson_interval_matches_the_formula_by_hand():
    lo, hi = wilson(1, 10)
    # Wilson 95% of 1/10, as tabulated (Newcombe 1998, method 3): 0.0179 - 0.4042.
    assert lo == pytest.approx(0.0179, abs=1e-4) and hi == pytest.approx(0.4042, abs=1e-4)
    assert wilson(0, 0) is None
    assert wilson(0, 20)[0] == 0.0 and wilson(20, 20)[1] == 1.0


def test_kappa_and_consensus():
    assert cohen_kappa(["correct", "wrong"], ["correct", "wrong"])["kappa"] == 1.0
    # Observed 0.5; each says correct half the time: expected 0.5, kappa 0.
    k = cohen_kappa(["correct", "wrong"], ["wrong", "correct"])
    assert k["observed"] == 0.0 and k["kappa"] == pytest.approx(-1.0)
    assert cohen_kappa(["correct"] * 3, ["correct"] * 3)["kappa"] is None

    def v(verdict: str, who: str) -> Verdict:
        return Verdict("mcq-x", verdict, "", who, "f:1")

    assert consensus([v("correct", "a"), v("wrong", "b")]) == "wrong"  # a tie: the graver
    assert consensus([v("correct", "a"), v("correct", "b"), v("wrong", "c")]) == "correct"
    t = tally(["wrong", "correct", "correct", "ambiguous"])
    assert t["reviewed"] == 4 and t["error_rate"] == 0.25 and t["ambiguous"] == 1


@pytest.fixture(scope="module")
def review_build(real_build: Path, tmp_path_factory) -> Path:
    """A copy of the real build (the import writes into it)."""
    out = tmp_path_factory.mktemp("review") / "out"
    shutil.copytree(real_build, out)
    return out


@pytest.fixture(scope="module")
def review_page(review_build: Path, sample_data: Path) -> tuple[Path, dict]:
    from pipeline.review.run import write_review_page

    dest = review_build.parent / "page"
    result = write_review_page(
        review_build, dest, 120, 0, images_dir=sample_data / "coco" / "val2017"
    )
    return dest / "review.html", result


def test_page_on_the_real_sample_is_self_contained(review_page, review_build):
    path, result = review_page
    html = path.read_text(encoding="utf-8")
    data = page_data(html)
    assert len(data["items"]) == 120 == len(result["items"])
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched
    assert all(uri.startswith("data:image/jpeg;base64,") for uri in data["images"])
    items = {i["id"]: i for i in pq.read_table(review_build / "data" / "mcq").to_pylist()}
    strata = {(items[i]["aspect"], items[i]["form"]) for i in result["sampled"]}
    assert len(strata) >= 8  # every (aspect, form) with images gets its share
    for card in data["items"]:
        item = items[card["id"]]
        assert card["question"] == item["question"] and card["answer"] == item["answer"]
        cited = {e[0] for e in card["evidence"]}
        assert set(item["evidence_ids"]) <= cited
        assert len([b for b in card["boxes"] if b["kind"] == "referent"]) == len(
            item["referent_object_ids"]
        )
        assert card["id"] in html


def test_page_is_deterministic_and_aspects_filter(review_page, review_build, sample_data, cli):
    from pipeline.review.run import write_review_page

    again = review_build.parent / "again"
    write_review_page(review_build, again, 120, 0, images_dir=sample_data / "coco" / "val2017")
    assert (again / "review.html").read_bytes() == review_page[0].read_bytes()
    code, _, err = cli("review", review_build, "--sample", 5, "--aspect", "colour", "--dest", again)
    assert code == 2 and "unknown --aspect colour" in err
    result = write_review_page(
        review_build, again, 10, 1, ["number"], images_dir=sample_data / "coco" / "val2017"
    )
    cards = page_data((again / "review.html").read_text(encoding="utf-8"))["items"]
    assert cards and {c["aspect"] for c in cards} == {"number"}
    assert len(cards) == len(result["items"])


def test_import_names_bad_lines_and_computes_rates(review_page, review_build, tmp_path, cli):
    ids = page_data(review_page[0].read_text(encoding="utf-8"))["items"]
    ids = [c["id"] for c in ids]
    verdicts = ["wrong", "correct", "correct", "ambiguous", "correct", "wrong", "unanswerable"]
    lines = [
        json.dumps({"id": i, "verdict": v, "note": "", "reviewer": "ann"})
        for i, v in zip(ids, verdicts, strict=False)
    ]
    lines.insert(3, '{"id": "' + ids[9] + '", "verdict": "correct"')  # cut off: not JSON
    one = tmp_path / "ann.jsonl"
    one.write_text("\n".join(lines) + "\n", encoding="utf-8")
    excl = tmp_path / "exclude.txt"
    assert cli("audit", review_build)[0] == 0
    selection = review_page[0].parent / "selection.json"
    code, out, err = cli(
        "review",
        review_build,
        "--import",
        one,
        "--write-exclusions",
        excl,
        "--selection",
        selection,
    )
    assert code == 0, err
    assert f"{one}:4: not JSON" in err
    review = json.loads((review_build / "audit" / "metrics.json").read_text())["human_review"]
    overall = review["overall"]
    assert overall["reviewed"] == 7 and overall["wrong"] == 2
    assert overall["error_rate"] == pytest.approx(2 / 7, abs=1e-6)
    assert overall["ci95"] == wilson(2, 7)
    assert sum(a["overall"]["reviewed"] for a in review["by_aspect"].values()) == 7
    sampled = set(json.loads(selection.read_text())["sampled"])
    judged = dict(zip(ids, verdicts, strict=False))
    mine = [v for i, v in judged.items() if i in sampled]
    assert review["sampled_only"]["reviewed"] == len(mine)
    assert review["sampled_only"]["wrong"] == mine.count("wrong")
    listed = set(excl.read_text().split()) - {"#"}
    assert {ids[0], ids[5], ids[3]} <= listed and ids[6] not in listed
    report = (review_build / "audit" / "report.html").read_text(encoding="utf-8")
    section = report.split("<!--human-review-->")[1]
    assert "Human review" in section and ids[0] in section and ids[1] not in section
    assert cli("audit", review_build)[0] == 0  # a re-run of the audit keeps the verdicts
    again = json.loads((review_build / "audit" / "metrics.json").read_text())["human_review"]
    assert again == review
    code, _, err = cli("validate", review_build)
    assert code == 0, err  # the manifest lists the rewritten audit files


def test_exclusions_drop_items_from_the_next_build(small, build, tmp_path):
    first = build(small, "first")
    items = pq.read_table(first / "data" / "mcq").to_pylist()
    gone = sorted(i["id"] for i in items)[:2]
    listing = tmp_path / "exclude.txt"
    listing.write_text("# judged wrong\n" + "\n".join(gone) + "\n")
    second = build(small, "second", exclude_items=listing)
    kept = {i["id"] for i in pq.read_table(second / "data" / "mcq").to_pylist()}
    assert not set(gone) & kept
    manifest = json.loads((second / "manifest.json").read_text())
    listed = [i for i in manifest["inputs"] if i["kind"] == "exclusions"]
    assert [i["path"] for i in listed] == [str(listing)]
    skipped = manifest["counts"]["mcq"]["skipped"]
    assert sum(n for k, n in skipped.items() if k.endswith(":excluded_by_review")) == 2


def test_a_bad_exclusion_line_is_named(small, build, tmp_path):
    from pipeline.errors import InputError

    listing = tmp_path / "exclude.txt"
    listing.write_text("mcq-0123456789abcdef\nnot-an-id\n")
    with pytest.raises(InputError, match="line 2"):
        build(small, "bad", exclude_items=listing)
