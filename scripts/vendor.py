#!/usr/bin/env python3
"""Copy the npm-installed front-end libraries into static/vendor/.

Run by `make vendor` after `npm ci`. Standard library only, idempotent: a file
is rewritten only when its content differs, and files that are no longer in
the list below are removed. static/vendor/ is gitignored.

Templates reference:
    vendor/leaflet/leaflet.css    vendor/leaflet/leaflet.js
    vendor/leaflet/images/*.png   (found by leaflet.css via url(images/...))
    vendor/chart.js/chart.umd.js
    vendor/cytoscape/cytoscape.min.js  (the associates network on a POLE profile, static/js/network.js)
    vendor/exifr/mini.umd.js      (EXIF time and GPS, read on the phone before a photo is resized)
    vendor/idb/umd.js             (IndexedDB promise wrapper: the phone's outbox and drafts)
"""

from __future__ import annotations

import filecmp
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
DEST = ROOT / "static" / "vendor"

# package name -> files under node_modules/<package>/ ("dir/*" copies a folder's files).
# Destination: static/vendor/<package>/<path below the pattern's first folder (dist/, build/)>.
FILES: dict[str, list[str]] = {
    "leaflet": [
        "dist/leaflet.js",
        "dist/leaflet.js.map",
        "dist/leaflet.css",
        "dist/images/*",
    ],
    "chart.js": [
        "dist/chart.umd.js",
        "dist/chart.umd.js.map",
    ],
    "cytoscape": [
        "dist/cytoscape.min.js",
    ],
    "exifr": [
        "dist/mini.umd.js",
    ],
    "idb": [
        "build/umd.js",
    ],
}


def pinned_versions() -> dict[str, str]:
    return json.loads((ROOT / "package.json").read_text())["dependencies"]


def check_installed(package: str, wanted: str) -> None:
    manifest = NODE_MODULES / package / "package.json"
    if not manifest.exists():
        sys.exit(f"vendor: {manifest.relative_to(ROOT)} missing - run `npm ci` (or `make vendor`)")
    installed = json.loads(manifest.read_text())["version"]
    if installed != wanted:
        sys.exit(f"vendor: {package} {installed} installed but package.json pins {wanted} - run `npm ci`")


def sources(package: str) -> list[Path]:
    base = NODE_MODULES / package
    found: list[Path] = []
    for pattern in FILES[package]:
        matches = sorted(p for p in base.glob(pattern) if p.is_file())
        if not matches:
            sys.exit(f"vendor: nothing matches node_modules/{package}/{pattern}")
        found.extend(matches)
    return found


def main() -> int:
    versions = pinned_versions()
    copied = unchanged = removed = 0
    wanted: set[Path] = set()
    for package in FILES:
        check_installed(package, versions[package])
        for src in sources(package):
            inside = src.relative_to(NODE_MODULES / package)
            dst = DEST / package / inside.relative_to(inside.parts[0])
            wanted.add(dst)
            if dst.exists() and filecmp.cmp(src, dst, shallow=False):
                unchanged += 1
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            copied += 1
    # Drop leftovers (e.g. a file no longer listed), keeping the folder tidy.
    for path in sorted(DEST.rglob("*"), reverse=True):
        if path.is_file() and path not in wanted:
            path.unlink()
            removed += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    summary = ", ".join(f"{p} {versions[p]}" for p in FILES)
    print(f"vendor: {summary} -> static/vendor/ ({copied} copied, {unchanged} unchanged, {removed} removed)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
