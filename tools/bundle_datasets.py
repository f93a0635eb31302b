"""Copy the original MNIST and Fashion-MNIST files into resources/ and check their md5 sums.

Usage: python tools/bundle_datasets.py [SHARED_DATA_FOLDER]

SHARED_DATA_FOLDER holds mnist/raw/ and fashion-mnist/raw/ with the published
gzip IDX files; it defaults to ../shared/data relative to the repository root.
Files are copied byte for byte into resources/<name>/; the script fails if any
source or copied file does not have its published md5 sum.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

from vae_studio.core.data.bundled import BUNDLED_FILES, resources_dir

REPO_ROOT = Path(__file__).resolve().parents[1]


def md5sum(path: Path) -> str:
    """Hex md5 digest of a file's bytes."""
    digest = hashlib.md5()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundle(shared: Path, resources: Path) -> list[str]:
    """Copy every bundled file from ``shared/<name>/raw`` to ``resources/<name>``; returns the problems found."""
    problems = []
    for name, files in BUNDLED_FILES.items():
        target = resources / name
        target.mkdir(parents=True, exist_ok=True)
        for file, expected in files.items():
            source = shared / name / "raw" / file
            if not source.is_file():
                problems.append(f"missing source file {source}")
                continue
            if md5sum(source) != expected:
                problems.append(f"{source} does not have the published md5 {expected}")
                continue
            shutil.copyfile(source, target / file)
            if md5sum(target / file) != expected:
                problems.append(f"copy {target / file} does not match md5 {expected}")
            else:
                print(f"ok  {expected}  {target / file}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shared", nargs="?", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    problems = bundle(args.shared, resources_dir())
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
