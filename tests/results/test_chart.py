"""The chart draws each parameter on the scale it was searched on, whatever the algorithm: a
log-distributed one on a log axis, a categorical or discrete one as its listed values, evenly
spaced and labelled; under hpo-asha each rung apart, the best so far from the top rung.

Read through matplotlib's own objects (scales, ticks, labels, lines), not pixels.
"""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

from results.chart import chart_figure
from results.definition import asha_plan, search_space
from results.katib_objects import result_from_katib
from results.model import Objective, TrialResult, build_result
from suggestion.space import Parameter
from tests.results.conftest import definition_record
from tests.support import katib_asha

LOSS = Objective("train_loss", "minimize")


def _panel(result, name: str):
    """The axes whose title names `name` (a parameter), or the progress panel for None."""
    title = "train_loss per trial (completion order)" if name is None else f"{name} vs train_loss"
    [ax] = [ax for ax in chart_figure(result).axes if ax.get_title() == title]
    return ax


def _ticks(ax) -> list[tuple[float, str]]:
    return [(t.get_loc(), t.label1.get_text()) for t in ax.xaxis.get_major_ticks()]


def _result(space: dict[str, Parameter], values: list[dict]):
    trials = [
        TrialResult(f"t{i}", "Succeeded", parameters, {"train_loss": 0.5 - i / 100})
        for i, parameters in enumerate(values)
    ]
    return build_result(
        experiment="x", status="Succeeded", reason=None, objective=LOSS, trials=trials, space=space
    )


class TestScales:
    """The definition's distribution decides the axis, not the spread of the values."""

    def test_a_log_distributed_parameter_is_on_a_log_axis_however_narrow(self):
        space = {"lr": Parameter("lr", "double", 1e-5, 3e-5, distribution="logUniform")}
        result = _result(space, [{"lr": 1e-5}, {"lr": 2e-5}, {"lr": 3e-5}])
        assert "log" == _panel(result, "lr").get_xscale()

    def test_a_uniform_parameter_stays_linear_however_wide(self):
        space = {"wd": Parameter("wd", "double", 1e-5, 0.1)}
        result = _result(space, [{"wd": 1e-5}, {"wd": 1e-3}, {"wd": 0.1}])
        assert "linear" == _panel(result, "wd").get_xscale()

    def test_a_discrete_parameter_is_its_listed_values_evenly_spaced(self):
        """64, 8 and 16 are three categories, one apart, in the order the definition lists."""
        space = {"r": Parameter("r", "discrete", values=(64, 8, 16))}
        ax = _panel(_result(space, [{"r": 8}, {"r": 64}]), "r")
        assert "linear" == ax.get_xscale()
        assert [(0, "64"), (1, "8"), (2, "16")] == _ticks(ax)
        assert (-0.5, 2.5) == ax.get_xlim()
        trials, best = ax.collections
        assert [[0, 0.49], [1, 0.5]] == trials.get_offsets().tolist()  # best first
        assert [[0, 0.49]] == best.get_offsets().tolist()

    def test_a_categorical_parameter_lists_every_value_even_one_no_trial_took(self):
        listed = ("linear", "cosine", "constant")
        space = {"sched": Parameter("sched", "categorical", values=listed)}
        ax = _panel(_result(space, [{"sched": "cosine"}]), "sched")
        assert [(0, "linear"), (1, "cosine"), (2, "constant")] == _ticks(ax)


class TestHpoAsha:
    """Each rung in its own colour; the best so far follows the top rung only."""

    RECORD = definition_record(katib_asha.DEFINITION)

    def _result(self):
        return result_from_katib(
            katib_asha.experiment(),
            katib_asha.trials(),
            space=search_space(self.RECORD.spec),
            asha=asha_plan(self.RECORD.spec),
        )

    def test_progress_shows_the_rungs_and_the_top_rungs_best(self):
        ax = _panel(self._result(), None)
        labels = [text.get_text() for text in ax.get_legend().get_texts()]
        assert ["rung 0", "rung 1", "rung 2", "best so far (top rung)"] == labels
        [best] = [line for line in ax.get_lines() if line.get_label().startswith("best")]
        # The rung-0 loss of 0.30 is lower, and not a result a full run is compared with.
        assert [0.35] == list(best.get_ydata())

    def test_the_definitions_scales_hold_under_hpo_asha(self):
        result = self._result()
        assert "log" == _panel(result, "learning_rate").get_xscale()
        assert [(0, "true"), (1, "false")] == _ticks(_panel(result, "use_rslora"))
        assert "linear" == _panel(result, "r").get_xscale()
