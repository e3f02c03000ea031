"""What the entry services refuse, field by field: the form shows it beside the field, the API as problem+json."""
from __future__ import annotations


class EntryRejected(ValueError):
    """Input that can't become (or change) an entry. `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str] | str, message: str | None = None):
        if isinstance(errors, str):  # EntryRejected("beat_id", "Choose the beat")
            errors = {errors: message or "This value is not accepted"}
        self.errors: dict[str, str] = dict(errors)
        super().__init__("; ".join(f"{field}: {text}" for field, text in self.errors.items()))

    @property
    def field(self) -> str:
        return next(iter(self.errors))

    @property
    def message(self) -> str:
        return self.errors[self.field]


class EntryNotFound(LookupError):
    """An entry named in the input (e.g. raised from) that the actor may not open: answered as 404."""
