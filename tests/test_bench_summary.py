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


def with_driver(run: dict[str, Any], driver_mb: float) -> dict[str, Any]:
    for build in run["builds"]:
        build["peak_driver_rss_mb"] = driver_mb
        if build["workers"] == 2:
            one = next(b for b in run["builds"] if b["workers"] == 1)
            build["speedup"] = round(one["wall_s"] / build["wall_s"], 3)
    return run


def test_issue_21_targets_are_judged_from_the_100k_builds() -> None:
    runs = [
        with_driver(result(10_000, (1, 100.0), (2, 60.0)), 300.0),
        with_driver(result(100_000, (1, 900.0), (2, 450.0)), 390.0),
    ]
    checks = summarize(runs)["target_checks"]
    # build_over_floor is the wall time in these rows: 900 x the floor is far over 20x.
    assert checks["build_over_floor_max_1_worker_at_100k"]["met"] is False
    assert checks["speedup_2_workers_at_100k_min"] == {"measured": 2.0, "limit": 1.8, "met": True}
    assert checks["peak_tree_rss_mb_2_workers_at_100k_max"]["met"] is True
    assert checks["driver_peak_spread_10k_to_100k_max"]["measured"] == 1.3
    assert checks["driver_peak_spread_10k_to_100k_max"]["met"] is False


def test_targets_a_run_cannot_measure_are_left_out() -> None:
    runs = [with_driver(result(n, (1, 10.0), (2, 6.0)), 300.0) for n in (1_000, 10_000)]
    assert summarize(runs)["target_checks"] == {}
