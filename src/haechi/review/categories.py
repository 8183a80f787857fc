"""The triage categories a reviewer chooses from, with the key that sets each one.

The default set is this domain's (deepfake sexual-abuse material): synthetic sexual, real
sexual, sexual of unknown origin, not sexual, not relevant, and, in a group of its own,
victim identified — a file can be synthetic *and* show a victim someone has identified.
Categories of one group exclude each other; each group holds one current decision per file.

A unit replaces the set in ``HOME/review.toml``::

    [[category]]
    id = "synthetic_sexual"      # what the database, the API and the CLI use
    en = "Synthetic sexual"
    ko = "합성 성적 영상물"
    key = "1"                    # the keyboard shortcut on the triage page (one character)
    group = "content"            # categories of a group exclude each other
    custody = true               # the decision is a signed custody event (court-relevant)

Validated when loaded: a typo fails with one sentence naming the file and the entry.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from haechi.domain import UsageError
from haechi.i18n import t_

CONFIG = "review.toml"
_ID = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
# Keys the triage page keeps for itself (next, previous, help, add to case).
RESERVED_KEYS = frozenset("npjkc?")
_FIELDS = {"id", "en", "ko", "key", "group", "custody"}


@dataclass(frozen=True)
class Category:
    id: str
    en: str
    ko: str
    key: str
    group: str = "content"
    custody: bool = True

    def label(self, lang: str) -> str:
        return self.ko if lang == "ko" else self.en


DEFAULTS: tuple[Category, ...] = (
    Category("synthetic_sexual", "Synthetic sexual", "합성 성적 영상물", "1"),
    Category("real_sexual", "Real sexual", "실제 성적 촬영물", "2"),
    Category("sexual_unknown", "Sexual, origin unknown", "성적 (합성 여부 불명)", "3"),
    Category("not_sexual", "Not sexual", "성적이지 않음", "4"),
    Category("not_relevant", "Not relevant", "관련 없음", "5"),
    Category("victim_identified", "Victim identified", "피해자 식별됨", "6", group="victim"),
)


@dataclass(frozen=True)
class CategorySet:
    categories: tuple[Category, ...]
    source: str  # "defaults" or the file they came from

    def get(self, category_id: str) -> Category:
        for c in self.categories:
            if c.id == category_id:
                return c
        known = ", ".join(c.id for c in self.categories)
        raise UsageError(
            t_(
                "There is no category {category_id!r}; the categories are: {known}.",
                category_id=category_id,
                known=known,
            )
        )

    @property
    def groups(self) -> list[str]:
        return list(dict.fromkeys(c.group for c in self.categories))


def load_categories(home: Path) -> CategorySet:
    """The categories of a data directory (``HOME/review.toml``, else the defaults)."""
    path = home / CONFIG
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return CategorySet(DEFAULTS, "defaults")
    return _load(path, stamp)


@lru_cache(maxsize=8)
def _load(path: Path, _stamp: int) -> CategorySet:  # cached until the file changes
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(t_("{path} is not valid TOML: {exc}.", path=path, exc=exc)) from None
    unknown = set(data) - {"category"}
    if unknown:
        raise UsageError(
            t_(
                "Unknown section(s) {unknown} in {path}: use [[category]].",
                unknown=sorted(unknown),
                path=path,
            )
        )
    entries = data.get("category")
    if not isinstance(entries, list) or not entries:
        raise UsageError(t_("{path} defines no [[category]].", path=path))
    out: list[Category] = []
    for n, entry in enumerate(entries, 1):
        out.append(_category(path, n, entry))
    _check_unique(path, out)
    return CategorySet(tuple(out), str(path))


def _category(path: Path, n: int, entry: object) -> Category:
    where = f"category {n} of {path}"
    if not isinstance(entry, dict):
        raise UsageError(t_("{where} is not a table.", where=where))
    extra = set(entry) - _FIELDS
    if extra:
        raise UsageError(
            t_("Unknown setting(s) {extra} in {where}.", extra=sorted(extra), where=where)
        )
    for name in ("id", "en", "ko", "key"):
        if not isinstance(entry.get(name), str) or not entry[name].strip():
            raise UsageError(t_('{where} needs {name} = "...".', where=where, name=name))
    cid, key = entry["id"].strip(), entry["key"].strip()
    group = str(entry.get("group", "content")).strip()
    if not _ID.match(cid) or not _ID.match(group):
        raise UsageError(
            t_("In {where}, id and group are lower-case letters, digits and _.", where=where)
        )
    if len(key) != 1 or key in RESERVED_KEYS or not key.isprintable() or key.isspace():
        raise UsageError(
            t_(
                "In {where}, key is one character other than {reserved_keys}.",
                where=where,
                reserved_keys=" ".join(sorted(RESERVED_KEYS)),
            )
        )
    custody = entry.get("custody", True)
    if not isinstance(custody, bool):
        raise UsageError(t_("In {where}, custody is true or false.", where=where))
    en, ko = entry["en"].strip()[:80], entry["ko"].strip()[:80]
    return Category(cid, en, ko, key, group, custody)


def _check_unique(path: Path, cats: list[Category]) -> None:
    for attr in ("id", "key"):
        seen: set[str] = set()
        for c in cats:
            value = getattr(c, attr)
            if value in seen:
                raise UsageError(
                    t_(
                        "Two categories in {path} have the {attr} {value!r}.",
                        path=path,
                        attr=attr,
                        value=value,
                    )
                )
            seen.add(value)
