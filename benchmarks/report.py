"""Results on disk: one JSON per machine (sections merged across runs), a markdown table, and a
PNG bar chart drawn with OpenCV (no plotting dependency)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"  # one sub-folder per machine


def save(name: str, result: dict, text: str, folder: Path) -> None:
    """Write ``<name>.json`` (the whole result) and ``<name>.md`` (its table) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    (folder / f"{name}.md").write_text(text)


def merge(path: Path, machine: dict, sections: dict) -> dict:
    """Replace the sections just measured, keep the others from earlier runs."""
    results = json.loads(path.read_text()) if path.is_file() else {"sections": {}}
    results["machine"] = machine
    results["sections"].update(sections)
    path.write_text(json.dumps(results, indent=1) + "\n")
    return results


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def _conditions(section: dict) -> list[str]:
    load = section["load"]
    before, after = load["before"], load["after"]
    busy = "; ".join(before["busiest"]) or "nothing above 5 % of a core"
    others = [s.get("others_cpu_percent") for s in (before, after)]
    return [f"Measured {section['when']} in {section['seconds']:.0f} s; load average "
            f"{before['loadavg'][0]} before, {after['loadavg'][0]} after; other processes used "
            f"{others[0]} % and {others[1]} % of one core in 1-s samples before and after. "
            f"Busiest at the start: {busy}.", ""]


def markdown(results: dict) -> str:
    machine, sections = results["machine"], results["sections"]
    lines = [f"# vidcolor benchmarks: {machine['slug']}", "",
             f"{machine['cpu']}, {machine['cores']} usable cores, GPU: {machine['gpu'] or 'none'}; "
             f"torch {machine['torch']}, onnxruntime {machine['onnxruntime']}, "
             f"tensorrt {machine['tensorrt']}, PyAV {machine['av']}.", "",
             "fps: best = fastest call (what the hardware does when nothing else runs), "
             "median = typical under the load of the moment.", ""]
    if "model" in sections:
        s = sections["model"]
        m = s["result"]["model"]
        lines += ["## Model only", "", f"Weights: {m['weights']}; {m['params_m']} M parameters, "
                  f"{m['gflops']} GFLOPs per frame at the measured size.", ""]
        lines += _table(["engine", "precision", "threads", "calls at once", "batch", "size",
                         "fps best", "fps median"],
                        [[r["engine"], r["precision"], r["threads"], r.get("concurrent_calls", 1),
                          r["batch"],
                          f"{r['size']}²", r["best_fps"], r["median_fps"]]
                         for r in s["result"]["rows"]])
        lines += ["With several calls at once, fps counts the frames of all of them; a call's "
                  "time is that of the slowest.", ""]
        lines += _conditions(s)
    if "peers" in sections:
        s = sections["peers"]
        lines += ["## Peer architectures (random weights, same engine: "
                  f"{s['result']['engine']} on {s['result']['device']}, batch 1)", ""]
        lines += _table(["network", "size", "params M", "GFLOPs", "fps best", "fps median",
                         "vidcolor fps at that size", "vidcolor faster (same size)",
                         "vidcolor faster (each at own size)"],
                        [[r["net"], f"{r['size']}²", r["params_m"], r["gflops"], r["best_fps"],
                          r["median_fps"], r.get("ours_fps_same_size", ""),
                          r.get("speedup_same_size", ""), r.get("speedup_native_sizes", "")]
                         for r in s["result"]["rows"]])
        lines += _conditions(s)
    if "pipeline" in sections:
        s = sections["pipeline"]
        codec = s["result"]["codec"]
        lines += [f"## Pipeline vs transcode-only ({codec['codec']}, CRF {codec['crf']}, unless "
                  "a row names another codec path)", ""]
        rows = s["result"]["rows"]
        stages = list(rows[0]["ms_per_frame"]) if rows else []
        gpu = any(r.get("gpu_memory_mb") is not None for r in rows)
        lines += _table(["clip", "engine", "infer threads × calls", "model size", "temporal",
                         "codec path",
                         "frames", "transcode fps", "pipeline fps", "ratio",
                         "CPU ms/frame transcode / pipeline"]
                        + (["GPU memory MB"] if gpu else []) + [f"{k} ms" for k in stages],
                        [[r["clip"], r["engine"], _threads(r), r["model_size"],
                          r["temporal"], _codec_path(r, codec), r["frames"], r["transcode_fps"],
                          r["pipeline_fps"], r["ratio"], _cpu(r)]
                         + ([r.get("gpu_memory_mb") or ""] if gpu else [])
                         + [r["ms_per_frame"][k] for k in stages] for r in rows])
        repeats = s["result"].get("repeats", 1)
        best = (f"Each figure is the faster of {repeats} alternating runs (transcode-only and "
                "colorize), with that run's stage times. ") if repeats > 1 else ""
        lines += [best + "Stage ms/frame are busy time per stage; stages run on their own "
                  "threads and overlap, so they add up to more than 1000 / fps. CPU ms/frame "
                  "is the process's CPU time (all threads) per frame.", ""]
        lines += _conditions(s)
    return "\n".join(lines)


