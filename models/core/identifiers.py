"""Validation of Japanese public identifiers used by Kyoso.

Pure functions only: no I/O and no imports from the rest of the project.

* 全国地方公共団体コード (local government code, JIS X 0401/0402 + check digit):
  six ASCII digits ``d1..d6`` where ``d6`` is a check digit computed from the
  first five as ``s = 6*d1 + 5*d2 + 4*d3 + 3*d4 + 2*d5`` and
  ``d6 = (11 - s % 11) % 10``.  Example: 130001 (Tokyo), 131016 (Chiyoda).
* 法人番号 (corporate number): thirteen ASCII digits whose FIRST digit is a
  check digit over the twelve that follow: with ``P_n`` the digit at position
  ``n`` counted from the right (n = 1 is the last digit) and ``Q_n`` = 1 for
  odd ``n`` and 2 for even ``n``, ``check = 9 - (sum(P_n * Q_n) % 9)``.
  Example: 7000012050002 (National Tax Agency).

Note on strength (both schemes are weak checksums, not proofs of existence):
the municipality scheme folds remainders 0 and 10 onto the same check digit
(1), so a few single-digit substitutions are not detected; the corporate
number scheme works modulo 9, so swapping a 0 for a 9 (or vice versa) in the
twelve base digits is never detected.  A code that passes is only
well-formed; it is not necessarily an existing body.
"""

from typing import TypeGuard

__all__ = [
    "InvalidIdentifier",
    "corporate_number_check_digit",
    "identifier_kind",
    "is_valid_corporate_number",
    "is_valid_municipality_code",
    "municipality_check_digit",
    "normalize_digits",
    "parse_corporate_number",
    "parse_municipality_code",
]

MUNICIPALITY_CODE_LENGTH = 6
CORPORATE_NUMBER_LENGTH = 13

_ASCII_DIGITS = frozenset("0123456789")
_MUNICIPALITY_WEIGHTS = (6, 5, 4, 3, 2)

# Full-width digits ０-９ (U+FF10..U+FF19) -> ASCII, and hyphen-like
# characters people paste from documents and web forms -> removed.
_HYPHENS = (
    "-"  # U+002D hyphen-minus
    "\u2010"  # hyphen
    "\u2011"  # non-breaking hyphen
    "\u2012"  # figure dash
    "\u2013"  # en dash
    "\u2014"  # em dash
    "\u2212"  # minus sign
    "\uff0d"  # full-width hyphen-minus
)
_TRANSLATION: dict[int, int | None] = {0xFF10 + i: ord("0") + i for i in range(10)}
_TRANSLATION.update({ord(ch): None for ch in _HYPHENS})


class InvalidIdentifier(ValueError):
    """Raised when a value is not a well-formed identifier."""


def normalize_digits(value: str) -> str:
    """Remove whitespace (incl. the ideographic space U+3000) and hyphens,
    and convert full-width digits ０-９ to ASCII.

    Other characters are left as they are, so the result still has to be
    checked for being ASCII digits only.
    """
    if not isinstance(value, str):
        raise TypeError(f"expected str, got {type(value).__name__}")
    # str.split() without arguments splits on every Unicode whitespace char.
    return "".join(value.split()).translate(_TRANSLATION)


def _is_ascii_digits(value: str, length: int) -> bool:
    # str.isdigit() would accept e.g. Arabic-Indic or superscript digits,
    # so compare against the ten ASCII digits explicitly.
    return len(value) == length and all(ch in _ASCII_DIGITS for ch in value)


def municipality_check_digit(first5: str) -> int:
    """Check digit for the first five digits of a local government code.

    ``first5`` must be exactly five ASCII digits (no normalisation here).
    """
    if not isinstance(first5, str) or not _is_ascii_digits(first5, 5):
        raise ValueError("expected exactly 5 ASCII digits")
    s = sum(int(d) * w for d, w in zip(first5, _MUNICIPALITY_WEIGHTS))
    return (11 - s % 11) % 10


def corporate_number_check_digit(base12: str) -> int:
    """Check digit (the leading digit) for the 12 base digits of a 法人番号.

    ``base12`` must be exactly twelve ASCII digits (no normalisation here).
    """
    if not isinstance(base12, str) or not _is_ascii_digits(base12, 12):
        raise ValueError("expected exactly 12 ASCII digits")
    total = 0
    for n, ch in enumerate(reversed(base12), start=1):
        total += int(ch) * (1 if n % 2 else 2)
    return 9 - total % 9


def _normalized_or_none(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return normalize_digits(value)


def is_valid_municipality_code(code: object) -> TypeGuard[str]:
    """True if ``code`` is 6 digits (after normalisation) with a correct check digit."""
    normalized = _normalized_or_none(code)
    if normalized is None or not _is_ascii_digits(normalized, MUNICIPALITY_CODE_LENGTH):
        return False
    return municipality_check_digit(normalized[:5]) == int(normalized[5])


def is_valid_corporate_number(number: object) -> TypeGuard[str]:
    """True if ``number`` is 13 digits (after normalisation) with a correct check digit."""
    normalized = _normalized_or_none(number)
    if normalized is None or not _is_ascii_digits(normalized, CORPORATE_NUMBER_LENGTH):
        return False
    return corporate_number_check_digit(normalized[1:]) == int(normalized[0])


def parse_municipality_code(value: object) -> str:
    """Return the canonical 6-digit code or raise :class:`InvalidIdentifier`."""
    if is_valid_municipality_code(value):
        return normalize_digits(value)
    raise InvalidIdentifier("not a valid municipality code (6 digits with check digit)")


def parse_corporate_number(value: object) -> str:
    """Return the canonical 13-digit number or raise :class:`InvalidIdentifier`."""
    if is_valid_corporate_number(value):
        return normalize_digits(value)
    raise InvalidIdentifier("not a valid corporate number (13 digits with check digit)")


def identifier_kind(value: object) -> str | None:
    """``"municipality"``, ``"corporate"`` or ``None``.

    The two formats have different lengths, so a value can never be both.
    """
    if is_valid_municipality_code(value):
        return "municipality"
    if is_valid_corporate_number(value):
        return "corporate"
    return None
