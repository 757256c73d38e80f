"""The results chart: objective per trial with the best so far, the Pareto front of the first two
objectives when there are several, and each parameter against the objective.

Each parameter is drawn on the scale it was searched on, as the definition's search space says:
a log-distributed one (learning rates) on a log axis, a categorical or discrete one as its
listed values, evenly spaced and labelled in the definition's order. Under hpo-asha each rung
has its own colour, and the best so far follows the top rung, the only one whose values compare.

Byte-for-byte deterministic for the same result and matplotlib version (fixed size and dpi,
default style, no software or date metadata), so an unchanged experiment produces no git diff.
"""

from __future__ import annotations

import io
import math

from results.model import ExperimentResult, Scalar, TrialResult, objective_value
from suggestion.space import CHOICE_KINDS, Parameter

# Katib's log distributions: their values are spread over decades, and a log axis shows that.
LOG_DISTRIBUTIONS = ("logUniform", "logNormal")

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


def _rungs(result: ExperimentResult) -> list[tuple[int | None, str | None, str]]:
    """(rung, legend label, colour) of each group of trials drawn apart: one per rung under
    hpo-asha, the top rung in the colour every other algorithm's trials have."""
    if result.asha is None:
        return [(None, None, "tab:blue")]
    top = result.asha.rungs - 1
    palette = ["tab:gray", "tab:cyan", "tab:purple", "tab:olive", "tab:brown", "tab:pink"]
    return [
        (k, f"rung {k}", "tab:blue" if k == top else palette[k % len(palette)])
        for k in range(top + 1)
    ]


def _plot_progress(ax, result: ExperimentResult) -> None:
    objective = result.objective
    top = None if result.asha is None else result.asha.rungs - 1
    placed = [
        (i, v, t.rung)
        for i, t in enumerate(_completion_order(result.trials), start=1)
        if (v := objective_value(t, objective)) is not None
    ]
    # Under hpo-asha only the top rung's values are results to compare: the best so far is theirs.
    points = [(i, v) for i, v, rung in placed if top is None or rung == top]
    ax.set_title(f"{objective.metric} per trial (completion order)")
    ax.set_xlabel("trial")
    ax.set_ylabel(objective.metric)
    if not placed:
        ax.text(
            0.5,
            0.5,
            f"no trial reported {objective.metric}",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        return
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for rung, label, colour in _rungs(result):
        shown = [(i, v) for i, v, r in placed if rung is None or r == rung]
        if shown:
            ax.plot(*zip(*shown, strict=True), "o", color=colour, label=label or "trial")
    if points:
        xs, ys = zip(*points, strict=True)
        pick = min if objective.type == "minimize" else max
        best_so_far = [pick(ys[: i + 1]) for i in range(len(ys))]
        label = "best so far" if top is None else "best so far (top rung)"
        ax.step(xs, best_so_far, where="post", color="tab:orange", label=label)
    if objective.goal is not None:
        ax.axhline(objective.goal, color="tab:green", linestyle="--", label="goal")
    ax.legend(loc="best")


def _categories(parameter: Parameter | None, xs: list[Scalar]) -> list[str] | None:
    """The labels of a parameter drawn as categories, in order; None for a numeric axis.
    Listed values keep the definition's order, numbers or not; a parameter the search space
    does not name is drawn as categories only when its values are not all numbers."""
    if parameter is not None and parameter.kind in CHOICE_KINDS:
        labels = [_label(v) for v in parameter.values]
        return labels + sorted({_label(x) for x in xs} - set(labels))
    if parameter is None and not all(_is_number(x) for x in xs):
        return sorted({_label(x) for x in xs})
    return None


def _plot_parameter(ax, result: ExperimentResult, name: str) -> None:
    objective = result.objective
    triples = [
        (t.parameters[name], v, t.rung)
        for t in result.trials
        if name in t.parameters and (v := objective_value(t, objective)) is not None
    ]
    ax.set_title(f"{name} vs {objective.metric}")
    ax.set_xlabel(name)
    ax.set_ylabel(objective.metric)
    if not triples:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        return
    parameter = result.space.get(name)
    labels = _categories(parameter, [x for x, _, _ in triples])
    if labels is None:
        if parameter is not None and parameter.distribution in LOG_DISTRIBUTIONS:
            ax.set_xscale("log")

        def place(x: Scalar) -> Scalar:
            return x
    else:
        position = {label: i for i, label in enumerate(labels)}
        ax.set_xticks(range(len(labels)), labels)
        ax.set_xlim(-0.5, len(labels) - 0.5)

        def place(x: Scalar) -> Scalar:
            return position[_label(x)]

    for rung, label, colour in _rungs(result):
        shown = [(place(x), y) for x, y, r in triples if rung is None or r == rung]
        if shown:
            ax.scatter(*zip(*shown, strict=True), color=colour, label=label)
    best = result.best_trial
    if best is not None and name in best.parameters:
        bx = place(best.parameters[name])
        ax.scatter(
            [bx],
            [objective_value(best, objective)],
            color="tab:red",
            marker="*",
            s=160,
            label="best",
            zorder=3,
        )
    if (best is not None and name in best.parameters) or result.asha is not None:
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


def _draw(result: ExperimentResult):
    """The chart's Figure: the progress panel, the front, then one panel per parameter, by name."""
    from matplotlib.figure import Figure

    names = sorted({n for t in result.trials for n in t.parameters})
    front = 1 if result.objectives and result.pareto_front else 0
    panels = 1 + front + len(names)
    columns = 1 if panels == 1 else 2
    rows = math.ceil(panels / columns)
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
    return figure


def chart_figure(result: ExperimentResult):
    """The chart as a matplotlib Figure, drawn in the default style (what `render_chart`
    saves), for a reader that wants its axes rather than its pixels."""
    import matplotlib.style

    with matplotlib.style.context("default"):
        return _draw(result)


def render_chart(result: ExperimentResult) -> bytes:
    """PNG bytes of the chart for `result`."""
    import matplotlib.style

    with matplotlib.style.context("default"):
        figure = _draw(result)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
