"""Print the blind (text-only) leakage table of a build as markdown.

    python -m benchmarks.leakage_table OUT [--folds 5] [--seed SEED]

One row per (aspect, form): items, chance, attack a (answer prior) and attack b (option
prior) accuracy, and leakage = the better attack minus chance, all in percent; then the
item-weighted overall row. The same figures `msg audit` writes to metrics.json (same folds;
the seed defaults to the build's own, as in the audit). Used for the before/after tables of
docs/audit.md."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.audit.gates import load_settings
from pipeline.audit.leakage import blind_leakage, markdown_table
from pipeline.evaluate.score import load_items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output folder of `msg build`")
    parser.add_argument("--folds", type=int, default=load_settings()["checks"]["blind_folds"])
    parser.add_argument("--seed", type=int, default=None, help="default: the build's seed")
    args = parser.parse_args(argv)
    seed = args.seed
    if seed is None:
        manifest = json.loads((args.out / "manifest.json").read_text(encoding="utf-8"))
        seed = int(manifest.get("seed", 0) or 0)
    print(markdown_table(blind_leakage(load_items(args.out), args.folds, seed)), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
