"""The rung rule of hpo-asha: how far each rung trains and where its checkpoint lives."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import pytest

from trainer import rungs


class TestStopSteps:
    """Rung k stops at ceil(T / eta**(R-1-k)) of the full run's T steps; the top rung at T."""

    @pytest.mark.parametrize(
        ("total", "count", "factor", "expected"),
        [
            (27, 3, 3, (3, 9, 27)),
            (10, 3, 3, (2, 4, 10)),  # ceil(10/9), ceil(10/3)
            (9, 3, 3, (1, 3, 9)),
            (100, 4, 2, (13, 25, 50, 100)),
            (7, 2, 4, (2, 7)),
        ],
    )
    def test_examples(self, total, count, factor, expected):
        assert expected == rungs.stop_steps(total, count, factor)
        assert expected[-1] == rungs.Rung(count - 1, count, factor).stop_step(total)

    def test_fraction_is_exact(self):
        assert [Fraction(1, 9), Fraction(1, 3), Fraction(1)] == [
            rungs.fraction(k, 3, 3) for k in range(3)
        ]

    def test_large_totals_stay_integers(self):
        """A float division would round 10**17 + 1 down; the rule rounds up, in integers."""
        assert 10**17 // 3 + 1 == rungs.stop_step(10**17 + 1, 0, 2, 3)

    @pytest.mark.parametrize(("count", "factor"), [(2, 2), (3, 3), (4, 2), (3, 5)])
    def test_from_the_minimum_every_rung_trains_steps_of_its_own(self, count, factor):
        """From min_total_steps on, each rung stops after the one below it (and the lowest at
        step 1 or later); one step fewer and the two lowest rungs stop at step 1."""
        least = rungs.min_total_steps(count, factor)
        assert factor ** (count - 2) + 1 == least
        for total in range(least, least * factor * 3):
            steps = rungs.stop_steps(total, count, factor)
            assert list(steps) == sorted(set(steps)), (total, steps)
        assert (1, 1) == rungs.stop_steps(least - 1, count, factor)[:2]


class TestValidation:
    """Bad values raise ValueError naming the value; the caller names the flag or key."""

    @pytest.mark.parametrize(
        ("rung", "count", "factor", "message"),
        [
            (0, 1, 3, "rungs must be at least 2, got 1"),
            (0, 3, 1, "reduction_factor must be at least 2, got 1"),
            (-1, 3, 3, "rung must be at least 0, got -1"),
            (3, 3, 3, "rung must be below rungs (3): rungs are 0..2, got 3"),
            (0, True, 3, "rungs must be an integer, got True"),
            (0, 3, 2.0, "reduction_factor must be an integer, got 2.0"),
        ],
    )
    def test_refused(self, rung, count, factor, message):
        with pytest.raises(ValueError) as caught:
            rungs.Rung(rung, count, factor)
        assert message == str(caught.value)

    def test_total_steps_must_be_positive(self):
        with pytest.raises(ValueError, match="total_steps must be at least 1, got 0"):
            rungs.stop_step(0, 0, 3, 3)


class TestCheckpointNames:
    """Each rung's checkpoint has its own folder in the configuration's checkpoint directory."""

    def test_names(self):
        assert ["rung-0", "rung-1", "rung-2"] == [rungs.checkpoint_name(k) for k in range(3)]

    def test_top_rung_is_the_full_run(self):
        assert [False, False, True] == [rungs.Rung(k, 3, 3).is_top for k in range(3)]


class TestStandardLibraryOnly:
    """The generator and benchmarks import the rule without torch or transformers."""

    def test_imports_nothing_heavy(self):
        code = (
            "import sys, trainer.rungs; "
            "heavy = {'torch', 'transformers', 'peft', 'datasets'} & set(sys.modules); "
            "sys.exit(sorted(heavy) or 0)"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert 0 == done.returncode, done.stderr
