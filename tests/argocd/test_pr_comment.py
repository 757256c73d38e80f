"""The summary comment builder, run against real git repositories."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.argocd.workflow_files import WORKFLOWS, script

pr_comment = script("pr_comment")
SCRIPT = WORKFLOWS / "scripts" / "pr_comment.py"
SUMMARY = (
    "## Experiments in this change\n\n"
    "| experiment | trials × GPUs | worst-case GPU-hours |\n|---|---|---|\n| a | 10 × 2 | 120 |\n"
)


def git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)


@pytest.fixture
def repo(tmp_path):
    """A repository whose branch `feature` adds and changes files under rendered/."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "ci@example.org")
    git(repo, "config", "user.name", "CI")
    (repo / "rendered" / "c1" / "a").mkdir(parents=True)
    (repo / "rendered" / "c1" / "a" / "job-a.yaml").write_text("kind: Job\nimage: t:0.1\n")
    (repo / "README.md").write_text("readme\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "rendered" / "c1" / "a" / "job-a.yaml").write_text("kind: Job\nimage: t:0.2\n")
    (repo / "rendered" / "c1" / "b").mkdir()
    (repo / "rendered" / "c1" / "b" / "experiment-b.yaml").write_text("kind: Experiment\n")
    (repo / "README.md").write_text("changed outside rendered\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feature")
    return repo


def run(repo, *args):
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--repo", str(repo), *args],
        capture_output=True,
        text=True,
        check=False,
    )


class TestCommentFromRealGit:
    """The script diffs rendered/ between the base and HEAD and writes one comment."""

    def test_summary_and_rendered_diff(self, repo, tmp_path):
        (tmp_path / "summary.md").write_text(SUMMARY)
        output = tmp_path / "comment.md"
        result = run(
            repo,
            "--base",
            "main",
            "--summary",
            str(tmp_path / "summary.md"),
            "--check-outcome",
            "success",
            "--output",
            str(output),
        )
        assert 0 == result.returncode, result.stderr
        comment = output.read_text()
        assert comment.startswith(pr_comment.MARKER + "\n" + SUMMARY)
        assert "\n## Rendered manifests\n" in comment
        assert "2 files changed, 2 insertions(+), 1 deletion(-)" in comment
        assert "-image: t:0.1\n+image: t:0.2" in comment
        assert "+++ b/rendered/c1/b/experiment-b.yaml" in comment
        assert "README.md" not in comment, "only rendered/ is shown"

    def test_missing_summary_says_so_with_the_checks_outcome(self, repo, tmp_path):
        output = tmp_path / "comment.md"
        result = run(
            repo,
            "--base",
            "main",
            "--summary",
            str(tmp_path / "absent.md"),
            "--check-outcome",
            "failure",
            "--output",
            str(output),
        )
        assert 0 == result.returncode, result.stderr
        assert "`hpo check` wrote no summary (outcome: failure); see the job log." in (
            output.read_text()
        )

    def test_no_rendered_change(self, repo, tmp_path):
        output = tmp_path / "comment.md"
        result = run(repo, "--base", "HEAD", "--output", str(output))
        assert 0 == result.returncode, result.stderr
        assert output.read_text().endswith("No change under `rendered/`.\n")

    def test_unknown_base_is_one_line_and_writes_nothing(self, repo, tmp_path):
        output = tmp_path / "comment.md"
        result = run(repo, "--base", "origin/nope", "--output", str(output))
        assert 1 == result.returncode
        assert 1 == len(result.stderr.strip().splitlines())
        assert result.stderr.startswith("error: git diff --shortstat")
        assert "Traceback" not in result.stderr
        assert not output.exists()


class TestTruncation:
    """A diff too long for one comment is cut at a line boundary, and the cut is announced."""

    def diff(self, lines):
        return "".join(f"+line {i:05d}\n" for i in range(lines))

    def test_short_diff_is_shown_whole(self):
        body = pr_comment.build_comment(SUMMARY, "success", "origin/main", "1 file", self.diff(3))
        assert "+line 00002\n```" in body
        assert "not shown" not in body

    def test_long_diff_fits_the_limit_and_counts_what_was_left_out(self):
        diff = self.diff(20_000)
        body = pr_comment.build_comment(SUMMARY, "success", "origin/main", "1 file", diff)
        assert len(body) <= pr_comment.MAX_COMMENT_CHARS
        shown = [line for line in body.splitlines() if line.startswith("+line ")]
        assert shown == [f"+line {i:05d}" for i in range(len(shown))], "whole lines, in order"
        assert f"{20_000 - len(shown)} more diff lines not shown; run " in body
        assert body.rstrip().endswith("to see all of it.")

    @pytest.mark.parametrize("limit", [600, 1000, 4096])
    def test_any_limit_is_respected_exactly(self, limit):
        body = pr_comment.build_comment(
            None, "failure", "origin/main", "1 file", self.diff(500), limit
        )
        assert len(body) <= limit

    def test_backticks_in_the_diff_cannot_close_the_fence(self):
        diff = "+description: use ```code``` and ````more````\n"
        body = pr_comment.build_comment(None, "success", "origin/main", "1 file", diff)
        assert "`````diff\n" + diff + "`````" in body
