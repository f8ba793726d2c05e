"""Per-source boilerplate: a line recurring in many articles of one outlet is learned and removed, from new
articles and from those stored earlier, with the statistics kept in the database."""

from __future__ import annotations

import duckdb
from conftest import Site, run_cli

from flows.boilerplate import line_key, strip_lines, text_lines

STANDING = "The Valley Courier's border desk is supported by the Rio Grande Community Foundation."

STORY = """<html><head><title>{title}</title><meta property="og:type" content="article">
<meta property="article:published_time" content="2026-11-2{n}T10:00:00Z"></head><body>
<article><h1>{title}</h1>
<p>Border Patrol agents in the Rio Grande Valley reported {n}00 apprehensions of asylum seekers this week,
according to figures released by U.S. Customs and Border Protection on Monday.</p>
<p>{unique} Immigration attorneys in Brownsville said the new asylum rule has slowed hearings at the
immigration court, and shelters in Matamoros are filling again as families wait for appointments.</p>
<p>{standing}</p>
<p>Officials at the Department of Homeland Security did not respond to a request for comment about the
deportation flight number {n} that left Harlingen this week for Central America.</p>
</article></body></html>"""

UNIQUE = [
    "A mother from Honduras said she had waited eleven days at the bridge.",
    "The county judge asked the governor for more state troopers at the river.",
    "Volunteers at the respite center served more than four hundred meals on Sunday.",
    "Two buses carrying migrants left McAllen for San Antonio before dawn on Tuesday.",
    "A federal judge in Brownsville set a hearing on the buoy barrier for next month.",
    "Farmworkers in Hidalgo County said checkpoint waits had doubled since October.",
]


def test_lines_and_stripping() -> None:
    text = f"First paragraph of news.\n{STANDING}\nLast paragraph of news."
    lines = text_lines(text)
    assert line_key(STANDING) in lines and line_key(
        "  the VALLEY courier's border desk is supported by the rio grande community foundation. "
    ) == line_key(STANDING)
    assert strip_lines(text, {line_key(STANDING)}) == "First paragraph of news.\nLast paragraph of news."
    assert strip_lines(text, set()) == text


def _site(site: Site, count: int) -> None:
    paths = []
    for n in range(count):
        path = f"/news/border/valley-story-number-{n}-asylum.html"
        site.put(path, STORY.format(title=f"Valley border story {n}", n=n, unique=UNIQUE[n], standing=STANDING))
        paths.append(path)
    items = "".join(f"<item><title>t</title><link>{{{{base:o}}}}{p}</link></item>" for p in paths)
    site.put("/feed.xml", f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>')


def test_boilerplate_is_learned_and_removed_from_old_and_new_articles(tmp_path) -> None:
    from flows.demo_site import serve_sample_site

    site = Site(tmp_path / "site")
    db = tmp_path / "bp.duckdb"
    config = tmp_path / "bp.toml"

    def run(count: int) -> None:
        _site(site, count)
        with serve_sample_site(site.root, first_port=site.port) as web:
            config.write_text(
                f'[storage]\ndb = "{db}"\nraw_dir = "{tmp_path / "raw"}"\n'
                '[crawl]\ndownload_delay = 0\nmax_age_days = 0\nallow_private_hosts = ["127.0.0.1"]\n'
                f'[[sources]]\nkey = "o"\nname = "O"\nlanguage = "en"\nfeeds = ["{web.bases["o"]}/feed.xml"]\n'
            )
            out = run_cli("run", "--config", str(config))
            assert out.returncode == 0, out.stdout + out.stderr

    run(3)  # three articles: the standing line is not yet boilerplate (threshold 4)
    with duckdb.connect(str(db), read_only=True) as con:
        texts = [t for (t,) in con.execute("SELECT text FROM articles").fetchall()]
        assert len(texts) == 3 and all(STANDING in t for t in texts)
    run(6)  # three more: now it is, and it leaves the stored articles too
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT text, version, word_count FROM articles").fetchall()
        assert len(rows) == 6
        assert not any(STANDING in text for text, _, _ in rows)
        assert all("Border Patrol agents" in text and version == 1 for text, version, _ in rows)
        assert all(wc == len(text.split()) for text, _, wc in rows)
        learned = con.execute("SELECT line, articles FROM boilerplate_lines WHERE articles >= 4").fetchall()
        assert learned == [(STANDING, 6)]
