"""Untrusted text (answers, labels, keywords, segment values) made inert in Markdown: it reads as typed, and no
renderer turns it into a link, an image, emphasis, HTML or a table cell break.

An answer ending in ``![x](//host/pixel.png)`` became a live image in report.md and in the Prefect artifact, which
fetched the pixel on every view; ``[cliquez ici](javascript:alert(1))`` became a link. Every character CommonMark
gives a meaning inside a line is backslash-escaped, HTML's three are entities, and a line break is a space.
"""

from __future__ import annotations

import re

# What makes a link or image ([ ] and the ! before), emphasis or code (* _ ~ `), a table cell break (|) and an
# escape (a backslash); plus the ':' of "scheme://" and the '.' of "www." that GFM would autolink. Other punctuation stays
# as typed, so that report.md reads well as plain text ("12.5 %", "c'est-à-dire").
_SPECIAL = re.compile(r"([\\`*_\[\]|~!])|(?<=\w):(?=//)|(?i:(?<=\bwww))\.")
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\n": " ", "\r": " "})


def md_text(text: object) -> str:
    """``text`` as literal Markdown inline content."""
    return _SPECIAL.sub(lambda m: "\\" + m.group(0), str(text).translate(_HTML))
