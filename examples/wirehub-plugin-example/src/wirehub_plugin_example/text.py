"""Text node types: ``example.slugify`` (versions 1 and 2) and ``example.word_count``."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

import msgspec

from wirehub_sdk import NodeContext, NodeType, NonRetryableError

_WORD = re.compile(r"[A-Za-z0-9]+")

Text = Annotated[str, msgspec.Meta(max_length=100_000, description="The text to work on.")]
Separator = Annotated[str, msgspec.Meta(min_length=1, max_length=3, description="Put between words.")]


def slugify(text: str, *, separator: str, max_length: int | None, lowercase: bool) -> str:
    """ASCII words of ``text`` joined by ``separator``, cut at a word boundary to ``max_length``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = [w.lower() if lowercase else w for w in _WORD.findall(ascii_text)]
    slug = separator.join(words)
    if max_length is not None and len(slug) > max_length:
        cut = slug[: max_length + len(separator)]
        boundary = cut.rfind(separator)
        slug = cut[:boundary] if boundary > 0 else slug[:max_length]
    return slug


class SlugifyInput(msgspec.Struct, forbid_unknown_fields=True):
    """The input of ``example.slugify``."""

    text: Text


class SlugifyOutput(msgspec.Struct):
    """The output of ``example.slugify``."""

    slug: str


class SlugifyConfigV1(msgspec.Struct, forbid_unknown_fields=True):
    """Version 1: ``max_length`` 0 means no limit."""

    separator: Separator = "-"
    max_length: Annotated[int, msgspec.Meta(ge=0)] = 0


class SlugifyConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Version 2: no limit is ``null``, and the case can be kept."""

    separator: Separator = "-"
    max_length: Annotated[int, msgspec.Meta(ge=1)] | None = None
    lowercase: bool = True


class _EmptySlug(NonRetryableError):
    kind = "example.empty_slug"


class SlugifyV1(NodeType[SlugifyConfigV1, SlugifyInput, SlugifyOutput]):
    """The first version, kept so definitions saved with it still run."""

    name = "example.slugify"
    version = 1
    title = "Slugify"
    description = "Turns text into a URL-safe slug. Superseded by version 2."

    async def execute(self, ctx: NodeContext, config: SlugifyConfigV1, input: SlugifyInput) -> SlugifyOutput:
        slug = slugify(input.text, separator=config.separator, max_length=config.max_length or None, lowercase=True)
        if not slug:
            raise _EmptySlug("the text has no letters or digits to make a slug of")
        return SlugifyOutput(slug)


class Slugify(NodeType[SlugifyConfig, SlugifyInput, SlugifyOutput]):
    """Turns text into a URL-safe slug: ASCII letters and digits, joined by a separator."""

    name = "example.slugify"
    version = 2
    title = "Slugify"
    description = "Turns text into a URL-safe slug, optionally cut to a length at a word boundary."

    @classmethod
    def migrate_config(cls, from_version: int, config: dict[str, Any]) -> dict[str, Any] | None:
        """Version 1 to 2: ``max_length`` 0 (no limit) becomes ``None``."""
        if from_version != 1:
            return None
        migrated = dict(config)
        if migrated.get("max_length") == 0:
            migrated["max_length"] = None
        return migrated

    async def execute(self, ctx: NodeContext, config: SlugifyConfig, input: SlugifyInput) -> SlugifyOutput:
        slug = slugify(input.text, separator=config.separator, max_length=config.max_length, lowercase=config.lowercase)
        if not slug:
            raise _EmptySlug("the text has no letters or digits to make a slug of")
        ctx.logger.debug("slug of %d characters", len(slug))
        return SlugifyOutput(slug)


class WordCountConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Config of ``example.word_count``."""

    min_length: Annotated[int, msgspec.Meta(ge=1, le=100)] = 1
    """Shorter words are not counted."""


class WordCountInput(msgspec.Struct, forbid_unknown_fields=True):
    """Input of ``example.word_count``."""

    text: Text


class WordCountOutput(msgspec.Struct):
    """Output of ``example.word_count``."""

    words: int
    unique_words: int
    longest: str | None


class WordCount(NodeType[WordCountConfig, WordCountInput, WordCountOutput]):
    """Counts the words of a text."""

    name = "example.word_count"
    version = 1
    title = "Word count"
    description = "Counts the words (runs of letters and digits) of a text, and the distinct ones."

    async def execute(self, ctx: NodeContext, config: WordCountConfig, input: WordCountInput) -> WordCountOutput:
        words = [w.lower() for w in re.findall(r"\w+", input.text) if len(w) >= config.min_length]
        await ctx.report_progress(f"counted {len(words)} words", 1.0)
        return WordCountOutput(
            words=len(words), unique_words=len(set(words)), longest=max(words, key=len, default=None)
        )
