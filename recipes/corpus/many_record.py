"""Where a many-voice corpus keeps its record (``MANY_CORPUS.json``: configuration, sources and
one entry per speaker), and how the tools that read a split of it find that record. Light on
purpose: training and reports import it without the renderers."""

from __future__ import annotations

import json
from pathlib import Path

CONFIG_FILE = "MANY_CORPUS.json"


def many_speakers(folder: str | Path) -> list[dict] | None:
    """The speaker entries of the many-voice corpus record in ``folder`` or up to two folders
    above it (a split such as ``<root>/train-clean-100`` or a chapter inside it), or None when
    ``folder`` is not part of a many-voice corpus."""
    for candidate in (Path(folder), *Path(folder).resolve().parents[:2]):
        path = candidate / CONFIG_FILE
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))["speakers"]
    return None


LICENCES = ("any", "shippable")  # which speakers a training run may use


def unshippable_speakers(folder: str | Path) -> set[str]:
    """Ids of the speakers in the many-voice corpus record above ``folder`` whose sources
    do not allow shipped weights (MBROLA, FOTAQ: research recipes only). A folder outside a
    many-voice corpus is an error: nothing there says which voices may ship."""
    speakers = many_speakers(folder)
    if speakers is None:
        from palette.codec.files import UserError

        raise UserError(
            f"licence 'shippable' needs a many-voice corpus (its {CONFIG_FILE}); "
            f"{folder} is not in one"
        )
    return {str(s["speaker_id"]) for s in speakers if not s.get("shippable")}
