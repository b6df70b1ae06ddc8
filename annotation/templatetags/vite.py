"""`{% vite_entry "src/pages/case.ts" %}`: script and style tags for a built frontend entry.

Reads Vite's manifest (frontend/dist/.vite/manifest.json). Without a build the tag says
so on the page instead of failing, so server-rendered pages still work.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@cache
def _manifest(path: Path, mtime: float) -> dict[str, Any]:
    del mtime  # part of the cache key so a rebuild is picked up
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def manifest() -> dict[str, Any] | None:
    path = Path(settings.FRONTEND_DIST) / ".vite" / "manifest.json"
    if not path.exists():
        return None
    return _manifest(path, path.stat().st_mtime)


def _css_of(entry: str, data: dict[str, Any], seen: set[str]) -> list[str]:
    if entry in seen or entry not in data:
        return []
    seen.add(entry)
    chunk = data[entry]
    files = list(chunk.get("css", []))
    for imported in chunk.get("imports", []):
        files.extend(_css_of(imported, data, seen))
    return files


@register.simple_tag
def vite_entry(entry: str) -> SafeString:
    data = manifest()
    if data is None or entry not in data:
        return format_html(
            '<p class="build-missing">The frontend is not built '
            "(run <code>make frontend</code>).</p>"
        )
    chunk = data[entry]
    css = _css_of(entry, data, set())
    links = format_html_join(
        "", '<link rel="stylesheet" href="{}">', ((static(name),) for name in dict.fromkeys(css))
    )
    script = format_html('<script type="module" src="{}"></script>', static(chunk["file"]))
    return mark_safe(links + script)  # noqa: S308 - built from format_html parts
