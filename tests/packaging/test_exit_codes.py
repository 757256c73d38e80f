"""One exit-code scheme for every entry point: the same failure ends with the same code."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import pytest

import generator.cli
import results.cli
import storage_init.cli
import trainer.cli
from storage_init.errors import AuthError, redact
from storage_init.exits import ExitCode, HpoError, run_entry_point


def _raise(error: BaseException):
    def fail(*args, **kwargs):
        raise error

    return fail


class TestRunEntryPoint:
    """How a function ended becomes one stderr line and a code."""

    def test_expected_failure_is_one_line_and_its_code(self, capsys):
        assert ExitCode.AUTH == run_entry_point(_raise(AuthError("no access to acme/tiny")))
        assert "error: no access to acme/tiny\n" == capsys.readouterr().err

    def test_interrupt_is_130(self, capsys):
        assert 130 == run_entry_point(_raise(KeyboardInterrupt()), prefix="hpo: error")
        assert "hpo: error: interrupted\n" == capsys.readouterr().err

    def test_a_defect_shows_its_traceback_and_is_70(self, capsys):
        assert 70 == run_entry_point(_raise(ZeroDivisionError("division by zero")))
        err = capsys.readouterr().err
        assert err.startswith("Traceback (most recent call last):")
        assert err.endswith("error: unexpected ZeroDivisionError: division by zero (a defect)\n")

    def test_credentials_never_reach_the_output(self, capsys, monkeypatch):
        monkeypatch.setenv("HF_TOKEN", "hf_secretvalue")
        code = run_entry_point(_raise(RuntimeError("sent hf_secretvalue")), redact=redact)
        assert 70 == code
        assert "hf_secretvalue" not in capsys.readouterr().err

    def test_a_claimed_error_ends_as_claimed(self, capsys):
        def claim(error: HpoError) -> int | None:
            return 0

        assert 0 == run_entry_point(_raise(HpoError("a person owns it")), on_error=claim)
        assert "" == capsys.readouterr().err

    def test_success_is_zero(self):
        assert 0 == run_entry_point(lambda: None)


class TestEveryEntryPoint:
    """Ctrl-C ends each entry point with 130 and a credential error with 4, whichever it is."""

    @pytest.fixture(params=["hpo", "storage_init", "trainer", "results"])
    def entry(self, request, monkeypatch, tmp_path):
        """(patch the entry point's work to raise, run it) for one entry point."""
        cases = {
            "hpo": ("generator.commands.check.check", lambda: generator.cli.main(["check"])),
            "storage_init": (
                "storage_init.cli.fetch",
                lambda: storage_init.cli.main(
                    ["model", "--uri", "hf://acme/tiny", "--cache-dir", str(tmp_path)]
                ),
            ),
            "trainer": ("trainer.cli.parse_args", lambda: trainer.cli.main([])),
            "results": ("results.cli.settings_from", lambda: results.cli.main(["results", "x"])),
        }
        patched, run = cases[request.param]

        def with_failure(error: BaseException) -> int:
            monkeypatch.setattr(patched, _raise(error))
            return run()

        return with_failure

    def test_ctrl_c_is_130(self, entry):
        assert ExitCode.INTERRUPTED == entry(KeyboardInterrupt())

    def test_auth_failure_is_4(self, entry):
        assert ExitCode.AUTH == entry(AuthError("401"))
