"""Extract from real oVirt engine recordings what the tests check, into files kept in tests/golden/.

    python -m tests.golden.extract_facts /path/to/ovirt-captures

The recordings (ManageIQ's VCR cassettes of GETs against oVirt 4.2-4.5 engines, one YAML file each:
request key -> [{":body", ":code", ":headers"}]) do not ship with the repository. Two files do:

- engine_shapes.json: per object type and nested structure, the distinct child-element sequences (names
  and order) and attribute sets the real engine wrote. The simulator's golden tests compare against it.
- engine_answers.json: the few recorded answers the mapping tests replay (recording -> API path -> XML
  body), exactly as recorded.

Run it again when the recordings change; the output is deterministic (sorted).
"""
from __future__ import annotations

import argparse
import fnmatch
import json
from pathlib import Path
from typing import Any

import yaml

from tests.golden.shapes import Attributes, Shapes, shapes_of

HERE = Path(__file__).resolve().parent
SHAPES_FILE = HERE / "engine_shapes.json"
ANSWERS_FILE = HERE / "engine_answers.json"
BASE = "https://ovirt.example.com:443/ovirt-engine/api/"
# The answers tests/unit/test_ovirt_mapping.py replays: recording -> API path patterns.
REPLAYED = {
    "ovirt_sdk_refresh_recording.yml": [
        "vms", "vms/*/nics", "vms/*/diskattachments", "vms/*/snapshots", "templates", "templates/*/diskattachments",
        "clusters", "datacenters", "disks", "networks", "vnicprofiles",
    ],
    "ovirt_sdk_refresh_recording_custom_attrs.yml": ["vms", "vms/*/nics"],
    "ovirt_sdk_refresh_graph_target_vm_with_host.yml": ["vms", "vms/*/nics"],
}


def recordings(captures: Path) -> dict[str, dict[str, list[dict[str, Any]]]]:
    return {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(captures.glob("*.yml"))}


def engine_shapes(recorded: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    shapes: Shapes = {}
    attrs: Attributes = {}
    for data in recorded.values():
        for records in data.values():
            for record in records:
                body = record.get(":body")
                if body and body.lstrip().startswith("<?xml") and "<api>" not in body:
                    shapes_of(body.encode(), shapes, attrs)
    return {key: {"sequences": sorted({tuple(seq) for seq in shapes[key]}), "attributes": sorted(attrs[key])}
            for key in sorted(shapes)}


def replayed_answers(recorded: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, dict[str, str]]:
    answers: dict[str, dict[str, str]] = {}
    for name, patterns in REPLAYED.items():
        for key, records in recorded[name].items():
            if not key.startswith(BASE) or not key.endswith("{}GET"):
                continue
            path = key[len(BASE):-len("{}GET")]
            if any(fnmatch.fnmatchcase(path, p) and path.count("/") == p.count("/") for p in patterns):
                answers.setdefault(name, {})[path] = records[0][":body"]
    return {name: dict(sorted(paths.items())) for name, paths in answers.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("captures", type=Path, help="directory of the engine recordings (*.yml)")
    captures = parser.parse_args().captures
    recorded = recordings(captures)
    if not recorded:
        parser.error(f"no *.yml recordings in {captures}")
    about = f"Extracted by tests/golden/extract_facts.py from {', '.join(recorded)} (ManageIQ's oVirt recordings)."
    types = ",\n".join(f" {json.dumps(key)}: {json.dumps(facts)}" for key, facts in engine_shapes(recorded).items())
    SHAPES_FILE.write_text(f'{{"about": {json.dumps(about)},\n"types": {{\n{types}\n}}}}\n')  # a type a line
    ANSWERS_FILE.write_text(json.dumps({"about": about, "recordings": replayed_answers(recorded)}, indent=1) + "\n")
    print(f"wrote {SHAPES_FILE.name} ({SHAPES_FILE.stat().st_size} bytes), "
          f"{ANSWERS_FILE.name} ({ANSWERS_FILE.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
