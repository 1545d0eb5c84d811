"""Masking personal data: phone 138****1234, name 张*, building/unit/room '*'."""


def mask_phone(phone):
    if not phone:
        return phone
    digits = [c for c in phone if c.isdigit()]
    if len(digits) < 8:
        return "*" * len(phone)
    return "".join(digits[:3]) + "****" + "".join(digits[-4:])


def mask_name(name):
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_place(value):
    return "*" if value else value


def mask_household(record):
    """A copy of a household dict with its personal fields masked."""
    masked = dict(record)
    if "head_name" in masked:
        masked["head_name"] = mask_name(masked["head_name"])
    if "phone" in masked:
        masked["phone"] = mask_phone(masked["phone"])
    for key in ("building", "unit_no", "room"):
        if key in masked:
            masked[key] = mask_place(masked[key])
    return masked
