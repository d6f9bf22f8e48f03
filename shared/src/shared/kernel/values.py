"""Immutable values the cyclic garbage collector never has to walk."""

from __future__ import annotations

import msgspec


class Untracked(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The base of an immutable value made of ids, numbers, text and other such values only: it
    can hold no cycle, so its instances stay out of the cyclic collector (``gc=False``), which
    walks every tracked object young enough at each collection. For values a process keeps by
    the ten thousand (a reply's frames): as tracked objects they are what triggers and lengthens
    the collections, pauses every request in flight waits out."""
