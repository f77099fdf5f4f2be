"""Presenting an evaluation: a plain-text table, results.json and chart.png. No Qt, no printing.

Every function takes an :class:`~desktop_rag.core.eval.harness.EvalResult` or the dict of its
``to_json()`` (what results.json holds), so a front end can show a saved run as well as a fresh one.
The chart is drawn with matplotlib's Agg canvas directly (no pyplot), which changes no global
backend and is safe off the GUI thread.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from desktop_rag.core.eval.answers import CONTEXT_METRICS
from desktop_rag.core.eval.harness import LEVELS, EvalResult
from desktop_rag.core.types import RetrievalMode

CHART_METRICS: tuple[str, ...] = ("hit@1", "hit@5", "hit@10", "recall@10", "mrr@10", "ndcg@10")
RESULTS_NAME, CHART_NAME = "results.json", "chart.png"
_SHORT = {"precision": "p", "recall": "r"}
MODE_COLOURS = {RetrievalMode.DENSE: 0, RetrievalMode.KEYWORD: 1, RetrievalMode.HYBRID: 2}  # tab10 indices
HATCHES = ("", "//", "..", "xx", "\\\\", "oo")
ANSWER_COLUMNS = ("answer_accuracy", "wrong_answers_flagged", "right_answers_flagged", "token_f1", "rouge_l", "bleu-1",
                  "bleu-4", "citation_precision@document", "citation_precision@page")


def as_json(result: EvalResult | Mapping[str, Any]) -> Mapping[str, Any]:
    return result.to_json() if isinstance(result, EvalResult) else result


def _short(name: str) -> str:
    head, _, k = name.partition("@")
    return f"{_SHORT.get(head, head)}@{k}"


def _grid(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def level_table(data: Mapping[str, Any], level: str) -> list[str]:
    """Lines of one level's table: a row per variant and mode, a column per metric."""
    names = data["metric_names"]
    rows: list[list[str]] = [["variant", "mode", *(_short(n) for n in names)]]
    for variant, modes in data["metrics"].items():
        for mode, levels in modes.items():
            values = levels.get(level)
            if values:
                rows.append([variant, mode, *(f"{values[n]:.3f}" for n in names)])
    if len(rows) == 1:
        return []
    count = data["levels"].get(level, 0)
    return [f"{level.capitalize()} level ({count} question{'s' if count != 1 else ''})", *_grid(rows)]


def answers_table(data: Mapping[str, Any]) -> list[str]:
    answers = data.get("answers")
    if not answers or not answers.get("count"):
        return []
    metrics = answers["metrics"]
    columns = [c for c in ANSWER_COLUMNS if c in metrics]
    head = (f"Answers ({answers['count']} answered with {answers['mode']} retrieval on {answers['variant']}; "
            f"{answers['without_citations']} without citations, {answers['errors']} errors)")
    return [head, *_grid([[" ", " ", *columns], [" ", " ", *(f"{metrics[c]:.3f}" for c in columns)]])]


def context_table(data: Mapping[str, Any]) -> list[str]:
    context = data.get("context")
    if not context or not context.get("count"):
        return []
    metrics = context["metrics"]
    counts = context.get("counts") or {"context_recall": context["count"]}  # results saved before pages were scored
    figures, pages = counts.get("context_recall", 0), counts.get("first_quote_on_gold_page", 0)
    head = (f"Context and quotes ({context['mode']} retrieval on {context['variant']}; {figures} questions with "
            f"gold figures: is one among the passages given to the model, and in the quotes? {pages} with gold "
            f"pages: does the first quote come from one?)")
    names = [n for n in CONTEXT_METRICS if n in metrics]
    foot = ["quote_accuracy_scaled also counts a quoted table row in its table's unit (14,158 in millions for "
            "$14.2 billion)"] if "quote_accuracy_scaled" in metrics else []
    return [head, *_grid([names, [f"{metrics[n]:.3f}" for n in names]]), *foot]


def generation_lines(data: Mapping[str, Any]) -> list[str]:
    gen = data.get("generation")
    if not gen:
        return []
    dropped = ", ".join(f"{k} {v}" for k, v in sorted(gen.get("rejected", {}).items())) or "none"
    lines = [f"Generated {gen['kept']} questions from {gen['attempted']} sampled passages "
             f"({gen['method']}; rejected: {dropped}) in {gen['seconds']:.1f} s"]
    for method, part in gen.get("metrics_by_method", {}).items():
        cells = []
        for variant, modes in part["metrics"].items():
            for mode, levels in modes.items():
                page = levels.get("page", {})
                cells.append(f"{mode} {page.get('hit@5', 0):.2f}/{page.get('mrr@10', 0):.2f}")
            lines.append(f"  {part['count']} {method} questions, {variant}, page hit@5/mrr@10: " + ", ".join(cells))
            cells = []
    return lines


def format_table(result: EvalResult | Mapping[str, Any]) -> str:
    """The whole report as text: one table per level, answer metrics, what was skipped."""
    data = as_json(result)
    blocks = [generation_lines(data)] + [level_table(data, level) for level in LEVELS]
    blocks += [context_table(data), answers_table(data)]
    if data["skipped"]:
        blocks.append([f"Skipped {len(data['skipped'])} question(s), not counted in the metrics:"]
                      + [f"  line {s['line']}: {s['reason']}" for s in data["skipped"]])
    return "\n\n".join("\n".join(b) for b in blocks if b)


def render_chart(result: EvalResult | Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """A PNG with one panel per level: grouped bars of the main metrics for every variant and mode."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    data = as_json(result)
    levels = [lv for lv in LEVELS if data["levels"].get(lv)]
    variants = list(data["metrics"])
    series = [(f"{variant} / {mode}", levels_of, _style(variants.index(variant), mode))
              for variant, modes in data["metrics"].items() for mode, levels_of in modes.items()]
    fig = Figure(figsize=(13, 4.2 * max(len(levels), 1)), dpi=100)
    FigureCanvasAgg(fig)
    for row, level in enumerate(levels or ["document"], 1):
        ax = fig.add_subplot(max(len(levels), 1), 1, row)
        width = 0.8 / max(len(series), 1)
        for i, (label, by_level, style) in enumerate(series):
            values = [by_level.get(level, {}).get(name, 0.0) for name in CHART_METRICS]
            xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(CHART_METRICS))]
            ax.bar(xs, values, width, label=label, edgecolor="white", linewidth=0.5, **style)
        ax.set_xticks(range(len(CHART_METRICS)), CHART_METRICS)
        ax.set_ylim(0, 1.02)
        count = data["levels"].get(level, 0)
        ax.set_title(f"{level} level, {count} {data['kind']} question{'s' if count != 1 else ''}")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    return out


def _style(variant_index: int, mode: str) -> dict[str, Any]:
    """Colour says the retrieval mode, hatching the variant, so like compares with like at a glance."""
    from matplotlib import colormaps

    colour = colormaps["tab10"](MODE_COLOURS.get(mode, 7))
    return {"color": colour, "hatch": HATCHES[variant_index % len(HATCHES)]}


def write_results(result: EvalResult | Mapping[str, Any], out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """``out_dir/results.json`` (written atomically) and ``out_dir/chart.png``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / RESULTS_NAME
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(as_json(result), ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, target)
    return target, render_chart(result, out / CHART_NAME)
