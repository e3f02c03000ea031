"""Context layers from public data, kept apart from the force's own entries (data.police.uk street crime)."""
