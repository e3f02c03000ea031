"""The job kinds: a kind is a plain function registered by name with @job_kind (pcso/jobs/kinds.py registers
the app's); pcso/jobs/runner.py runs them."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str
    fn: Callable[..., dict | None]
    label: str


_KINDS: dict[str, Kind] = {}


def job_kind(name: str, *, label: str):
    def register(fn):
        _KINDS[name] = Kind(name=name, fn=fn, label=label)
        return fn
    return register


def registered_kinds() -> dict[str, Kind]:
    """The kinds registered so far: pcso/jobs/kinds.py registers the app's when imported (by the views and the
    commands, so every app process and worker has them)."""
    return _KINDS


def kind_label(name: str) -> str:
    kind = registered_kinds().get(name)
    return kind.label if kind else name
