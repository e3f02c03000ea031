"""How guessable a secret is: the production SECRET_KEY and the passwords officers choose.

Both use zxcvbn (Dropbox's estimator, MIT): dictionary words, names, keyboard walks, repeats, sequences
and dates all count as the few guesses they are. Length alone is not strength: "a" * 64 is 64 characters
and a handful of guesses.
"""
from __future__ import annotations

import math
import re
from collections import Counter

from zxcvbn import zxcvbn

SECRET_KEY_MIN_BITS = 128
SECRET_KEY_MIN_LENGTH = 32
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 200
PASSWORD_MIN_SCORE = 3  # zxcvbn's 0-4: 3 is "safely unguessable: moderate protection from an offline attack"
ZXCVBN_MAX_CHARS = 100  # zxcvbn slows down on long input; what follows the first 100 characters only adds
APP_WORDS = ("beatbook", "pcso", "police", "trafford", "password", "collar", "officer")


def _zxcvbn_bits(text: str, user_inputs=()) -> float:
    return zxcvbn(text[:ZXCVBN_MAX_CHARS], user_inputs=list(user_inputs))["guesses_log10"] * math.log2(10)


def _shannon_bits(text: str) -> float:
    counts, n = Counter(text), len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values()) * n if n else 0.0


def secret_key_bits(key: str) -> float:
    """A cautious estimate of a key's entropy in bits: the lower of zxcvbn's and the characters' own spread."""
    return min(_zxcvbn_bits(key, APP_WORDS), _shannon_bits(key))


def secret_key_problem(key: str | None) -> str | None:
    """Why `key` is not fit to sign production sessions, or None."""
    how = 'make one with: python3 -c "import secrets; print(secrets.token_urlsafe(48))"'
    if not key or len(key) < SECRET_KEY_MIN_LENGTH:
        return f"SECRET_KEY must be at least {SECRET_KEY_MIN_LENGTH} characters; {how}"
    bits = secret_key_bits(key)
    if bits < SECRET_KEY_MIN_BITS:
        return (f"SECRET_KEY is too guessable (about {bits:.0f} bits, at least {SECRET_KEY_MIN_BITS} needed: "
                f"words, repeats and sequences count for little); {how}")
    return None


def password_problem(password: str, *, collar_number: str = "", display_name: str = "") -> str | None:
    """Why an officer may not choose `password`, as a sentence for the form, or None."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"Use at least {PASSWORD_MIN_LENGTH} characters: three or four unrelated words work well"
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"Use at most {PASSWORD_MAX_LENGTH} characters"
    if collar_number and collar_number.lower() in password.lower():
        return "Do not use your collar number in your password"
    rest = password.lower()
    for part in sorted([collar_number, *display_name.split()], key=len, reverse=True):
        if len(part) >= 2:
            rest = rest.replace(part.lower(), "")
    if display_name and len(re.sub(r"[^a-z]", "", rest)) < 6:
        return "Do not build your password from your name: add three or four unrelated words"
    personal = [collar_number, *display_name.split(), *APP_WORDS]
    result = zxcvbn(password[:ZXCVBN_MAX_CHARS], user_inputs=[word for word in personal if word])
    if result["score"] < PASSWORD_MIN_SCORE:
        advice = result["feedback"].get("warning") or "it is too easy to guess"
        advice = advice[:1].lower() + advice[1:]
        return f"Choose a less guessable password: {advice.rstrip('.')}. Add another unrelated word or two"
    return None
