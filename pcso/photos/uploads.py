"""How much a request may send. MAX_CONTENT_LENGTH (2 MB) bounds every request, so a JSON body or a form
can't tie a worker up; the entry forms and the photo API take photos, so they may send more: up to
PHOTO_MAX_COUNT photos of PHOTO_MAX_BYTES each on a form (the phone resizes them to a few hundred KB
first; without JavaScript they come as taken), one photo on the API, and only as multipart bodies whose
typed fields are still held to MAX_CONTENT_LENGTH. Set before CSRFProtect reads the form, so it is
registered first; a request over its limit is a 413 whose message speaks of photos.
"""
from __future__ import annotations

from flask import Flask, current_app, g, request

FORM_ENDPOINTS = frozenset({"entries.new", "entries.edit"})
API_ENDPOINTS = frozenset({"api_photos.add_photo"})


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"


def raise_limit_for_photos() -> None:
    config = current_app.config
    if request.mimetype != "multipart/form-data":
        return  # a form without files, or JSON: the usual limit
    text = config["MAX_CONTENT_LENGTH"]
    request.max_form_memory_size = text  # the typed fields of a multipart body: no more than any other form
    if request.endpoint in FORM_ENDPOINTS:
        limit = text + config["PHOTO_MAX_COUNT"] * config["PHOTO_MAX_BYTES"]
        g.too_large_message = (f"The form sent more than it may: {config['PHOTO_MAX_COUNT']} photos of "
                               f"{_megabytes(config['PHOTO_MAX_BYTES'])} and {text // 1024} KB of text at most. "
                               "Nothing was saved: go back, choose fewer or smaller photos (or shorten the "
                               "longest text), and send it again.")
    elif request.endpoint in API_ENDPOINTS:
        limit = config["PHOTO_MAX_BYTES"] + 64 * 1024
        g.too_large_message = f"Send one photo of at most {_megabytes(config['PHOTO_MAX_BYTES'])}."
    else:
        return
    request.max_content_length = limit


def register_upload_limits(app: Flask) -> None:
    """Run before every other before_request function (CSRFProtect's reads the body)."""
    app.before_request_funcs.setdefault(None, []).insert(0, raise_limit_for_photos)
