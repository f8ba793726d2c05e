"""Articles per hour of the whole pipeline (`borderwatch run` → DuckDB) with politeness off and on. Prints JSON.

A local multi-outlet news web is generated and served with `flows.demo_site.serve_sample_site`, each outlet on
its own loopback address (127.0.0.1, 127.0.0.2, ...): Scrapy keys its download slot (delay and per-host
concurrency) by host name without the port, so outlets on ports of one address would share one slot.
Each outlet has a robots.txt (two Disallow lines, no Crawl-delay), a sitemap of its articles and ~600-word
article pages in one of two news templates (cookie banner, header and nav, an <article> with headline, byline,
time and paragraphs, JSON-LD and og: meta, related links, newsletter box, comments, footer). Outlets alternate
English and Spanish. Of every 20 pages of an outlet (interleaved in sitemap order), 4 are off topic (sports,
weather, city hall, arts), 5 are wire copy and 11 are its own border/migration stories. Wire copy: outlets of
one language are paired, and both of a pair carry the same wire stories, the second with its last paragraph cut
and a credit line added, so the cleaner, the relevance scorer and near-dup clustering all do real work. Text
comes from spun sentence templates (several alternatives every few words, names, places and figures drawn at
random), so unrelated stories share few word 5-shingles. Sitemaps carry no titles, so the crawler's title
screen lets every page through and the relevance scorer decides.

Modes, each a fresh database and raw archive, with the real CLI (`python -m flows.cli run --config X`) in a
subprocess:
  off: download_delay 0, concurrency_per_host 16 (AutoThrottle off, as the crawler does for delay 0), robots obeyed
  on:  the shipped defaults of flows/config.py CrawlConfig: download_delay 1.0 s (randomised 0.5-1.5x by Scrapy),
       concurrency_per_host 2, AutoThrottle on (its start delay is the download delay), robots obeyed
Both set max_pages_per_source above the outlet size and allow_private_hosts to the outlets' loopback addresses;
nothing else differs from the defaults. One Prefect home serves both runs and is set up first (`prefect_setup_s`,
not counted), as a scheduled deployment's would be.

What is measured, per mode:
- pages fetched, article pages, outcomes and articles stored (from the run's DuckDB); wire clusters found
  against the number the site was built with (`site.expected`: a check that the site made dedup and relevance
  do their work, not a figure of speed);
- wall time of the CLI process, and articles/hour over it;
- stage wall times, read from the flow run's Prefect task runs (crawl / clean / relevance / dedup-and-load: their
  start and end times in the Prefect home's database), not timed by this script; `outside_flow_run_s` is the CLI
  wall time outside the flow run (interpreter and imports, starting and stopping Prefect's ephemeral server),
  `in_flow_run_outside_stages_s` the flow run's time between stages (run lock, start_run, reading the ledger);
- the crawl's fetch span (first to last fetch, from the ledger), so `crawler_startup_and_close_s` is the rest
  of the crawl stage, and the median per-source rate from source_runs.crawl_s;
- CPU time and peak RSS per process: a sitecustomize.py put on PYTHONPATH for the CLI, and so inherited by every
  Python process it starts, writes getrusage(RUSAGE_SELF) at exit: `flow` (the CLI process), `crawler`,
  `clean_pool` (spawned workers), `other` (multiprocessing's resource tracker). Prefect's ephemeral server
  leaves no record (it is stopped with SIGTERM, which uvicorn re-raises): `prefect_server_by_difference` is the
  flow process's children's CPU less the recorded children. `unaccounted_cpu_s` is what this script's
  RUSAGE_CHILDREN saw beyond all that (not attributed; about 1 s a run in development).

`bottleneck` derives where scaling stops, from these figures: with politeness on, a source yields at most
`polite_pages_per_h_per_source` (its delay; measured in mode on). The crawler is one process: it tops out at
`crawler_ceiling_pages_per_h_measured` (its fetch rate with politeness off, loopback) or
`crawler_ceiling_pages_per_h_one_core` (one core over its CPU ms per page), whichever is lower, reached at
`sources_to_saturate_crawler` polite sources. The stages after the crawl (clean on a pool of all cores,
relevance, dedup+load) run after it and cost `post_crawl_s_per_page` of wall time per article page
(`ms_per_page_off` per stage), so past `sources_where_processing_passes_crawl` sources a run spends longer
processing than crawling; `pipeline_ceiling_*_per_h` is the politeness-off rate without the fixed per-run cost
(`fixed_overhead_per_run_s`: CLI wall less fetch span and post-crawl stages), the rate a large run tends to.
Per-page stage times include each stage's own fixed costs (worker pool start, topic load, database open), so
they shrink as runs grow: use a full-size run for the figures. `summary` puts this in words.

Usage (from the repository root):
  PYTHONPATH=. .venv/bin/python bench/pipeline_rate.py [--outlets 4] [--pages-per-outlet 250]
      [--on-pages-per-outlet 40] [--mode off|on|both] [--keep DIR]
--pages-per-outlet sizes the politeness-off run; --on-pages-per-outlet the politeness-on run (kept small: at
the default delay a source yields about one page a second, so 40 pages take ~45 s of crawling). --keep DIR keeps
the generated site, the databases and raw archives (DIR must not exist) instead of a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import unicodedata
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from statistics import median
from typing import Any
from urllib.parse import urlsplit

import flows  # noqa: F401 - Prefect's offline settings, before anything imports prefect
from flows.demo_site import serve_sample_site
from storage.archive import read_ledger

REPO = Path(__file__).resolve().parents[1]

# -- text --------------------------------------------------------------------------------------------------

FIRST = (
    "Ana María Carlos Elena Jorge Lucía Miguel Rosa Daniel Patricia José Laura Luis Sofía Ricardo Teresa "
    "David Gabriela Héctor Mónica Kevin Sarah Michael Jennifer Robert Emily James Rachel Thomas Megan"
).split()
LAST = (
    "García Hernández Martínez López González Pérez Rodríguez Sánchez Ramírez Torres Flores Rivera Gómez "
    "Díaz Cruz Morales Ortiz Castillo Smith Johnson Miller Davis Wilson Anderson Taylor Moore Jackson White"
).split()
SLOTS_COMMON: dict[str, Any] = {
    "name": lambda r: f"{r.choice(FIRST)} {r.choice(LAST)}",
    "n": lambda r: f"{r.randint(12, 4800):,}",
    "n2": lambda r: str(r.randint(2, 19)),
    "bign": lambda r: f"{r.randint(20, 190) * 1000 + r.randint(0, 999):,}",
    "pct": lambda r: str(r.randint(3, 61)),
    "money": lambda r: str(r.randint(2, 950)),
    "money2": lambda r: f"{r.randint(3, 18) * 500:,}",
    "year": lambda r: str(r.randint(2009, 2023)),
    "score": lambda r: f"{r.randint(60, 99)}-{r.randint(50, 98)}",
    "temp": lambda r: str(r.randint(38, 108)),
}
SLOTS_EN = {
    **SLOTS_COMMON,
    "sector": lambda r: r.choice(["El Paso", "Tucson", "Yuma", "Del Rio", "Laredo", "Rio Grande Valley", "San Diego"]),
    "agency": lambda r: r.choice(
        ["U.S. Customs and Border Protection", "the Border Patrol", "Homeland Security", "ICE", "the city"]
    ),
    "port": lambda r: r.choice(["Paso del Norte", "San Ysidro", "Nogales", "Hidalgo", "Eagle Pass", "Ysleta"]),
    "city": lambda r: r.choice(["El Paso", "Brownsville", "Laredo", "McAllen", "Nogales", "San Diego", "Yuma"]),
    "us_city": lambda r: r.choice(["El Paso", "Harlingen", "Eagle Pass", "Del Rio", "Tucson", "Houston", "Phoenix"]),
    "mx_city": lambda r: r.choice(["Ciudad Juárez", "Tijuana", "Reynosa", "Matamoros", "Nuevo Laredo", "Mexicali"]),
    "country": lambda r: r.choice(["Venezuela", "Honduras", "Guatemala", "Haiti", "Ecuador", "Colombia", "Cuba"]),
    "court_city": lambda r: r.choice(["Austin", "New Orleans", "San Diego", "Tucson", "Washington", "Houston"]),
    "law": lambda r: r.choice(["Senate Bill 4", "the state's new border law", "the asylum ban", "the parole rule"]),
    "org": lambda r: r.choice(["Witness at the Border", "TRAC", "the Migration Policy Institute", "a flight tracker"]),
    "month": lambda r: r.choice(["January", "March", "April", "June", "August", "September", "December"]),
    "weekday": lambda r: r.choice(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]),
    "business": lambda r: r.choice(["a meatpacking plant", "a construction site", "a farm", "a restaurant supplier"]),
    "facility": lambda r: r.choice(["the Dilley family center", "the Otero County center", "a tent facility"]),
    "team": lambda r: r.choice(["Chihuahuas", "Locomotive", "Miners", "Aggies", "Lobos", "Wildcats", "Roadrunners"]),
    "team2": lambda r: r.choice(["Sun Devils", "Red Raiders", "Mustangs", "Bobcats", "Coyotes", "Falcons"]),
    "highway": lambda r: r.choice(["Interstate 10", "Loop 375", "U.S. 54", "Mesa Street", "Transmountain Road"]),
    "exit": lambda r: r.choice(["Sunland Park Drive", "Airway Boulevard", "Zaragoza Road", "Montana Avenue"]),
    "place": lambda r: r.choice(["Las Cruces", "Albuquerque", "Lubbock", "Midland", "Odessa", "Santa Fe"]),
    "shop": lambda r: r.choice(["a bakery downtown", "a taco shop", "a hardware store", "a bookshop", "a gym"]),
}
SLOTS_ES = {
    **SLOTS_EN,
    "agency_es": lambda r: r.choice(["Instituto Nacional de Migración", "la Secretaría de Gobernación", "la CBP"]),
    "country_es": lambda r: r.choice(["Venezuela", "Honduras", "Guatemala", "Haití", "Ecuador", "Colombia", "Cuba"]),
    "law_es": lambda r: r.choice(["la ley SB4", "la nueva ley fronteriza de Texas", "la prohibición de asilo"]),
    "org_es": lambda r: r.choice(["la Cancillería", "el INM", "la Unidad de Política Migratoria"]),
    "month_es": lambda r: r.choice(["enero", "marzo", "abril", "junio", "agosto", "septiembre", "diciembre"]),
    "weekday_es": lambda r: r.choice(["lunes", "martes", "miércoles", "jueves", "viernes", "sábado"]),
    "business_es": lambda r: r.choice(["una panadería del centro", "una taquería", "una ferretería", "un gimnasio"]),
    "team_es": lambda r: r.choice(["los Indios", "los Dorados", "los Bravos", "los Algodoneros", "los Toros"]),
    "place_es": lambda r: r.choice(["Torreón", "Saltillo", "Hermosillo", "Durango", "Monterrey", "Zacatecas"]),
}

QUOTE_EN = (
    "{We are seeing|We keep seeing|Every day we see} {people|families|mothers} who {have waited|waited} {months|weeks} "
    "for a {chance|turn|date} to ask for asylum",
    "The border is not {closed|shut}, but it is {much harder|far harder|harder than ever} to {cross|get through}",
    "{Nobody|No one} here knows what the rules will be {next week|next month|after the holidays}",
    "They {came|arrived} with nothing but their {children|kids} and their {papers|documents}",
    "We enforce the law as {it is written|Congress wrote it|it stands}, {nothing more|no more and no less}",
    "This {policy|rule|order} sends people back to the {danger|violence|threats} they {fled|escaped}",
    "Our shelters are {full|at capacity|overflowing} and {the winter|the cold|December} is coming",
)
QUOTE_ES = (
    "{Aquí nadie|Nadie aquí} sabe cuáles serán las reglas {la próxima semana|el próximo mes|después de las fiestas}",
    "{Llegaron|Vinieron} sin nada más que sus {hijos|niños} y sus {papeles|documentos}",
    "Los albergues están {llenos|saturados|al tope} y ya {viene|llega} el {invierno|frío}",
    "Cada familia que {atendemos|recibimos} tiene una historia de {extorsión|amenazas|violencia} en el camino",
)

ON_EN = (
    "{Border Patrol agents|Federal agents|Agents of the Border Patrol} in the {sector} sector {reported|recorded|"
    "logged} {n} {apprehensions|encounters|arrests} {last week|over the weekend|since {weekday}}, {down|up} "
    "{pct} percent {from|compared with} the {previous|prior} {week|month}.",
    "{name}, {a spokesperson|a spokeswoman|a spokesman} for {agency}, {said|told reporters|wrote in an email} that "
    "{the agency|officers|the department} would {send|assign|move} {n} {more|additional} {agents|officers|staff} to "
    "the {port} {port of entry|crossing|bridge} {by|before|starting in} {month}.",
    '"{quote_en}," said {name}, {who|a lawyer who|a pastor who} {runs|directs|volunteers at} a {shelter|migrant '
    "shelter|legal clinic|soup kitchen} in {city}.",
    "The {new|revised|proposed} {rule|policy|executive order} {limits|restricts|narrows} {asylum eligibility|access "
    "to asylum} for {people|migrants|families} who {cross|enter|arrive} {between ports of entry|without an "
    "appointment}, {and|while} {critics|advocates|immigration lawyers} {say|argue|warn} it {violates|ignores|"
    "undermines} {federal law|international obligations|decades of precedent}.",
    "{A federal judge|An appeals court|A district judge} in {court_city} {blocked|paused|allowed|upheld} {part of|"
    "a key provision of|enforcement of} {law}, {ruling|writing|finding} that {immigration enforcement|regulating "
    "the border} {is|remains|has long been} {a federal responsibility|the job of Washington}.",
    "In {mx_city}, {shelter operators|church volunteers|aid workers} {said|estimated} that {n} {migrants|asylum "
    "seekers|people} {were waiting|remained|were sleeping} {in shelters|on the streets|near the international "
    "bridge}, {many|most|some} of them from {country}.",
    "The immigration court backlog in {city} {passed|topped|reached} {bign} cases {this month|in {month}|last "
    "quarter}, {and|while} {the average wait|wait times} for a {first hearing|decision} {grew|rose} to {n2} months.",
    "{Deportation flights|Removal flights} to {country} {resumed|increased|doubled|slowed} {last week|this month|"
    "on {weekday}}, with {n} {people|deportees|migrants} {returned|sent back|removed} from {us_city}, according to "
    "{data from|figures compiled by} {org}.",
    "{Governor Greg Abbott|State officials|The Texas Department of Public Safety} {said|announced|pledged} that "
    "{Operation Lone Star|the razor wire program|the buoy barrier} would {continue|expand|stay in place} {through|"
    "into} {month}, {at a cost of|costing} {money} million dollars.",
    "{Mexican authorities|The National Migration Institute|Mexico's National Guard} {detained|stopped|turned back} "
    "{n} migrants {near|outside|south of} {mx_city} {on {weekday}|this week}, {under|as part of} {an agreement|a "
    "deal} with {Washington|the United States} to {reduce|slow|curb} {northbound|irregular} migration.",
    "Appointments {through|on} the CBP One {app|application} {were|have been} {cut|reduced|suspended} to {n} a day "
    "at the {port} {port of entry|crossing}, {leaving|stranding} {families|thousands} {in limbo|south of the "
    "border} {for weeks|for months}.",
    "{ICE|Immigration and Customs Enforcement} {arrested|detained|picked up} {n} {people|workers|immigrants} "
    "{during|after} {a raid|an operation|a worksite operation} at {business} {in|near} {us_city}, {the agency "
    "said|officials said|lawyers for the workers said}.",
    "{Advocates|Immigration lawyers|Civil rights groups} {filed|brought} {a lawsuit|a legal challenge|an emergency "
    "motion} {on {weekday}|this week} {challenging|seeking to block} the {detention of|treatment of} {families|"
    "children|asylum seekers} at {facility}.",
    "{Smugglers|Human smugglers} {charged|demanded} {money2} dollars {per person|a head} to {cross|guide people "
    "across} the {Rio Grande|desert|river} near {us_city}, {said|according to} {name}, {a Homeland Security "
    "Investigations agent|a federal prosecutor|a sheriff's deputy}.",
    "The {number|count} of {unaccompanied children|family units} {crossing|apprehended} {in the|near the} {sector} "
    "{sector|area} {fell|rose|dropped} {to|below|above} {n} in {month}, {the lowest|the highest|a level not seen} "
    "since {year}.",
    "{Lawmakers|House Republicans|A bipartisan group of senators} {in Washington|in Congress} {debated|advanced|"
    "introduced} {a bill|a measure|a funding package} that would {add|hire|fund} {n} {Border Patrol agents|"
    "immigration judges|asylum officers|detention beds}.",
    "{Along|On} the {river|levee} in {us_city}, {National Guard soldiers|state troopers|Border Patrol agents} "
    "{stood watch|patrolled|unrolled razor wire} {as|while} {families|small groups} {waded|tried to cross} {the "
    "water|toward the fence}.",
    "Remittances from {migrants|workers} in the United States to {country} {reached|fell to|rose to} {money} "
    "million dollars in {month}, {and|while} {economists|analysts} {warned|noted} a {proposed|new} {tax on "
    "remittances|remittance levy} {could|would} {cut|reduce} them.",
    "{name}, {a mother of three|a construction worker|a farmworker} from {country}, said {she|he} {had waited|"
    "spent} {n2} {weeks|months} in {mx_city} {for an appointment|before crossing} after {fleeing|escaping} "
    "{violence|extortion|threats} at home.",
    "{Officials|Analysts} {attributed|linked} the {drop|decline|shift} {to|partly to} {stricter enforcement|the new "
    "asylum rule|expanded deportations}, {though|but} {others|advocates|researchers} {pointed to|cited} "
    "{seasonal patterns|the economy|cartel violence}.",
    "{The Department of Homeland Security|DHS} {said|announced|confirmed} {on {weekday}|this week} that "
    "{temporary protected status|humanitarian parole} for {n} {people|migrants} from {country} would {end|expire|"
    "be extended} in {month}.",
    "{Trucks|Cargo trucks} {waited|lined up} for {n2} hours at the {port} {bridge|crossing} {after|because} "
    "{inspections|secondary inspections} {were|had been} {tightened|stepped up} by {CBP officers|state troopers}.",
)
ON_ES = (
    "{Agentes de la Patrulla Fronteriza|Agentes fronterizos} en el sector {sector} {reportaron|registraron} {n} "
    "{detenciones|encuentros|aprehensiones} {la semana pasada|el fin de semana}, {una caída|un aumento} de {pct} "
    "por ciento {respecto al|frente al} {mes|periodo} anterior.",
    "{name}, {vocero|portavoz|representante} de {agency_es}, {dijo|afirmó|informó} que {la dependencia|las "
    "autoridades} {enviará|desplegará} {n} {agentes|elementos} {adicionales|más} a la garita de {port} {antes de|"
    "a partir de} {month_es}.",
    '"{quote_es}", {dijo|comentó|señaló} {name}, quien {dirige|coordina|atiende} {un albergue|una casa del '
    "migrante|un comedor} en {mx_city}.",
    "{La nueva|La más reciente} {regla|política|orden ejecutiva} {limita|restringe} {el acceso al asilo|las "
    "solicitudes de asilo} para {quienes|los migrantes que} {cruzan|llegan} {entre puertos de entrada|sin cita}, "
    "{y|mientras que} {organizaciones civiles|abogados de inmigración} {sostienen|advierten} que {viola|ignora} "
    "{la ley federal|los tratados internacionales}.",
    "En {mx_city}, {los albergues|las casas del migrante} {reportaron|estimaron} que {n} {migrantes|solicitantes de "
    "asilo|personas} {esperaban|dormían} {en albergues|en la calle|cerca del puente internacional}, {muchos|la "
    "mayoría} {procedentes de|originarios de} {country_es}.",
    "{Los vuelos de deportación|Los vuelos de repatriación} hacia {country_es} {se reanudaron|aumentaron|"
    "disminuyeron} {la semana pasada|este mes|el {weekday_es}}, con {n} {personas|connacionales} {repatriadas|"
    "deportadas} desde {us_city}, según {datos de|cifras de} {org_es}.",
    "{El Instituto Nacional de Migración|La Guardia Nacional|Agentes del INM} {detuvo|detuvieron|interceptaron} a "
    "{n} migrantes {cerca de|al sur de} {mx_city} {el {weekday_es}|esta semana}, {como parte de|en el marco de} "
    "{un acuerdo|un convenio} con {Washington|Estados Unidos} para {reducir|contener} {los flujos migratorios|la "
    "migración irregular}.",
    "Las citas {de|en} la aplicación CBP One {fueron|han sido} {reducidas|suspendidas} a {n} por día en la garita de "
    "{port}, {lo que dejó|dejando} a {miles de familias|cientos de migrantes} {en espera|varados} {durante "
    "semanas|durante meses}.",
    "{name}, {madre de tres hijos|trabajador de la construcción|jornalero} {originario de|procedente de} "
    "{country_es}, {contó|relató} que {esperó|pasó} {n2} {semanas|meses} en {mx_city} {por una cita|antes de "
    "cruzar} {tras|después de} {huir de|escapar de} {la violencia|la extorsión|las amenazas} en su país.",
    "Las remesas de {migrantes|trabajadores} en Estados Unidos hacia {country_es} {alcanzaron|sumaron|cayeron a} "
    "{money} millones de dólares en {month_es}, {y|mientras} {economistas|analistas} {advirtieron|señalaron} que "
    "{un impuesto a las remesas|el nuevo gravamen} podría {reducirlas|frenarlas}.",
    "{Un juez federal|Una corte de apelaciones} en {court_city} {bloqueó|suspendió|ratificó} {parte de|la "
    "aplicación de} {law_es}, {al señalar|al concluir} que {el control de la frontera|la aplicación de las leyes "
    "migratorias} {es|sigue siendo} {responsabilidad del gobierno federal|facultad de Washington}.",
    "{Camiones de carga|Transportistas} {esperaron|hicieron fila} {n2} horas en el {puente internacional|cruce} de "
    "{port} {después de que|cuando} {agentes de CBP|autoridades aduanales} {reforzaran|endurecieran} {las "
    "inspecciones|las revisiones}.",
    "{Las autoridades|Los analistas} {atribuyeron|vincularon} {la caída|el descenso} {a|en parte a} {la nueva regla "
    "de asilo|los operativos en México|las deportaciones masivas}, {aunque|pero} {otros|investigadores|defensores} "
    "{señalaron|citaron} {patrones estacionales|la economía|la violencia de los cárteles}.",
    "{Polleros|Traficantes de personas} {cobraban|exigían} {money2} dólares {por persona|por cabeza} para cruzar "
    "{el río Bravo|el desierto} cerca de {mx_city}, {según|afirmó} {name}, {fiscal federal|agente de "
    "investigación|policía municipal}.",
)
OFF_EN = (
    "The {team} {beat|defeated|edged|lost to} the {team2} {score} {on {weekday}|in overtime|at home}, {behind|"
    "thanks to|despite} {n2} points from {name}.",
    "{Forecasters|Meteorologists} {expect|predict} {highs|temperatures} {near|around|above} {temp} degrees {on "
    "{weekday}|this weekend}, with {a chance of|scattered} {showers|thunderstorms|dust storms} {in the afternoon|"
    "by evening}.",
    "{The city council|Commissioners|The school board} in {place} {approved|voted down|delayed} {a plan|a proposal} "
    "to {repave|rebuild|renovate} {n2} {miles of streets|park trails|school gyms} {at a cost of|for about} {money} "
    "million dollars.",
    "{name}, {owner|manager|chef} of {shop}, said {sales|business|foot traffic} {picked up|slowed|held steady} "
    "{during|after} the {holiday|festival|rodeo} {season|weekend}.",
    "The {museum|symphony|public library} in {place} {will host|presents|is planning} {an exhibit|a concert|a "
    "festival} {of|celebrating} {local painters|mariachi music|desert photography} starting {month} {n2}.",
    "{Tickets|Admission} {cost|runs} {n2} dollars {for adults|per person} and {children under 12|students} {get in "
    "free|pay half}, {organizers said|according to the organizers}.",
    "{Traffic|Two lanes} on {highway} {will be|were} {closed|reduced|detoured} near {exit} {overnight|through "
    "{weekday}}, {the transportation department said|officials said}.",
    "{Coach|Head coach} {name} said the {team|squad} {practiced|trained} {hard|late} {this week|all season} and "
    "{expects|hopes} to {win|improve} against the {team2} {next|on} {weekday}.",
    "{Local farmers|Pecan growers|Chile farmers} {said|reported} {the harvest|yields} {was|looked} {strong|better "
    "than expected|disappointing} {this year|after the rains}, with {prices|costs} {up|down} {pct} percent.",
)
OFF_ES = (
    "{team_es} {vencieron|derrotaron|perdieron ante} a {los Toros|los Saraperos|los Sultanes} {score} {el "
    "{weekday_es}|en tiempo extra|como locales}, con {n2} puntos de {name}.",
    "{Los meteorólogos|Protección Civil} {pronostica|prevé} {temperaturas|máximas} de {hasta|cerca de} {temp} "
    "grados {el {weekday_es}|este fin de semana}, con {probabilidad de|posibles} {lluvias|tormentas} {por la "
    "tarde|durante la noche}.",
    "{El cabildo|El ayuntamiento} de {place_es} {aprobó|rechazó|pospuso} {un plan|una propuesta} para {pavimentar|"
    "renovar|ampliar} {n2} {kilómetros de calles|parques|escuelas} con {una inversión de|un costo de} {money} "
    "millones de pesos.",
    "{name}, {dueño|gerente|chef} de {business_es}, {dijo|comentó} que {las ventas|los pedidos} {aumentaron|bajaron|"
    "se mantuvieron} {durante|después de} {la feria|el festival|las fiestas}.",
    "{El museo|La orquesta|El teatro municipal} de {place_es} {presentará|prepara} {una exposición|un concierto|un "
    "festival} {de|sobre} {pintores locales|música de mariachi|historia regional} a partir del {n2} de {month_es}.",
    "{Productores de nuez|Agricultores|Ganaderos} {dijeron|reportaron} que {la cosecha|los rendimientos} {fue|será} "
    "{buena|mala|mejor de lo esperado} {este año|tras las lluvias}, con {precios|costos} {al alza|a la baja}.",
)
HEAD = {
    ("en", True): (
        "{Border Patrol|CBP|Federal agents} {report|record} {rise|drop} in {crossings|apprehensions} near {city}",
        "{Judge|Appeals court} {blocks|allows} {law}",
        "{Shelters|Migrant shelters} in {mx_city} {fill up|overflow} as {asylum|CBP One} {waits grow|slots shrink}",
        "Deportation flights to {country} {resume|double|slow} from {us_city}",
        "{name} waited {n2} months in {mx_city} for {asylum|a hearing}",
        "Immigration court backlog in {city} tops {bign} cases",
    ),
    ("es", True): (
        "{Patrulla Fronteriza|CBP} {reporta|registra} {alza|baja} en {cruces|detenciones} cerca de {city}",
        "{Albergues|Casas del migrante} de {mx_city} {se saturan|llegan al límite} por {la espera|el asilo}",
        "{Aumentan|Se reanudan} los vuelos de deportación a {country_es}",
        "{Juez|Corte} {frena|avala} {law_es}",
        "{INM|Guardia Nacional} {detiene|intercepta} a {n} migrantes en {mx_city}",
    ),
    ("en", False): (
        "{team} {beat|edge|fall to} {team2} {score}",
        "{Storms|Heat|Wind} {expected|forecast} for {place} this {weekday}",
        "{City council|School board} {approves|delays} {n2} million dollar {street|park} plan",
        "{Museum|Symphony} in {place} {opens|plans} {exhibit|concert} season",
    ),
    ("es", False): (
        "{team_es} {vencen|pierden} {score}",
        "{Pronostican|Prevén} {lluvias|calor} en {place_es} este {weekday_es}",
        "{Cabildo|Ayuntamiento} de {place_es} {aprueba|pospone} {obras|plan} de {n2} millones",
    ),
}
# page kinds in sitemap order, repeated: 11 own stories (O), 5 wire copies (W), 4 off topic (F) in every 20
MIX = "OWFOOWOFOWOOWFOOWOFO"
WIRE_CREDIT = {"en": "Reporting by the Border Wire Service.", "es": "Con información de la agencia Frontera Hoy."}

_GROUP = re.compile(r"\{([^{}]*)\}")


def spin(template: str, r: random.Random, slots: dict[str, Any]) -> str:
    """Resolve {a|b|c} choices and {slot} fillers, innermost first."""
    while True:
        m = _GROUP.search(template)
        if m is None:
            return template
        body = m.group(1)
        if "|" in body:
            value = r.choice(body.split("|"))
        elif body.startswith("quote_"):
            value = spin(r.choice(QUOTE_EN if body == "quote_en" else QUOTE_ES), r, slots)
        else:
            value = slots[body](r)
        template = template[: m.start()] + value + template[m.end() :]


def story(r: random.Random, lang: str, on_topic: bool, words: int) -> tuple[str, list[str]]:
    """A headline and ~`words` words of paragraphs of 2-3 sentences."""
    slots = SLOTS_EN if lang == "en" else SLOTS_ES
    pool = {("en", True): ON_EN, ("es", True): ON_ES, ("en", False): OFF_EN, ("es", False): OFF_ES}[(lang, on_topic)]
    title = spin(r.choice(HEAD[(lang, on_topic)]), r, slots)
    paragraphs: list[str] = []
    count, last = 0, -1
    while count < words:
        sentences = []
        for _ in range(r.randint(2, 3)):
            i = r.choice([k for k in range(len(pool)) if k != last])
            last = i
            sentences.append(spin(pool[i], r, slots))
        paragraph = " ".join(sentences)
        count += len(paragraph.split())
        paragraphs.append(paragraph)
    return title, paragraphs


# -- pages -------------------------------------------------------------------------------------------------


def slugify(title: str) -> str:
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:70]


def page_html(outlet: dict[str, Any], art: dict[str, Any], related: list[dict[str, Any]]) -> str:
    """One article page in the outlet's template: chrome around an <article>."""
    base, name, lang = f"{{{{base:{outlet['key']}}}}}", outlet["name"], outlet["language"]
    url, title = base + art["path"], escape(art["title"])
    published = art["published"].isoformat(timespec="seconds")
    shown = art["published"].strftime("%b. %d, %Y, %H:%M")
    body = "\n".join(f"<p>{escape(p)}</p>" for p in art["paragraphs"])
    rel = "\n".join(f'<li><a href="{base}{x["path"]}">{escape(x["title"])}</a></li>' for x in related)
    nav = "\n".join(
        f'<li><a href="{base}/{s.lower()}/">{s}</a></li>'
        for s in (outlet["sections"] + ["Opinion", "Weather", "Obituaries", "Contact"])
    )
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": art["title"],
            "datePublished": published,
            "dateModified": published,
            "author": [{"@type": "Person", "name": art["author"]}],
            "publisher": {"@type": "NewsMediaOrganization", "name": name, "url": base + "/"},
            "mainEntityOfPage": {"@type": "WebPage", "@id": url},
            "inLanguage": lang,
        },
        ensure_ascii=False,
    )
    head = f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} | {escape(name)}</title>