def _threads(row: dict) -> str:
    """Inference threads per call, and calls at once where more than one."""
    threads, calls = row["infer_threads"] or "", row.get("infer_calls") or 1
    return f"{threads} × {calls}" if calls > 1 else str(threads)


def _cpu(row: dict) -> str:
    if "pipeline_cpu_ms" not in row:
        return ""
    return f"{row['transcode_cpu_ms']} / {row['pipeline_cpu_ms']}"


def _codec_path(row: dict, default: dict) -> str:
    """How frames were decoded and encoded, e.g. "software, libx264" or "cuda, h264_nvenc"."""
    return f"{row.get('hwdec') or 'software'}, {row.get('codec') or default['codec']}"


def _bars(results: dict) -> list[tuple[str, float, str]]:
    """(label, fps, group) for every bar in the chart."""
    sections, bars = results["sections"], []
    if "model" in sections:
        for r in sections["model"]["result"]["rows"]:
            calls = f"x{r['concurrent_calls']}" if r.get("concurrent_calls", 1) > 1 else ""
            label = f"{r['engine']} {r['precision']} t{r['threads']}{calls} b{r['batch']} {r['size']}px"
            bars.append((label, r["best_fps"], "model"))
    if "peers" in sections:
        for r in sections["peers"]["result"]["rows"]:
            bars.append((f"{r['net']} {r['size']}px", r["best_fps"], "peers"))
    if "pipeline" in sections:
        for r in sections["pipeline"]["result"]["rows"]:
            label = f"{r['clip'][:18]} t{_threads(r).replace(' ', '') or '-'}"
            label += " nv" if r.get("hwdec") else ""
            bars.append((f"{label} transcode", r["transcode_fps"], "transcode"))
            bars.append((f"{label} colorize", r["pipeline_fps"], "pipeline"))
    return bars


COLORS = {"model": (200, 120, 40), "peers": (60, 60, 200), "transcode": (150, 150, 150),
          "pipeline": (60, 160, 60)}  # BGR


def chart(results: dict, path: Path) -> Path:
    """Horizontal bars of fps on a log scale (peers and model differ by orders of magnitude)."""
    bars = _bars(results)
    row, left, width = 22, 330, 560
    image = np.full((row * len(bars) + 60, left + width + 90, 3), 255, np.uint8)
    top = max((fps for _, fps, _ in bars), default=1.0)
    low = min((fps for _, fps, _ in bars if fps > 0), default=0.1) / 2
    scale = width / max(np.log10(top / low), 1e-6)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(image, f"{results['machine']['slug']}: frames per second (log scale)",
                (10, 22), font, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    for i, (label, fps, group) in enumerate(bars):
        y = 40 + i * row
        length = int(scale * np.log10(max(fps, low) / low))
        cv2.rectangle(image, (left, y), (left + length, y + row - 6), COLORS[group], -1)
        cv2.putText(image, label, (8, y + 12), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(image, f"{fps:g}", (left + length + 5, y + 12), font, 0.4, (0, 0, 0), 1,
                    cv2.LINE_AA)
    cv2.imwrite(str(path), image)
    return path
