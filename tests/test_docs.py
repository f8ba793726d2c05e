"""The README is the reference: every command, setting, table and column is documented there."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from conftest import run_cli

from flows.cli import cli
from flows.config import CleanConfig, CrawlConfig, ProcessingConfig, Source, StorageConfig, TopicConfig
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
        ("[processing]", ProcessingConfig),
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


def _documented_types() -> dict[tuple[str, str], str]:
    docs: dict[tuple[str, str], str] = {}
    for block in re.split(r"^### ", README, flags=re.M)[1:]:
        name = re.match(r"`(\w+)`", block)
        if name:
            for column, kind in re.findall(r"^\| `(\w+)` \| ([^|]+) \|", block, flags=re.M):
                docs[(name.group(1), column)] = kind.strip()
    return docs


def _normal_type(kind: str) -> str:
    kind = kind.replace('"', "").replace("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")
    return re.sub(r"\s+", " ", kind).upper()


def test_every_documented_type_is_the_real_one(tmp_path: Path) -> None:
    with connection(tmp_path / "doc.duckdb") as con:
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'main'"
        ).fetchall()
    documented = _documented_types()
    wrong = {
        (t, c): (documented.get((t, c)), kind)
        for t, c, kind in rows
        if _normal_type(documented.get((t, c), "")) != _normal_type(kind)
    }
    assert wrong == {}, "README type differs from the database: (documented, actual)"


def _example_queries() -> list[str]:
    block = re.search(r"^## Example queries\n\n```sql\n(.*?)^```", README, flags=re.M | re.S)
    assert block, "README has an ## Example queries section with one sql block"
    return [st.query for st in duckdb.extract_statements(block.group(1))]


@pytest.fixture(scope="module")
def demo_db(two_runs) -> Path:
    """The database the sample site's two pipeline runs built (conftest.two_runs)."""
    return two_runs["db"]


def test_example_queries_run_on_the_demo_database(demo_db: Path) -> None:
    queries = _example_queries()
    assert len(queries) >= 10
    empty = []
    for sql in queries:
        # through the CLI's read-only path, as a reader would run them ("--": the query starts with a comment)
        out = run_cli("sql", "--db", str(demo_db), "--format", "csv", "--", sql)
        assert out.returncode == 0, f"{sql}\n{out.stderr}"
        if len(out.stdout.splitlines()) < 2:
            empty.append(sql)
    # the demo has no multi-outlet story yet; every other example returns rows there
    assert len(empty) <= 1, empty
