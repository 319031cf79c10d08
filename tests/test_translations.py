"""English must stay available: every French string of the interface has a translation."""

import re
from pathlib import Path

PO = Path(__file__).resolve().parents[1] / "locale" / "en" / "LC_MESSAGES" / "django.po"


def test_every_message_is_translated_and_compiled() -> None:
    text = PO.read_text(encoding="utf-8")
    entries = [entry for entry in text.split("\n\n") if "msgid" in entry][1:]
    untranslated = [
        entry
        for entry in entries
        if re.search(r'^msgstr(\[\d\])? ""\Z', entry.strip(), re.M)
        and not re.search(r'^"', entry.split("msgstr", 1)[1], re.M)
    ]
    fuzzy = [entry for entry in entries if "#, fuzzy" in entry]
    assert entries, "no message found"
    assert untranslated == [] and fuzzy == []
    assert PO.with_suffix(".mo").stat().st_mtime >= PO.stat().st_mtime - 1
