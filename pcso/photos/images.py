"""Checking and cleaning an uploaded photo with Pillow. No Flask here: the limits come as arguments.

`clean_image(data, limits)` takes the bytes as sent and gives back a new JPEG made from the pixels alone:
the EXIF orientation applied first (so the picture stands the right way up), the longest side at most
`limits.max_side`, colours converted to sRGB when the photo carried another ICC profile, and nothing
else copied: no EXIF (no GPS, no camera serial, no time), no XMP, no ICC profile, no comments, no
thumbnail. `read_offer(data)` reads the EXIF time and place from the original bytes; call it before
the metadata is thrown away (clean_image never returns it).

Refused, with a message for the officer (PhotoRejected): more bytes than allowed, not an image, an image
of a type other than JPEG, PNG or WebP (HEIC, the iPhone's own format, is not in Pillow's core: the
phone's browser normally sends JPEG; if not, set the camera to "Most Compatible"), more pixels than
allowed (a decompression bomb: checked from the header, before any pixel is decoded), or a file that
breaks while decoding (truncated).
"""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}  # MPO: a phone's multi-picture JPEG
OUTPUT_TYPE = "image/jpeg"
JPEG_QUALITY = 85
THUMBNAIL_SIDE = 320
LONDON = ZoneInfo("Europe/London")
EARLIEST_YEAR = 2000
HEIC_BRANDS = (b"ftypheic", b"ftypheix", b"ftyphevc", b"ftypmif1", b"ftypmsf1", b"ftypavif")


class PhotoRejected(ValueError):
    """A photo that can't be taken, with the reason in words an officer can act on. `reason` sorts it for the
    API's status: "too_large" (413), "too_many" (409), anything else "invalid" (422)."""

    def __init__(self, message: str, *, reason: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 8 * 1024 * 1024
    max_pixels: int = 50_000_000
    max_side: int = 1600


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    thumbnail: bytes
    width: int
    height: int
    content_type: str = OUTPUT_TYPE

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"


def _open(data: bytes, limits: Limits) -> Image.Image:
    """The image, its header checked: type and pixel count (no pixel decoded yet)."""
    if not data:
        raise PhotoRejected("The photo was empty: choose the photo again.")
    if len(data) > limits.max_bytes:
        raise PhotoRejected(f"The photo is {_megabytes(len(data))}; the limit is {_megabytes(limits.max_bytes)}. "
                            "Take it again at a lower resolution, or choose a smaller one.", reason="too_large")
    if data[4:12] in HEIC_BRANDS:
        raise PhotoRejected("This photo is in HEIC format, which Beatbook can't read. Choose it again from the "
                            "browser's camera, or set the camera to 'Most Compatible' (JPEG).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError,
            ValueError) as error:
        if isinstance(error, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
            raise PhotoRejected("This image has too many pixels to be a photo Beatbook can take.") from None
        raise PhotoRejected("This file is not a photo Beatbook can read: choose a JPEG, PNG or WebP image.") from None
    if image.format not in ALLOWED_FORMATS:
        raise PhotoRejected(f"This is a {image.format} image: choose a JPEG, PNG or WebP photo.")
    width, height = image.size
    if width < 1 or height < 1 or width * height > limits.max_pixels:
        raise PhotoRejected(f"This image has {width * height / 1e6:.0f} million pixels; the limit is "
                            f"{limits.max_pixels / 1e6:.0f} million.")
    return image


def _verified(data: bytes, limits: Limits) -> Image.Image:
    """Image.verify() on one copy (it leaves the image unusable), then a fresh copy to decode."""
    image = _open(data, limits)
    try:
        image.verify()
    except Exception:  # Pillow raises many kinds here (SyntaxError, struct.error, OSError...)
        raise PhotoRejected("This photo file is damaged or incomplete: choose the photo again.") from None
    return _open(data, limits)


def _to_srgb(image: Image.Image) -> Image.Image:
    """RGB pixels in sRGB: a photo with another ICC profile (Display P3 on iPhones) is converted, not relabelled."""
    profile = image.info.get("icc_profile")
    if image.mode not in ("RGB", "L"):
        if "A" in image.getbands() or image.mode == "P":
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            image = flat
        else:
            image = image.convert("RGB")
    if profile and image.mode == "RGB":
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            image = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unreadable profile: keep the pixels as they are
    return image.convert("RGB") if image.mode != "RGB" else image


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # A new image from the pixels alone: no exif=, icc_profile= or comment= given, so none is written.
    bare = Image.new("RGB", image.size)
    bare.paste(image)
    bare.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def clean_image(data: bytes, limits: Limits = Limits()) -> CleanImage:
    """The photo checked, turned upright, resized and re-encoded without any metadata (see the module doc)."""
    image = _verified(data, limits)
    try:
        if image.format == "JPEG":
            image.draft("RGB", (limits.max_side, limits.max_side))  # decode at 1/2, 1/4 or 1/8 scale: less memory
        image.load()
        image = ImageOps.exif_transpose(image)
        image = _to_srgb(image)
        image.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS)
        full = _jpeg(image)
        small = image.copy()
        small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
        thumbnail = _jpeg(small)
    except PhotoRejected:
        raise
    except Exception:
        raise PhotoRejected("This photo file is damaged or incomplete: choose the photo again.") from None
    return CleanImage(data=full, thumbnail=thumbnail, width=image.width, height=image.height)


# --- the EXIF time and place, read before stripping ---------------------------------------------------

def _degrees(value, ref) -> float | None:
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = degrees + minutes / 60 + seconds / 3600
    return -result if str(ref).strip().upper() in ("S", "W") else result


def _taken_at(exif_ifd, now: datetime) -> datetime | None:
    raw = exif_ifd.get(ExifTags.Base.DateTimeOriginal) or exif_ifd.get(ExifTags.Base.DateTimeDigitized)
    if not isinstance(raw, str):
        return None
    try:
        local = datetime.strptime(raw.strip("\x00 ").strip(), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = exif_ifd.get(ExifTags.Base.OffsetTimeOriginal)
    try:
        if isinstance(offset, str) and len(offset.strip("\x00 ")) == 6:
            sign = -1 if offset[0] == "-" else 1
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            aware = local.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
        else:  # a camera without an offset keeps the local clock: a UK officer's phone is on London time
            aware = local.replace(tzinfo=LONDON)
    except ValueError:
        return None
    aware = aware.astimezone(timezone.utc)
    if aware.year < EARLIEST_YEAR or aware > now + timedelta(minutes=10):
        return None
    return aware


def read_offer(data: bytes, *, now: datetime | None = None) -> dict:
    """{'taken_at': aware UTC datetime | None, 'lat': float | None, 'lon': float | None} from the photo's EXIF.

    Never raises: a file without EXIF, or with nonsense in it, offers nothing. A place is offered only
    as a pair of coordinates in range and not the (0, 0) an unset GPS writes.
    """
    now = now or datetime.now(timezone.utc)
    offer = {"taken_at": None, "lat": None, "lon": None}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data))
            exif = image.getexif()
            offer["taken_at"] = _taken_at(exif.get_ifd(ExifTags.IFD.Exif), now)
            gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:  # any unreadable metadata is simply no offer
        return offer
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef, "N"))
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef, "E"))
    if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180 and (lat, lon) != (0, 0):
        offer["lat"], offer["lon"] = round(lat, 6), round(lon, 6)
    return offer
