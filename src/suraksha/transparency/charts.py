"""Trend charts as PNG bytes (matplotlib, Agg backend: no display, safe in a server thread).

Each chart is drawn on its own ``Figure`` object (not pyplot's global state), so two requests
drawing at once cannot paint on each other's chart.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure as MplFigure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from suraksha.transparency.figures import Figures  # noqa: E402
from suraksha.transparency.summary import CommissionSummary  # noqa: E402


def _png(fig: MplFigure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def _bars(labels: list[str], series: dict[str, list[float]], title: str, ylabel: str) -> bytes:
    fig = MplFigure(figsize=(8, 3.4))
    ax = fig.subplots()
    n = max(len(series), 1)
    width = 0.8 / n
    xs = range(len(labels))
    for k, (name, values) in enumerate(series.items()):
        ax.bar([x + (k - (n - 1) / 2) * width for x in xs], values, width, label=name)
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, rotation=45 if len(labels) > 8 else 0, ha="right" if len(labels) > 8 else "center", fontsize=8)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of items: no 2.5 posts
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def trend_chart(f: Figures) -> bytes:
    """Identified, removed and reported items per period."""
    labels = [p.label for p in f.periods]
    return _bars(
        labels,
        {
            "identified": [p.identified for p in f.periods],
            "removed": [p.removed for p in f.periods],
            "reported": [p.items_reported for p in f.periods],
        },
        "Items identified, removed and reported",
        "items",
    )


def automation_chart(f: Figures) -> bytes:
    """Share of identified items found by automated tools, per period (percent)."""
    fig = MplFigure(figsize=(8, 3))
    ax = fig.subplots()
    labels = [p.label for p in f.periods]
    values = [None if p.automated_share is None else p.automated_share * 100 for p in f.periods]
    ax.plot(range(len(labels)), [float("nan") if v is None else v for v in values], marker="o")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=45 if len(labels) > 8 else 0, ha="right" if len(labels) > 8 else "center", fontsize=8)
    ax.set_ylim(0, 105)
    ax.set_ylabel("% found by automated tools")
    ax.set_title("Found by automated tools")
    ax.grid(alpha=0.3)
    return _png(fig)


def summary_chart(s: CommissionSummary) -> bytes:
    """Posts depicting child sexual abuse or rape: identified, deleted, reported per year."""
    return _bars(
        [r.period for r in s.years],
        {
            "identified": [r.identified for r in s.years],
            "deleted": [r.deleted for r in s.years],
            "reported": [r.reported for r in s.years],
        },
        "Child sexual abuse and rape material",
        "posts",
    )