<meta name="description" content="{escape(art["paragraphs"][0][:150])}">
<meta name="author" content="{escape(art["author"])}">
<link rel="canonical" href="{url}">
<meta property="og:site_name" content="{escape(name)}"><meta property="og:type" content="article">
<meta property="og:title" content="{title}"><meta property="og:url" content="{url}">
<meta property="article:published_time" content="{published}">
<style>body{{font-family:Georgia,serif;margin:0}} .site-header{{border-bottom:3px solid #333}}
nav ul{{list-style:none;display:flex;gap:1rem}} main{{max-width:760px;margin:auto}}</style>
<script type="application/ld+json">{ld}</script>
<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments)}}
gtag('js',new Date());</script>
</head>"""
    by = "By" if lang == "en" else "Por"
    if outlet["style"] == "wp":
        return f"""{head}
<body class="single single-post">
<div class="cookie-banner" role="dialog"><p>{escape(outlet["cookie"])}</p><button>OK</button></div>
<header class="site-header"><div class="brand"><a class="logo" href="{base}/">{escape(name)}</a>
<span class="tagline">{escape(outlet["tagline"])}</span></div>
<nav class="main-nav" aria-label="Main menu"><ul>{nav}</ul></nav></header>
<main id="main" class="site-main">
<article class="post type-post status-publish" id="post-{art["id"]}">
<header class="entry-header"><div class="kicker"><a href="{base}/{outlet["sections"][0].lower()}/">
{outlet["sections"][0]}</a></div>
<h1 class="entry-title">{title}</h1>
<p class="byline">{by} <a rel="author" href="{base}/author/{slugify(art["author"])}/">{escape(art["author"])}</a></p>
<p class="dateline"><time class="published" datetime="{published}">{shown}</time></p></header>
<div class="entry-content">
{body}
</div>
<footer class="entry-footer"><span class="cat-links">{outlet["sections"][0]}</span></footer>
</article>
<aside class="member-cta"><h2>{escape(outlet["cta"])}</h2><a class="button" href="{base}/join/">Join</a></aside>
<section class="related-stories"><h2>{"Related stories" if lang == "en" else "Notas relacionadas"}</h2>
<ul>{rel}</ul></section>
<section class="newsletter-signup"><h3>Newsletter</h3><p>{escape(outlet["newsletter"])}</p>
<form action="#" method="post"><input type="email" name="email"><button type="submit">OK</button></form></section>
</main>
<footer class="site-footer"><p>&copy; 2026 {escape(name)}. {escape(outlet["rights"])}</p>
<p><a href="{base}/privacy/">Privacy</a> &middot; <a href="{base}/terms/">Terms</a></p></footer>
</body></html>
"""
    half = len(art["paragraphs"]) // 2
    first = "\n".join(f"<p>{escape(p)}</p>" for p in art["paragraphs"][:half])
    rest = "\n".join(f"<p>{escape(p)}</p>" for p in art["paragraphs"][half:])
    inline = related[0] if related else art
    return f"""{head}
