"""The results chart: objective per trial with the best so far, the Pareto front of the first two
objectives when there are several, and each parameter against the objective.

Byte-for-byte deterministic for the same result and matplotlib version (fixed size and dpi,
default style, no software or date metadata), so an unchanged experiment produces no git diff.
"""

from __future__ import annotations

import io
import math

from results.model import ExperimentResult, Scalar, TrialResult, objective_value

FIGURE_WIDTH_IN = 10.0
PANEL_HEIGHT_IN = 3.6
DPI = 100


def _completion_order(trials: tuple[TrialResult, ...]) -> list[TrialResult]:
    # Trials without a completion time (local runs may omit it) go last, by name.
    return sorted(trials, key=lambda t: (t.completed_at is None, t.completed_at or "", t.name))


def _is_number(value: Scalar) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _label(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _plot_progress(ax, result: ExperimentResult) -> None:
    objective = result.objective
    points = [
        (i, v)
        for i, t in enumerate(_completion_order(result.trials), start=1)
        if (v := objective_value(t, objective)) is not None
    ]
    ax.set_title(f"{objective.metric} per trial (completion order)")
    ax.set_xlabel("trial")
    ax.set_ylabel(objective.metric)
    if not points:
        ax.text(
            0.5,
            0.5,
            f"no trial reported {objective.metric}",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        return
    xs, ys = zip(*points, strict=True)
    pick = min if objective.type == "minimize" else max
    best_so_far = [pick(ys[: i + 1]) for i in range(len(ys))]
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.plot(xs, ys, "o", color="tab:blue", label="trial")
    ax.step(xs, best_so_far, where="post", color="tab:orange", label="best so far")
    if objective.goal is not None:
        ax.axhline(objective.goal, color="tab:green", linestyle="--", label="goal")
    ax.legend(loc="best")


def _plot_parameter(ax, result: ExperimentResult, name: str) -> None:
    objective = result.objective
    pairs = [
        (t.parameters[name], v)
        for t in result.trials
        if name in t.parameters and (v := objective_value(t, objective)) is not None
    ]
    ax.set_title(f"{name} vs {objective.metric}")
    ax.set_xlabel(name)
    ax.set_ylabel(objective.metric)
    if not pairs:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        return
    xs = [x for x, _ in pairs]
    ys = [y for _, y in pairs]
    if all(_is_number(x) for x in xs):
        positive = [float(x) for x in xs if x > 0]
        # Learning rates and the like span decades: a log axis shows them evenly.
        if len(positive) == len(xs) and max(positive) / min(positive) >= 100:
            ax.set_xscale("log")
        ax.scatter(xs, ys, color="tab:blue")
    else:
        labels = sorted({_label(x) for x in xs})
        position = {label: i for i, label in enumerate(labels)}
        ax.scatter([position[_label(x)] for x in xs], ys, color="tab:blue")
        ax.set_xticks(range(len(labels)), labels)
        ax.set_xlim(-0.5, len(labels) - 0.5)
    best = result.best_trial
    if best is not None and name in best.parameters:
        bx = best.parameters[name]
        if not all(_is_number(x) for x in xs):
            bx = sorted({_label(x) for x in xs}).index(_label(bx))
        ax.scatter(
            [bx],
            [objective_value(best, objective)],
            color="tab:red",
            marker="*",
            s=160,
            label="best",
            zorder=3,
        )
        ax.legend(loc="best")


def _plot_front(ax, result: ExperimentResult) -> None:
    """Every trial on the first two objectives, the Pareto front joined and marked."""
    first, second = result.objectives[0], result.objectives[1]
    points = [
        (a, b)
        for t in result.trials
        if (a := objective_value(t, first)) is not None
        and (b := objective_value(t, second)) is not None
    ]
    ax.set_title(f"{first.metric} vs {second.metric}: the Pareto front")
    ax.set_xlabel(f"{first.metric} ({first.type})")
    ax.set_ylabel(f"{second.metric} ({second.type})")
    if not points:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        return
    ax.scatter(*zip(*points, strict=True), color="tab:blue", label="trial")
    front = [(objective_value(t, first), objective_value(t, second)) for t in result.pareto_front]
    ax.plot(*zip(*front, strict=True), "-*", color="tab:red", markersize=12, label="Pareto front")
    ax.legend(loc="best")


def render_chart(result: ExperimentResult) -> bytes:
    """PNG bytes of the chart for `result`."""
    import matplotlib.style
    from matplotlib.figure import Figure

    names = sorted({n for t in result.trials for n in t.parameters})
    front = 1 if result.objectives and result.pareto_front else 0
    panels = 1 + front + len(names)
    columns = 1 if panels == 1 else 2
    rows = math.ceil(panels / columns)
    with matplotlib.style.context("default"):
        # Figure, not pyplot: no global figure registry, so concurrent writers cannot collide.
        figure = Figure(figsize=(FIGURE_WIDTH_IN, PANEL_HEIGHT_IN * rows), dpi=DPI)
        axes = figure.subplots(rows, columns, squeeze=False).flatten()
        _plot_progress(axes[0], result)
        if front:
            _plot_front(axes[1], result)
        for ax, name in zip(axes[1 + front :], names, strict=False):
            _plot_parameter(ax, result, name)
        for ax in axes[panels:]:
            ax.set_visible(False)
        status = "FAILED" if result.failed else result.status
        figure.suptitle(f"{result.experiment} ({status})")
        # Fixed margins (in inches) instead of tight_layout: as readable, and half the time.
        height = PANEL_HEIGHT_IN * rows
        figure.subplots_adjust(
            left=0.08,
            right=0.97,
            top=1 - 0.7 / height,
            bottom=0.6 / height,
            hspace=0.45,
            wspace=0.25,
        )
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
