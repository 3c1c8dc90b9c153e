"""The benchmark's summary: ratios computed from the runs it is given (no builds here)."""

from __future__ import annotations

from typing import Any

from benchmarks.run import summarize


def result(images: int, *builds: tuple[int, float]) -> dict[str, Any]:
    rows = []
    for workers, wall in builds:
        row = {"workers": workers, "wall_s": wall, "peak_tree_rss_mb": 500.0}
        row |= {"build_over_floor": wall, "ms_per_image": 1000 * wall / images}
        row["cpu_ms_per_image"] = row["ms_per_image"]
        rows.append(row)
    return {"images": images, "builds": rows}


def test_a_fixed_start_up_shows_as_fixed_seconds_not_as_a_marginal_spread() -> None:
    # 6 s of start-up plus 15 ms per image at every size: per-image cost falls with size,
    # the marginal cost does not.
    runs = [result(n, (1, 6 + 0.015 * n)) for n in (1_000, 10_000, 100_000)]
    summary = summarize(runs)
    assert summary["ms_per_image_spread_w1"] > 1.25
    steps = summary["marginal_ms_per_image_w1"]
    assert [(s["from"], s["to"]) for s in steps] == [(1_000, 10_000), (10_000, 100_000)]
    assert [s["ms_per_image"] for s in steps] == [15.0, 15.0]
    assert summary["marginal_spread_w1"] == 1.0
    assert summary["fixed_s_w1"] == 6.0


def test_a_cost_that_grows_with_size_shows_in_the_marginal_spread() -> None:
    # Quadratic work: each image costs more the more there are.
    runs = [result(n, (1, n * n * 1e-8), (2, n * n * 5e-9)) for n in (1_000, 10_000, 100_000)]
    summary = summarize(runs)
    assert summary["marginal_spread_w1"] > 5 and summary["marginal_spread_w2"] > 5


def test_one_size_gives_no_marginal_figures() -> None:
    summary = summarize([result(1_000, (1, 20.0))])
    assert not any(key.startswith(("marginal", "fixed")) for key in summary)
