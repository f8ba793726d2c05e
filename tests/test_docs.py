"""The README is the reference: every command, setting, table and column is documented there."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from flows.cli import cli
from flows.config import CleanConfig, CrawlConfig, Source, StorageConfig, TopicConfig
from storage.db import connection

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_is_documented_with_an_example(command: str) -> None:
    assert f"`borderwatch {command}" in README
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and f"borderwatch {command}" in result.output


@pytest.mark.parametrize(
    ("section", "cls"),
    [
        ("[storage]", StorageConfig),
        ("[crawl]", CrawlConfig),
        ("[clean]", CleanConfig),
        ("[topic]", TopicConfig),
        ("[[sources]]", Source),
    ],
)
def test_every_setting_is_documented(section: str, cls: type) -> None:
    for field in dataclasses.fields(cls):
        assert f"| `{section} {field.name}` |" in README, f"{section} {field.name} missing from README"


def _documented_columns() -> dict[str, set[str]]:
    docs: dict[str, set[str]] = {}
    for block in re.split(r"^### ", README, flags=re.M)[1:]:
        name = re.match(r"`(\w+)`", block)
        if name:
            docs[name.group(1)] = set(re.findall(r"^\| `(\w+)` \|", block, flags=re.M))
    return docs


def test_every_table_and_column_is_documented_and_nothing_else(tmp_path: Path) -> None:
    with connection(tmp_path / "doc.duckdb") as con:
        rows = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
        ).fetchall()
    actual: dict[str, set[str]] = {}
    for table, column in rows:
        actual.setdefault(table, set()).add(column)
    assert _documented_columns() == actual
