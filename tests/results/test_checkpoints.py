"""hpo-asha's checkpoints go once the experiment has finished: the results Job and hpo tune
--local empty the experiment's own folder, and nothing else (tests/results/test_cli.py runs the
results Job with one)."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

from results.checkpoints import remove_checkpoints


def checkpoints(folder):
    """Two configurations' checkpoints, one half-written, as trials leave them."""
    for path in ("config-0/rung-0/adapter_model.bin", "config-1/.rung-1.partial/optimizer.pt"):
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(b"x")
    (folder / "stray-file").write_text("x")
    return folder


class TestRemoveCheckpoints:
    """Everything inside the folder goes; the folder (a mount point) and its siblings stay."""

    def test_empties_only_the_folder(self, tmp_path):
        mine = checkpoints(tmp_path / "checkpoints" / "mine")
        other = checkpoints(tmp_path / "checkpoints" / "other")

        assert 3 == remove_checkpoints(mine)

        assert mine.is_dir() and [] == list(mine.iterdir())
        assert 3 == len(list(other.iterdir()))

    def test_a_missing_folder_is_nothing_to_do(self, tmp_path):
        assert 0 == remove_checkpoints(tmp_path / "never-written")

    def test_a_link_is_removed_not_followed(self, tmp_path):
        outside = checkpoints(tmp_path / "outside")
        mine = tmp_path / "mine"
        mine.mkdir()
        (mine / "config-0").symlink_to(outside, target_is_directory=True)

        assert 1 == remove_checkpoints(mine)

        assert 3 == len(list(outside.iterdir()))
