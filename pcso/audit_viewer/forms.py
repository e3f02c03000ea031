"""The audit export's form: why the log is leaving and who receives it (a disclosure, as any export)."""
from __future__ import annotations

from ..lists.forms import EntryExportForm


class AuditExportForm(EntryExportForm):
    """Purpose and recipient, as for entry exports (pcso/lists/forms.py): the same rules, one line each."""
