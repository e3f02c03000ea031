"""The witness file: signed checkpoints copied, one JSON line each, somewhere the database's owner cannot rewrite
(the force SIEM, a WORM bucket, a professional-standards mailbox). `flask audit checkpoint export FILE` appends the
latest; `flask audit verify --checkpoint FILE` checks the database against every line.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .keys import format_time


@dataclass(frozen=True)
class WitnessedCheckpoint:
    line: int
    tree_size: int
    root_hash: bytes
    signed_at: datetime
    key_id: str
    signature: bytes


class BadWitnessLine(ValueError):
    pass


def to_line(checkpoint) -> str:
    return json.dumps({
        "tree_size": checkpoint.tree_size, "root_hash": checkpoint.root_hash.hex(),
        "signed_at": format_time(checkpoint.signed_at), "key_id": checkpoint.key_id,
        "signature": base64.b64encode(checkpoint.signature).decode("ascii"),
        "last_event_id": checkpoint.last_event_id,
    }, sort_keys=True, separators=(",", ":"))


def parse_line(number: int, text: str) -> WitnessedCheckpoint:
    try:
        data = json.loads(text)
        signed_at = datetime.strptime(data["signed_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        tree_size, key_id = data["tree_size"], data["key_id"]
        if not isinstance(tree_size, int) or isinstance(tree_size, bool) or tree_size < 0 or not isinstance(key_id, str):
            raise ValueError("tree_size and key_id")
        root_hash = bytes.fromhex(data["root_hash"])
        signature = base64.b64decode(data["signature"], validate=True)
    except (ValueError, KeyError, TypeError) as error:
        raise BadWitnessLine(f"line {number} is not a checkpoint ({error})") from None
    return WitnessedCheckpoint(number, tree_size, root_hash, signed_at, key_id, signature)


def read(path: Path) -> tuple[list[WitnessedCheckpoint], list[str]]:
    """The checkpoints in the file, and a problem for each line that is not one."""
    found, problems = [], []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip():
            continue
        try:
            found.append(parse_line(number, text))
        except BadWitnessLine as error:
            problems.append(str(error))
    return found, problems


def append(path: Path, checkpoint) -> bool:
    """Append the checkpoint unless it is already the file's last line. True when a line was written."""
    line = to_line(checkpoint)
    if path.exists():
        lines = [text for text in path.read_text(encoding="utf-8").splitlines() if text.strip()]
        if lines and lines[-1] == line:
            return False
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    return True
