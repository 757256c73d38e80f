"""Turn images.yaml (role -> image reference) into the build matrix of the images workflow.

    python .github/workflows/scripts/image_matrix.py images.yaml

prints {"include": [{"role", "image", "dockerfile", "registry"}, ...]} as one JSON line. Each
role is built from images/<role>.Dockerfile (underscores in the role may be hyphens in the file
name). A reference must carry an explicit tag, never `latest`: the tag is what the rendered
manifests pin, so it is what gets pushed (a digest after it is dropped: a push cannot choose one).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

# registry/path/name, then :tag and/or @sha256:digest (the last colon after the last slash).
_REFERENCE = re.compile(
    r"^(?P<name>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


class MatrixError(Exception):
    """images.yaml or the images/ folder does not describe a buildable set of images."""


def registry_of(name: str) -> str:
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def dockerfile_for(repo: Path, role: str) -> str:
    candidates = sorted(
        {f"images/{role}.Dockerfile", f"images/{role.replace('_', '-')}.Dockerfile"}
    )
    found = [c for c in candidates if (repo / c).is_file()]
    if not found:
        raise MatrixError(f"role {role!r}: no Dockerfile, expected {' or '.join(candidates)}")
    return found[0]


def build_matrix(images_file: Path, repo: Path) -> dict[str, list[dict[str, str]]]:
    try:
        images = yaml.safe_load(images_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise MatrixError(f"{images_file}: cannot read: {error}".splitlines()[0]) from error
    if not isinstance(images, dict) or not images:
        raise MatrixError(f"{images_file}: expected a mapping of role to image reference")
    include = []
    for role, image in sorted(images.items()):
        if not isinstance(image, str) or (match := _REFERENCE.match(image)) is None:
            raise MatrixError(f"{images_file}: {role}: {image!r} is not an image reference")
        if match["tag"] is None:
            raise MatrixError(f"{images_file}: {role}: {image} has no tag to push; add one")
        if match["tag"] == "latest":
            raise MatrixError(f"{images_file}: {role}: {image} uses latest; pin a version")
        include.append(
            {
                "role": str(role),
                "image": f"{match['name']}:{match['tag']}",
                "dockerfile": dockerfile_for(repo, str(role)),
                "registry": registry_of(match["name"]),
            }
        )
    return {"include": include}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: image_matrix.py IMAGES_YAML", file=sys.stderr)
        return 2
    images_file = Path(args[0])
    try:
        matrix = build_matrix(images_file, images_file.resolve().parent)
    except MatrixError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(matrix, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
