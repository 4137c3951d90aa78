"""The text node types, each run in isolation with the SDK's ``node_runner`` fixture."""

from __future__ import annotations

from typing import Any

import pytest

from wirehub_plugin_example import Slugify, SlugifyV1, WordCount
from wirehub_plugin_example.text import SlugifyOutput, WordCountOutput
from wirehub_sdk import ConfigError, NonRetryableError
from wirehub_sdk.testing import NodeRunner, Progress


async def test_slugify_makes_ascii_words_joined_by_the_separator(node_runner: NodeRunner) -> None:
    out = await node_runner(Slugify, input={"text": "Crème brûlée, 2 ways!"})
    assert out == SlugifyOutput("creme-brulee-2-ways")
    out = await node_runner(Slugify, config={"separator": "_", "lowercase": False}, input={"text": "Hello World"})
    assert out == SlugifyOutput("Hello_World")


async def test_slugify_cuts_at_a_word_boundary(node_runner: NodeRunner) -> None:
    text = {"text": "the quick brown fox"}
    assert (await node_runner(Slugify, config={"max_length": 12}, input=text)).slug == "the-quick"
    assert (await node_runner(Slugify, config={"max_length": 9}, input=text)).slug == "the-quick"
    assert (await node_runner(Slugify, config={"max_length": 2}, input=text)).slug == "th"


async def test_slugify_refuses_a_config_of_the_wrong_shape(node_runner: NodeRunner) -> None:
    with pytest.raises(ConfigError, match="max_length"):
        await node_runner(Slugify, config={"max_length": 0}, input={"text": "x"})
    with pytest.raises(ConfigError, match="unknown field `sep`"):
        await node_runner(Slugify, config={"sep": "-"}, input={"text": "x"})
    with pytest.raises(ConfigError, match="missing required field `text`"):
        await node_runner(Slugify, input={})


async def test_text_without_letters_or_digits_fails_for_good(node_runner: NodeRunner) -> None:
    with pytest.raises(NonRetryableError, match="no letters or digits") as caught:
        await node_runner(Slugify, input={"text": "!!! ???"})
    assert (caught.value.kind, caught.value.retryable) == ("example.empty_slug", False)


V1_CONFIGS = [{}, {"max_length": 0}, {"max_length": 7}, {"separator": "_", "max_length": 0}, {"separator": "--"}]


@pytest.mark.parametrize("v1_config", V1_CONFIGS)
async def test_a_migrated_v1_config_gives_the_same_slug_on_v2(
    node_runner: NodeRunner, v1_config: dict[str, Any]
) -> None:
    v2_config = Slugify.migrate_config(1, v1_config)
    assert v2_config is not None
    text = {"text": "Migrations keep old workflows working"}
    assert await node_runner(Slugify, config=v2_config, input=text) == await node_runner(
        SlugifyV1, config=v1_config, input=text
    )


def test_there_is_no_migration_from_an_unknown_version() -> None:
    assert Slugify.migrate_config(2, {}) is None
    assert Slugify.migrate_config(0, {}) is None


async def test_word_count_counts_words_and_reports_progress(node_runner: NodeRunner) -> None:
    out = await node_runner(WordCount, input={"text": "To be, or not to be: that is the question."})
    assert out == WordCountOutput(words=10, unique_words=8, longest="question")
    out = await node_runner(WordCount, config={"min_length": 3}, input={"text": "To be, or not to be"})
    assert out == WordCountOutput(words=1, unique_words=1, longest="not")
    assert node_runner.progress == [Progress("counted 10 words", 1.0), Progress("counted 1 words", 1.0)]


async def test_word_count_of_empty_text(node_runner: NodeRunner) -> None:
    assert await node_runner(WordCount, input={"text": ""}) == WordCountOutput(0, 0, None)
