"""``python -m benchmarks`` / ``vidcolor bench``: run sections, save JSON, markdown and a chart."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import torch

from benchmarks import machine, report

SECTIONS = ("model", "peers", "pipeline")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vidcolor bench", description="Measure vidcolor's speed on this machine.")
    parser.add_argument("--only", action="append", choices=SECTIONS,
                        help="run only this section (repeatable); default: all")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and short timings: checks the bench, measures nothing")
    parser.add_argument("--weights", help="model file (default: the shipped model)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="time per measurement (default 4, quick 0.2)")
    parser.add_argument("--clip", type=Path, action="append",
                        help="real clip for the pipeline section (repeatable; default: three "
                             "of ../shared/data/videos, where present)")
    parser.add_argument("--temporal", default="causal", help="temporal mode for the pipeline")
    parser.add_argument("--out", type=Path, default=None,
                        help="results folder (default benchmarks/results/<machine>)")
    return parser


def _run(section: str, args: argparse.Namespace, seconds: float) -> dict:
    from benchmarks import model as model_bench

    if section == "model":
        return model_bench.run_model(args.weights, quick=args.quick, seconds=seconds)
    if section == "peers":
        return model_bench.run_peers(args.weights, quick=args.quick, seconds=seconds)
    from benchmarks.pipeline import REAL_CLIPS, run_pipeline

    net, _, _ = model_bench.our_model(args.weights)
    return run_pipeline(net, quick=args.quick, real_clips=tuple(args.clip or REAL_CLIPS),
                        temporal=args.temporal)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    seconds = args.seconds or (0.2 if args.quick else 4.0)
    out = args.out or report.RESULTS / machine.machine_slug()
    out.mkdir(parents=True, exist_ok=True)
    name = "results-quick" if args.quick else "results"
    torch_threads = torch.get_num_threads()
    for section in args.only or SECTIONS:
        torch.set_num_threads(torch_threads)  # a CPU torch engine changes it process-wide
        before, start = machine.load_snapshot(), time.perf_counter()
        print(f"bench: {section} ...", flush=True)
        result = _run(section, args, seconds)
        measured = {
            "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "quick": args.quick,
            "seconds": round(time.perf_counter() - start, 1),
            "load": {"before": before, "after": machine.load_snapshot()}, "result": result,
        }
        # Saved section by section: a later section failing keeps what was measured.
        results = report.merge(out / f"{name}.json", machine.describe(), {section: measured})
        (out / f"{name}.md").write_text(report.markdown(results))
        report.chart(results, out / f"{name}.png")
    print(f"bench: results in {out}/{name}.{{json,md,png}}")
    return 0
