"""Masking personal data: the one place that decides what a masked record shows.

`mask()` is used by every output that masks: record reads and lists of households, pulls by
roles above grid worker, the visit ledger, the problem and rectification lists and all their
exports (whose fast paths mask each household once per export, services/lists.py).

- phone keeps its first 3 and last 4 digits: 138****1234
- a name keeps its first character: 张*, 欧**
- building, unit_no and room become '*'
- address keeps road, number and compound; the digits of every building, unit, floor and room
  designation become '*' (Appendix B):
  杏园东路175号杏园小区3号楼2单元201室 → 杏园东路175号杏园小区*号楼*单元*室
"""

import re

_DIGITS = "0-9０-９"
_LETTERS = "A-Za-zＡ-Ｚａ-ｚ"
_NUMBER = f"[{_DIGITS}]+[{_LETTERS}]?"
# A lone letter names a building or a room too (B栋, A座), unless it ends a word (SOHO3号楼).
# (The look-behind follows the letter so that every branch starts with a character set,
# which lets the regex engine skip ahead: the exports call this once per row.)
_LETTER = f"[{_LETTERS}](?<![{_LETTERS}{_DIGITS}].)"
_CHINESE_NUMBER = "[一二三四五六七八九十百零〇两]+"

# <designation><marker>: 3号楼, 5栋, 2幢, A座, 2单元, 6层, 6楼, 201室, 201户, 3#.
_DESIGNATED = re.compile(
    rf"(?:{_NUMBER}|{_LETTER})(?=\s*(?:号楼|栋|幢|座|单元|层|楼|室|户|#|＃))"
    # Chinese numerals only before building, unit and floor words (三号楼, 二单元, 十二层):
    # before 室/户/座 they are more often part of a name (三座门).
    rf"|{_CHINESE_NUMBER}(?=\s*(?:号楼|栋|幢|单元|层))"
)
# 3-2-201 and 3-201 (building-unit-room), but not a street number like 175-1号.
_HYPHENATED = re.compile(
    rf"(?<![{_DIGITS}])[{_DIGITS}]+(?:\s*[-－—–]\s*[{_DIGITS}]+[{_LETTERS}]?)+"
    rf"(?![{_DIGITS}]|\s*号(?!楼))"
)
_HAS_HYPHEN = re.compile("[-－—–]")
_HYPHEN_PART = re.compile(rf"[{_DIGITS}]+[{_LETTERS}]?")
# A bare room number ending the address after a unit, floor or building: …2单元201.
_TRAILING_ROOM = re.compile(rf"(?<=[元层楼栋幢座#＃])\s*{_NUMBER}$")


def mask_address(address):
    """The address with the digits of every building, unit, floor and room designation
    replaced by '*' (road, street number and compound name kept)."""
    if not address:
        return address
    masked = address
    if _HAS_HYPHEN.search(masked):  # the exports call this per row: skip passes that cannot hit
        masked = _HYPHENATED.sub(lambda m: _HYPHEN_PART.sub("*", m.group()), masked)
    masked = _DESIGNATED.sub("*", masked)
    if masked[-1].isalnum():
        masked = _TRAILING_ROOM.sub("*", masked)
    return masked


_PHONE_PUNCTUATION = str.maketrans("", "", "+- ()")


def mask_phone(phone):
    if not phone:
        return phone
    digits = phone.translate(_PHONE_PUNCTUATION)  # phones are digits, '+', '-' and spaces
    if not digits.isdigit():
        digits = "".join(c for c in digits if c.isdigit())
    if len(digits) < 8:
        return "*" * len(phone)
    return digits[:3] + "****" + digits[-4:]


def mask_name(name):
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_place(value):
    return "*" if value else value


# Every personal field any output carries, and how it is masked.
MASKS = {
    "head_name": mask_name,
    "phone": mask_phone,
    "address": mask_address,
    "building": mask_place,
    "unit_no": mask_place,
    "room": mask_place,
}


def mask(record):
    """A copy of a record or row (household, list row, ledger household) with every personal
    field it carries masked. The one masking function of every output."""
    masked = dict(record)
    for key, how in MASKS.items():
        if masked.get(key):
            masked[key] = how(masked[key])
    return masked


def masker(keys):
    """A function that masks a tuple of the fields keys (in that order) as mask() masks them
    in a record: for the exports, which mask every household a list names."""
    hows = tuple(MASKS.get(key) for key in keys)

    def masked(values):
        pairs = zip(hows, values, strict=True)
        # (a list, not a generator: this runs once per household of a list)
        return tuple([how(value) if how is not None and value else value for how, value in pairs])

    return masked