<body>
<div id="consent" class="consent"><span>{escape(outlet["cookie"])}</span></div>
<div class="top-bar"><a href="{base}/">{escape(name)}</a><div class="weather-widget">72&deg;</div></div>
<nav class="sections-menu"><ul>{nav}</ul></nav>
<div class="layout"><div class="main-column">
<article class="story" data-id="{art["id"]}">
<h1 class="headline" itemprop="headline">{title}</h1>
<div class="byline"><span class="author" itemprop="author">{escape(art["author"])}</span>
<time itemprop="datePublished" datetime="{published}">{shown}</time></div>
<div class="story-body" itemprop="articleBody">
{first}
<div class="inline-related"><strong>{"Read more" if lang == "en" else "Lea también"}:</strong>
<a href="{base}{inline["path"]}">{escape(inline["title"])}</a></div>
{rest}
</div>
<div class="share-tools"><a href="#">Facebook</a> <a href="#">X</a> <a href="#">WhatsApp</a></div>
</article>
<div class="comments"><h3>{"Comments" if lang == "en" else "Comentarios"}</h3><p>{escape(outlet["comments"])}</p></div>
</div>
<aside class="rail"><h3>{"Most read" if lang == "en" else "Lo más leído"}</h3><ol>{rel}</ol>
<div class="ad-slot" data-ad="rail-1"></div></aside></div>
<footer class="footer"><p>{escape(outlet["rights"])} &copy; 2026 {escape(name)}</p></footer>
</body></html>
"""


CHROME = {
    "en": {
        "sections": ["Border", "News", "Sports", "Business"],
        "cookie": "We use cookies to personalize content and analyze our traffic. By continuing you agree.",
        "tagline": "News from the heart of the borderland",
        "cta": "Support local journalism: become a member today",
        "newsletter": "Sign up for our weekly newsletter to get the most important stories in your inbox.",
        "rights": "All rights reserved.",
        "comments": "Comments are moderated. Please keep the conversation civil.",
    },
    "es": {
        "sections": ["Frontera", "Local", "Deportes", "Negocios"],
        "cookie": "Usamos cookies para personalizar el contenido y analizar el tráfico. Al continuar, acepta.",
        "tagline": "Noticias de la frontera norte",
        "cta": "Apoye el periodismo local: suscríbase hoy",
        "newsletter": "Suscríbase a nuestro boletín semanal y reciba las notas más importantes en su correo.",
        "rights": "Todos los derechos reservados.",
        "comments": "Los comentarios son moderados. Mantenga el respeto.",
    },
}


def make_site(root: Path, outlets: int, pages: int, seed: int = 8) -> dict[str, Any]:
    """Write `outlets` outlets of `pages` article pages each under root/outlets; returns what was built."""
    r = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    specs = []
    for i in range(outlets):
        lang = "es" if i % 2 else "en"
        specs.append(
            {
                "key": f"outlet-{i:02d}",
                "name": (f"Border Courier {i}" if lang == "en" else f"Diario Fronterizo {i}"),
                "language": lang,
                "style": "wp" if i % 4 < 2 else "arc",
                "rank": sum(1 for s in specs if s["language"] == lang),  # position among outlets of its language
                **CHROME[lang],
            }
        )
    counts_by_lang = Counter(s["language"] for s in specs)
    wire: dict[tuple[str, int, int], tuple[str, list[str], str, datetime]] = {}
    expected = Counter()
    shared_wire = 0
    for spec in specs:
        lang, rank = spec["language"], spec["rank"]
        group, second = rank // 2, rank % 2 == 1
        paired = rank + (0 if second else 1) < counts_by_lang[lang]
        articles = []
        wire_slot = 0
        for k in range(pages):
            kind = MIX[k % len(MIX)]
            pr = random.Random(r.random())
            published = now - timedelta(hours=pr.randint(1, 96), minutes=pr.randint(0, 59))
            author = f"{pr.choice(FIRST)} {pr.choice(LAST)}"
            if kind == "F":
                title, paragraphs = story(pr, lang, False, pr.randint(520, 680))
                expected["off_topic"] += 1
            elif kind == "W":
                key = (lang, group, wire_slot)
                wire_slot += 1
                if key not in wire:
                    wr = random.Random(f"wire-{key}")
                    t, ps = story(wr, lang, True, wr.randint(520, 680))
                    wire[key] = (t, ps, f"{wr.choice(FIRST)} {wr.choice(LAST)}", published)
                title, paragraphs, author, published = wire[key]
                if second:
                    paragraphs = paragraphs[:-1] + [WIRE_CREDIT[lang]]
                    shared_wire += 1
                expected["wire_copy"] += 1
                expected["wire_paired" if paired else "wire_unpaired"] += 1
            else:
                title, paragraphs = story(pr, lang, True, pr.randint(520, 680))
                expected["own_on_topic"] += 1
            slug = slugify(title) + f"-{k}"
            path = (
                f"/{published:%Y/%m/%d}/{slug}/"
                if spec["style"] == "wp"
                else f"/{spec['sections'][0].lower()}/{slug}.html"
            )
            articles.append(
                {
                    "id": 10000 + k,
                    "path": path,
                    "title": title,
                    "paragraphs": paragraphs,
                    "author": author,
                    "published": published,
                }
            )
        folder = root / spec["key"] / "outlets" / spec["key"]  # one document root per outlet, one server each
        folder.mkdir(parents=True)
        (folder / "robots.txt").write_text(
            f"User-agent: *\nDisallow: /private/\nDisallow: /join/\n\nSitemap: {{{{base:{spec['key']}}}}}/sitemap.xml\n"
        )
        urls = []
        for k, art in enumerate(articles):
            related = [articles[(k + d) % len(articles)] for d in (1, 2, 3, 5)] if len(articles) > 1 else []
            target = folder / art["path"].lstrip("/")
            if art["path"].endswith("/"):
                target = target / "index.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(page_html(spec, art, related), encoding="utf-8")
            urls.append(
                f"<url><loc>{{{{base:{spec['key']}}}}}{art['path']}</loc>"
                f"<lastmod>{art['published'].isoformat()}</lastmod></url>"
            )
        (folder / "sitemap.xml").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(urls)
            + "\n</urlset>\n",
            encoding="utf-8",
        )
    return {
        "outlets": [{"key": s["key"], "language": s["language"], "style": s["style"]} for s in specs],
        "pages": outlets * pages,
        "expected": {**dict(expected), "wire_clusters": shared_wire},
        "html_bytes_per_page": round(sum(p.stat().st_size for p in root.rglob("*.html")) / max(outlets * pages, 1)),
    }


# -- running -----------------------------------------------------------------------------------------------

# Every Python process started below inherits this on PYTHONPATH and writes its own resource usage at exit.
RUSAGE_HOOK = textwrap.dedent(
    """
    import atexit, json, os, resource, sys

    _dir = os.environ.get("BW_BENCH_RUSAGE_DIR")
    if _dir:
        def _bw_bench_dump():
            s = resource.getrusage(resource.RUSAGE_SELF)
            c = resource.getrusage(resource.RUSAGE_CHILDREN)
            mp = sys.modules.get("multiprocessing")
            rec = {"pid": os.getpid(), "ppid": os.getppid(), "argv": sys.argv[:4],
                   "mp_child": bool(mp and mp.parent_process() is not None),
                   "cpu_s": s.ru_utime + s.ru_stime, "maxrss_kb": s.ru_maxrss,
                   "children_cpu_s": c.ru_utime + c.ru_stime, "children_maxrss_kb": c.ru_maxrss}
            with open(os.path.join(_dir, f"{os.getpid()}.json"), "w") as fh:
                json.dump(rec, fh)
        atexit.register(_bw_bench_dump)
    """
)


def config_toml(bases: dict[str, str], languages: dict[str, str], data: Path, mode: str, pages: int) -> str:
    hosts = sorted({urlsplit(b).hostname or "" for b in bases.values()})
    crawl = [
        "obey_robots = true",
        f"max_pages_per_source = {max(pages * 2, 500)}",
        f"allow_private_hosts = {json.dumps(hosts)}",
    ]
    if mode == "off":
        crawl += ["download_delay = 0", "concurrency_per_host = 16"]
    lines = [
        "[storage]",
        f'db = "{(data / "bench.duckdb").as_posix()}"',
        f'raw_dir = "{(data / "raw").as_posix()}"',
        "",
        "[crawl]",
        *crawl,
    ]
    for key, base in bases.items():
        lines += [
            "",
            "[[sources]]",
            f'key = "{key}"',
            f'name = "{key}"',
            f'language = "{languages[key]}"',
            f'sitemaps = ["{base}/sitemap.xml"]',
        ]
    return "\n".join(lines) + "\n"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def prefect_stages(home: Path) -> dict[str, Any]:
    """Stage wall times of the latest flow run, from the task runs in the Prefect home's database."""
    db = home / "prefect.db"
    if not db.exists():
        return {"error": f"no {db}"}
    con = sqlite3.connect(db)
    try:
        row = con.execute(
            "SELECT id, start_time, end_time, state_type FROM flow_run ORDER BY created DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return {"error": "no flow run recorded"}
        flow_id, f_start, f_end, f_state = row
        tasks = con.execute(
            "SELECT name, start_time, end_time, state_type FROM task_run WHERE flow_run_id = ? ORDER BY start_time",
            (flow_id,),
        ).fetchall()
    finally:
        con.close()

    def span(a: str | None, b: str | None) -> float | None:
        if not a or not b:
            return None
        return round((datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds(), 2)

    out: dict[str, Any] = {"flow_run_s": span(f_start, f_end), "flow_state": f_state}
    for name, start, end, state in tasks:
        out[name.split("-")[0] if name.startswith(("crawl", "clean", "relevance")) else "dedup_load"] = span(start, end)
        if state != "COMPLETED":
            out.setdefault("task_states", {})[name] = state
    return out


def process_usage(rusage_dir: Path) -> dict[str, Any]:
    """CPU seconds and peak RSS (MiB) per kind of process, from the files the hook wrote."""
    kinds: dict[str, dict[str, Any]] = {}
    flow_children = 0.0
    for f in rusage_dir.glob("*.json"):
        rec = json.loads(f.read_text())
        argv = " ".join(rec["argv"])
        if rec["mp_child"]:
            kind = "clean_pool"  # spawned workers inherit the parent's argv
        elif "crawlers/run.py" in argv or "crawlers.run" in argv:
            kind = "crawler"
        elif "flows/cli.py" in argv or "flows.cli" in argv:
            kind = "flow"
            flow_children = rec["children_cpu_s"]
        else:
            kind = "other"  # e.g. multiprocessing's resource tracker
        k = kinds.setdefault(kind, {"processes": 0, "cpu_s": 0.0, "peak_rss_mib": 0.0})
        k["processes"] += 1
        k["cpu_s"] += rec["cpu_s"]
        k["peak_rss_mib"] = max(k["peak_rss_mib"], rec["maxrss_kb"] / 1024)
        if kind == "other":
            k.setdefault("argv", []).append(argv[:120])
    recorded_children = sum(k["cpu_s"] for name, k in kinds.items() if name != "flow")
    for k in kinds.values():
        k["cpu_s"] = round(k["cpu_s"], 2)
        k["peak_rss_mib"] = round(k["peak_rss_mib"], 1)
    # Prefect's ephemeral API server is a child of the flow process that is stopped with SIGTERM, which uvicorn
    # re-raises after its shutdown: it leaves no record, its CPU is the flow process's children's less the rest
    kinds["prefect_server_by_difference"] = {"cpu_s": round(flow_children - recorded_children, 2)}
    return kinds


def db_figures(db: Path) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        outcomes = dict(con.execute("SELECT outcome, count(*) FROM pages GROUP BY 1 ORDER BY 1").fetchall())
        articles = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        clusters = con.execute(
            "SELECT count(*) FROM (SELECT cluster_id FROM articles WHERE cluster_id IS NOT NULL "
            "GROUP BY 1 HAVING count(*) > 1)"
        ).fetchone()[0]
        run = con.execute("SELECT status, pages_fetched, duration_s FROM crawl_runs").fetchone()
        crawl_s = dict(con.execute("SELECT source, crawl_s FROM source_runs").fetchall())
        fetched = dict(con.execute("SELECT source, fetched FROM source_runs").fetchall())
    finally:
        con.close()
    return {
        "outcomes": outcomes,
        "articles_stored": articles,
        "wire_clusters_found": clusters,
        "run_status": run[0],
        "pages_fetched": run[1],
        "run_duration_s": round(run[2], 2),
        "per_source": {s: {"fetched": fetched[s], "crawl_s": crawl_s[s]} for s in sorted(crawl_s)},
    }


def run_mode(mode: str, outlets: int, pages: int, tmp: Path, hook_dir: Path, prefect_home: Path) -> dict[str, Any]:
    site = tmp / f"site-{mode}"
    t0 = time.perf_counter()
    manifest = make_site(site, outlets, pages)
    manifest["build_s"] = round(time.perf_counter() - t0, 2)
    data = tmp / f"data-{mode}"
    data.mkdir()
    rusage_dir = tmp / f"rusage-{mode}"
    rusage_dir.mkdir()
    with ExitStack() as stack:
        # each outlet on its own loopback address: Scrapy's politeness slot is the host name, not host:port
        webs = [
            stack.enter_context(serve_sample_site(site / o["key"], host=f"127.0.0.{i + 1}"))
            for i, o in enumerate(manifest["outlets"])
        ]
        bases = {k: v for web in webs for k, v in web.bases.items()}
        config = data / "borderwatch.toml"
        languages = {o["key"]: o["language"] for o in manifest["outlets"]}
        config.write_text(config_toml(bases, languages, data, mode, pages), encoding="utf-8")
        env = {
            **os.environ,
            "PREFECT_HOME": str(prefect_home),
            "PYTHONPATH": os.pathsep.join([str(REPO), str(hook_dir)]),
            "BW_BENCH_RUSAGE_DIR": str(rusage_dir),
        }
        cpu0, t0 = children_cpu(), time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "flows.cli", "run", "--config", str(config)],
            env=env,
            capture_output=True,
            text=True,
            timeout=3600 + pages * 5,
            cwd=REPO,
        )
        wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
        requests = sum(len(web.requests) for web in webs)
    if proc.returncode != 0:
        raise SystemExit(f"borderwatch run ({mode}) exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    figures = db_figures(data / "bench.duckdb")
    stages = prefect_stages(prefect_home)
    run_dir = next((data / "raw").iterdir())
    records = read_ledger(run_dir)
    fetched_at = sorted(datetime.fromisoformat(r.fetched_at) for r in records if r.http_status is not None)
    article_pages = sum(1 for r in records if r.kind == "article" and r.http_status == 200)
    procs = process_usage(rusage_dir)
    accounted = sum(p["cpu_s"] for p in procs.values())
    articles = figures["articles_stored"]
    span = (fetched_at[-1] - fetched_at[0]).total_seconds() if len(fetched_at) > 1 else 0.0
    per_source_rate = [3600 * (s["fetched"] - 1) / s["crawl_s"] for s in figures["per_source"].values() if s["crawl_s"]]
    stage_sum = sum(stages.get(k) or 0.0 for k in ("crawl", "clean", "relevance", "dedup_load"))
    flow_s = stages.get("flow_run_s") or 0.0
    crawler_cpu = procs.get("crawler", {}).get("cpu_s", 0.0)
    pool_cpu = procs.get("clean_pool", {}).get("cpu_s", 0.0)
    return {
        "site": manifest,
        "http_requests": requests,
        "pages_fetched": figures["pages_fetched"],
        "article_pages": article_pages,
        "outcomes": figures["outcomes"],
        "articles_stored": articles,
        "wire_clusters_found": figures["wire_clusters_found"],
        "run_status": figures["run_status"],
        "wall_s": round(wall, 2),
        "articles_per_hour": round(3600 * articles / wall),
        "article_pages_per_hour": round(3600 * article_pages / wall),
        "stages_s": {
            **stages,
            "outside_flow_run_s": round(wall - flow_s, 2),
            "in_flow_run_outside_stages_s": round(flow_s - stage_sum, 2),
            "source": "Prefect task runs of the flow run (start and end times in the Prefect home's database)",
        },
        "crawl_fetch_span_s": round(span, 2),
        "crawler_startup_and_close_s": round((stages.get("crawl") or 0.0) - span, 2),
        "crawl_pages_per_h_per_source": round(median(per_source_rate)) if per_source_rate else None,
        "processes": procs,
        "cpu_s_all_processes": round(cpu, 2),
        "unaccounted_cpu_s": round(cpu - accounted, 2),
        "crawler_cpu_ms_per_page": round(1000 * crawler_cpu / max(figures["pages_fetched"], 1), 2),
        "clean_pool_cpu_ms_per_article_page": round(1000 * pool_cpu / max(article_pages, 1), 2),
        "flow_process_cpu_ms_per_article_page": round(
            1000 * procs.get("flow", {}).get("cpu_s", 0.0) / max(article_pages, 1), 2
        ),
        "cli_stdout": proc.stdout.strip().splitlines()[:2],
    }


def bottleneck(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Where scaling stops, from the measured figures (see the module docstring)."""
    off, on = results.get("off"), results.get("on")
    out: dict[str, Any] = {}
    if on:
        out["polite_pages_per_h_per_source"] = on["crawl_pages_per_h_per_source"]
        out["polite_source"] = "measured: median over sources of (pages - 1) / crawl_s, politeness on"
    else:
        out["polite_pages_per_h_per_source"] = 3600
        out["polite_source"] = "not measured (mode on not run): 3600 s / download_delay 1.0 s"
    if not off:
        return out
    pages = max(off["article_pages"], 1)
    st = off["stages_s"]
    per_page = {
        "crawl (fetch span)": off["crawl_fetch_span_s"] / max(off["pages_fetched"], 1),
        "clean": (st.get("clean") or 0.0) / pages,
        "relevance": (st.get("relevance") or 0.0) / pages,
        "dedup_load": (st.get("dedup_load") or 0.0) / pages,
    }
    post = per_page["clean"] + per_page["relevance"] + per_page["dedup_load"]
    marginal = per_page["crawl (fetch span)"] + post
    share = off["articles_stored"] / pages
    per_source = out["polite_pages_per_h_per_source"]
    crawler_ms = off["crawler_cpu_ms_per_page"]
    crawler_cpu_ceiling = 3.6e6 / crawler_ms if crawler_ms else None
    crawler_wall_ceiling = 3600 / per_page["crawl (fetch span)"] if per_page["crawl (fetch span)"] else None
    post_s = sum(st.get(k) or 0.0 for k in ("clean", "relevance", "dedup_load"))
    fixed = off["wall_s"] - off["crawl_fetch_span_s"] - post_s
    out.update(
        {
            "ms_per_page_off": {k: round(1000 * v, 2) for k, v in per_page.items()},
            "slowest_stage_off": max(per_page, key=per_page.get),
            "fixed_overhead_per_run_s": round(fixed, 1),
            "pipeline_ceiling_pages_per_h": round(3600 / marginal),
            "pipeline_ceiling_articles_per_h": round(3600 * share / marginal),
            "crawler_cpu_ms_per_page": crawler_ms,
            "crawler_ceiling_pages_per_h_one_core": round(crawler_cpu_ceiling) if crawler_cpu_ceiling else None,
            "crawler_ceiling_pages_per_h_measured": round(crawler_wall_ceiling) if crawler_wall_ceiling else None,
            "sources_to_saturate_crawler": (
                round(min(crawler_cpu_ceiling, crawler_wall_ceiling) / per_source, 1)
                if crawler_cpu_ceiling and crawler_wall_ceiling
                else None
            ),
            "post_crawl_s_per_page": round(post, 4),
            "sources_where_processing_passes_crawl": round(3600 / (per_source * post), 1) if post else None,
        }
    )
    o = out
    ceilings = [c for c in (o["crawler_ceiling_pages_per_h_measured"], o["crawler_ceiling_pages_per_h_one_core"]) if c]
    out["summary"] = (
        f"Politeness on, one source yields ~{per_source} pages/h (bounded by its delay), so a run's crawl rate grows "
        f"with the number of sources. After the crawl, each article page costs {1000 * post:.0f} ms of wall time "
        f"(clean on all cores, relevance, dedup+load; slowest stage per page with politeness off: "
        f"{o['slowest_stage_off']}), so past ~{o['sources_where_processing_passes_crawl']} sources a run spends "
        f"longer processing than crawling, and the pipeline tends to ~{o['pipeline_ceiling_pages_per_h']} pages/h "
        f"(~{o['pipeline_ceiling_articles_per_h']} articles/h at this site's on-topic share) on this machine. The "
        f"crawler, one process at {crawler_ms} ms CPU per page, tops out near {min(ceilings)}-{max(ceilings)} "
        f"pages/h (fetch rate measured on loopback; one core over its CPU per page), i.e. "
        f"~{o['sources_to_saturate_crawler']} polite sources. Every run also pays "
        f"~{o['fixed_overhead_per_run_s']} s of fixed cost (interpreter and imports, Prefect's server, Scrapy start)."
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--outlets", type=int, default=4)
    ap.add_argument("--pages-per-outlet", type=int, default=250, help="pages per outlet, politeness off")
    ap.add_argument("--on-pages-per-outlet", type=int, default=40, help="pages per outlet, politeness on")
    ap.add_argument("--mode", choices=("off", "on", "both"), default="both")
    ap.add_argument("--keep", type=Path, help="build the site, databases and archives here and keep them")
    args = ap.parse_args()
    if not 1 <= args.outlets <= 254:
        ap.error("--outlets: 1 to 254 (one loopback address each)")
    modes = ["off", "on"] if args.mode == "both" else [args.mode]
    out: dict[str, Any] = {"cores": os.cpu_count(), "load_avg_1m_at_start": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory(prefix="bw-pipeline-rate-") as tmp_name:
        tmp = Path(tmp_name)
        if args.keep:
            tmp = args.keep.resolve()
            tmp.mkdir(parents=True, exist_ok=False)
            out["kept"] = str(tmp)
        hook_dir = tmp / "hook"
        hook_dir.mkdir()
        (hook_dir / "sitecustomize.py").write_text(RUSAGE_HOOK)
        prefect_home = tmp / "prefect"
        prefect_home.mkdir()
        # set up Prefect's database once (a scheduled deployment's home already has it)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "import flows; from prefect import flow; flow(name='warm-up')(lambda: None)()"],
            env={**os.environ, "PREFECT_HOME": str(prefect_home), "PYTHONPATH": str(REPO)},
            check=True,
            capture_output=True,
            cwd=REPO,
        )
        out["prefect_setup_s"] = round(time.perf_counter() - t0, 2)
        results = {}
        for mode in modes:
            pages = args.pages_per_outlet if mode == "off" else args.on_pages_per_outlet
            results[mode] = run_mode(mode, args.outlets, pages, tmp, hook_dir, prefect_home)
            results[mode]["politeness"] = (
                "download_delay 0, concurrency_per_host 16, AutoThrottle off, robots obeyed"
                if mode == "off"
                else "defaults: download_delay 1.0 s (randomised), concurrency_per_host 2, AutoThrottle on, robots"
            )
    out["modes"] = results
    out["bottleneck"] = bottleneck(results)
    out["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
