"""images.yaml to the images workflow's build matrix."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.argocd.workflow_files import WORKFLOWS, script

image_matrix = script("image_matrix")
SCRIPT = WORKFLOWS / "scripts" / "image_matrix.py"


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "images").mkdir()
    for name in ("storage-init", "trainer", "results"):
        (tmp_path / "images" / f"{name}.Dockerfile").write_text("FROM scratch\n")
    return tmp_path


def write_images(repo, text):
    (repo / "images.yaml").write_text(text)
    return repo / "images.yaml"


def run(images_file):
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(images_file)], capture_output=True, text=True, check=False
    )


class TestMatrix:
    """Each role becomes one build of its Dockerfile, tagged as images.yaml says."""

    def test_roles_in_sorted_order_with_dockerfile_and_registry(self, repo):
        images = write_images(
            repo,
            "trainer: ghcr.io/example-org/llm-hpo-trainer:0.1.0\n"
            "storage_init: ghcr.io/example-org/llm-hpo-storage-init:0.1.0\n"
            "results: registry.example.org:5000/hpo/results:0.1.0@sha256:" + "a" * 64 + "\n",
        )
        result = run(images)
        assert 0 == result.returncode, result.stderr
        assert {
            "include": [
                {
                    "role": "results",
                    "image": "registry.example.org:5000/hpo/results:0.1.0",
                    "dockerfile": "images/results.Dockerfile",
                    "registry": "registry.example.org:5000",
                },
                {
                    "role": "storage_init",
                    "image": "ghcr.io/example-org/llm-hpo-storage-init:0.1.0",
                    "dockerfile": "images/storage-init.Dockerfile",
                    "registry": "ghcr.io",
                },
                {
                    "role": "trainer",
                    "image": "ghcr.io/example-org/llm-hpo-trainer:0.1.0",
                    "dockerfile": "images/trainer.Dockerfile",
                    "registry": "ghcr.io",
                },
            ]
        } == json.loads(result.stdout)

    def test_docker_hub_names_log_in_to_docker_io(self, repo):
        matrix = image_matrix.build_matrix(write_images(repo, "trainer: org/trainer:1.2\n"), repo)
        assert "docker.io" == matrix["include"][0]["registry"]


class TestRefusals:
    """A reference the workflow could not push, or a role without a Dockerfile, is one line."""

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("trainer: ghcr.io/o/trainer\n", "has no tag to push; add one"),
            ("trainer: ghcr.io/o/trainer:latest\n", "uses latest; pin a version"),
            ("trainer: ghcr.io/o/trainer@sha256:" + "b" * 64 + "\n", "has no tag to push"),
            ("trainer: Ghcr.io/O/Trainer:1\n", "is not an image reference"),
            ("trainer: 3\n", "is not an image reference"),
            ("- trainer\n", "expected a mapping of role to image reference"),
            ("gpu: ghcr.io/o/gpu:1\n", "role 'gpu': no Dockerfile, expected images/gpu.Dockerfile"),
            ("trainer: [unclosed\n", "cannot read"),
        ],
    )
    def test_bad_input(self, repo, text, message, capsys):
        assert 1 == image_matrix.main([str(write_images(repo, text))])
        out, err = capsys.readouterr()
        assert message in err
        assert 1 == len(err.strip().splitlines())
        assert "" == out

    def test_missing_file_from_the_command_line(self, tmp_path):
        result = run(tmp_path / "images.yaml")
        assert 1 == result.returncode
        assert result.stderr.startswith("error: ")
        assert 1 == len(result.stderr.strip().splitlines())


class TestTheCommittedImagesFile:
    """The repository's own images.yaml names pushable tags, each with its Dockerfile."""

    def test_every_reference_is_pushable(self):
        images_file = image_matrix.Path(__file__).resolve().parents[2] / "images.yaml"
        matrix = image_matrix.build_matrix(images_file, images_file.parent)
        roles = [i["role"] for i in matrix["include"]]
        assert ["results", "storage_init", "suggestion", "trainer"] == roles
        assert all((images_file.parent / i["dockerfile"]).is_file() for i in matrix["include"])
