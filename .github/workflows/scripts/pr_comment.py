"""Build the pull-request comment: `hpo check`'s summary plus the diff of rendered/.

    python .github/workflows/scripts/pr_comment.py --base origin/main \
        --summary summary.md --check-outcome success --output comment.md

The comment starts with MARKER, which the workflow uses to find and update its own previous
comment instead of adding a new one on every push. The diff is cut at a line boundary so the
whole body stays within GitHub's limit for a comment. Standard library only: this runs even
when installing the project failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

MARKER = "<!-- hpo-pr-summary -->"
# GitHub refuses comment bodies longer than this many characters.
MAX_COMMENT_CHARS = 65536
RENDERED = "rendered/"


class CommentError(Exception):
    """A problem worth one line on stderr, such as a base ref git does not know."""


def git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "core.quotepath=off", *args]
    result = subprocess.run(command, cwd=repo, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no output"])[0]
        raise CommentError(f"git {' '.join(args)} failed: {reason}")
    return result.stdout


def rendered_diff(repo: Path, base: str) -> tuple[str, str]:
    """(shortstat, diff) of rendered/ between `base` and the checked-out commit."""
    options = ["--no-color", "--no-ext-diff", "--no-textconv"]
    stat = git(repo, "diff", "--shortstat", *options, base, "HEAD", "--", RENDERED).strip()
    diff = git(repo, "diff", *options, base, "HEAD", "--", RENDERED)
    return stat, diff


def fence_for(text: str) -> str:
    """A backtick fence longer than any run of backticks inside `text`."""
    longest = run = 0
    for character in text:
        run = run + 1 if character == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def build_comment(
    summary: str | None,
    check_outcome: str,
    base: str,
    stat: str,
    diff: str,
    limit: int = MAX_COMMENT_CHARS,
) -> str:
    """The comment body; the diff is truncated at a line boundary to keep it within `limit`."""
    head = [MARKER]
    if summary is not None and summary.strip():
        head += [summary.strip(), ""]
    else:
        head += [
            "## Experiment changes",
            "",
            f"`hpo check` wrote no summary (outcome: {check_outcome}); see the job log.",
            "",
        ]
    head += ["## Rendered manifests", ""]
    if not diff.strip():
        return "\n".join([*head, f"No change under `{RENDERED}`.", ""])

    command = f"git diff {base} HEAD -- {RENDERED}"
    fence = fence_for(diff)

    def body(shown: str, trailer: str) -> str:
        parts = [*head, stat, "", f"<details><summary><code>{command}</code></summary>", ""]
        parts += [f"{fence}diff", shown.rstrip("\n"), fence, "", "</details>", ""]
        if trailer:
            parts += [trailer, ""]
        return "\n".join(parts)

    full = body(diff, "")
    if len(full) <= limit:
        return full
    lines = diff.splitlines(keepends=True)

    def note(omitted: int) -> str:
        return f"{omitted} more diff lines not shown; run `{command}` to see all of it."

    # Reserve room for the longest possible note, so the final one always fits.
    room = limit - len(body("", note(len(lines))))
    if room < 0:
        raise CommentError(f"the summary alone is longer than {limit} characters")
    shown, used = [], 0
    for line in lines:
        if used + len(line) > room:
            break
        shown.append(line)
        used += len(line)
    return body("".join(shown), note(len(lines) - len(shown)))


def write_atomically(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as f:
        f.write(text)
    os.replace(f.name, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="git ref the pull request merges into")
    parser.add_argument("--summary", type=Path, help="Markdown from hpo check --summary-md")
    parser.add_argument("--check-outcome", default="unknown", help="outcome of the hpo check step")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--repo", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    try:
        summary = None
        if args.summary is not None and args.summary.is_file():
            summary = args.summary.read_text(encoding="utf-8")
        stat, diff = rendered_diff(args.repo, args.base)
        comment = build_comment(summary, args.check_outcome, args.base, stat, diff)
        write_atomically(args.output, comment)
    except (CommentError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
