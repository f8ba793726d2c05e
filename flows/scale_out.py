"""Scale-out of processing: a run's per-article CPU work as Prefect tasks on a Dask cluster (prefect-dask).

With ``[processing] task_runner = "dask"`` the flow runs on prefect-dask's ``DaskTaskRunner``. Cleaning (each
worker reads its pages from the raw archive itself), relevance scoring and the MinHash signatures of dedup are
submitted in batches, never one task per article: submitting a task run costs the flow tens of milliseconds of
Prefect bookkeeping (more on a busy machine). The crawl, every database lookup and the one load transaction stay
in the flow's process. Each batch is a pure function of its input, so the database ends up the same as with the
default runner.

Only the dask runner imports this module (distributed alone takes about a second to import).
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
import math
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Dask logs every scheduler and worker start at INFO; set before distributed is imported so that the worker
# processes, which inherit the environment, are quiet too (an explicit value wins)
os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")

import distributed  # noqa: E402
import numpy as np  # noqa: E402
from prefect import task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.context import FlowRunContext, SettingsContext, get_settings_context  # noqa: E402
from prefect.futures import PrefectFuture  # noqa: E402
from prefect.settings import PREFECT_API_URL  # noqa: E402
from prefect_dask import DaskTaskRunner  # noqa: E402

from flows import near_dup, relevance  # noqa: E402
from flows.clean import Cleaned, PageJob, clean_pages  # noqa: E402
from flows.config import ProcessingConfig  # noqa: E402
from storage.archive import read_run_responses  # noqa: E402

log = logging.getLogger("borderwatch.scale_out")

# a submission costs the flow up to ~0.1 s of Prefect bookkeeping (its settings are serialised with every task), so
# fewer batches than the default process pool's chunks; two per thread still keep a slow batch from holding up the run
CLEAN_TASKS_PER_THREAD = 2
MIN_CLEAN_BATCH = 4
MIN_SIGN_BATCH = 500  # signatures are fast numpy work: a batch of fewer texts costs more in task overhead


def task_runner(p: ProcessingConfig) -> DaskTaskRunner:
    """The runner for the flow: a running scheduler at ``dask_address``, or a LocalCluster for the run."""
    if p.dask_address:
        return DaskTaskRunner(address=p.dask_address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": p.dask_workers or os.cpu_count() or 1,
            "threads_per_worker": 1,  # extraction holds the GIL: one thread per process
            "processes": True,
            "host": "127.0.0.1",  # scheduler, workers and the HTTP endpoint stay on this machine
            "dashboard_address": "127.0.0.1:0",
        }
    )


class Opaque:
    """A task parameter neither Prefect nor Dask looks into. Prefect visits every element of a dataclass or collection
    parameter (in this process and again on the worker) and Dask tokenises it for the task's key (pickling it to and
    fro, which recompiles the topic's regular expressions): for the topic that is seconds per task. Prefect's own
    quote() does not do: it is a tuple, and Dask's argument handling turns it into a plain one."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self._token = uuid.uuid4().hex

    def __dask_tokenize__(self) -> str:
        return self._token


def worker_label() -> str:
    """Which process ran a task: the Dask worker's address and the pid."""
    try:
        where = distributed.get_worker().address
    except ValueError:  # not on a Dask worker
        where = socket.gethostname()
    return f"{where} pid {os.getpid()}"


@task(name="clean-batch", cache_policy=NO_CACHE)
def clean_batch(
    run_dir: str, pages: list[tuple[int, tuple[str, int], str | None]], min_words: int, topic: Opaque
) -> tuple[tuple[dict[int, Cleaned], dict[int, relevance.Relevance]], str]:
    """Clean (ledger index, (WARC file, offset), fallback language) pages, read from the run's raw archive, and
    score the articles among them: what clean_stage and relevance_stage make of them (scoring is a millisecond an
    article, not worth a task run of its own)."""
    wanted = {where: (key, language) for key, where, language in pages}
    jobs = [
        PageJob(
            key=wanted[where][0],
            body=resp.body,
            url=resp.url,
            content_type=resp.headers.get("content-type"),
            fallback_language=wanted[where][1],
        )
        for where, resp in read_run_responses(run_dir, wanted)
    ]
    cleaned = clean_pages(jobs, min_words=min_words, workers=1)
    keys = [k for k, c in cleaned.items() if c.is_article]
    items = [(cleaned[k].title or "", cleaned[k].text, cleaned[k].language) for k in keys]
    scores = dict(zip(keys, relevance.score_many(topic.value, items), strict=True))
    return (cleaned, scores), worker_label()


@task(name="minhash-batch", cache_policy=NO_CACHE)
def minhash_batch(texts: list[str]) -> tuple[near_dup.Signatures, str]:
    return near_dup.signatures(texts), worker_label()


def _is_loopback(host: str | None) -> bool:
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# a byline date only dateparser reads (through trafilatura's htmldate): its first use compiles the patterns of every
# locale it tries, 2-15 s per process
WARM_UP_PAGE = (
    "<html><head><title>Calentamiento</title></head><body><div><h2>Calentamiento</h2>"
    "<p class='datos'>Por Ana López &middot; 22 de noviembre de 2026</p><p>"
    + "Solicitantes de asilo esperan en el puerto de entrada de El Paso. " * 20
    + "</p></div></body></html>"
).encode()


def warm_up() -> int:
    """Run on each worker while the crawl runs: unpickling this function imports this module, and with it Prefect's
    task engine, trafilatura and the relevance code; cleaning one small page makes trafilatura and dateparser load
    what they load lazily. The first batch of each worker would otherwise pay for all that (seconds)."""
    import prefect.task_engine  # noqa: F401

    clean_pages([PageJob(0, WARM_UP_PAGE, "http://127.0.0.1/warm-up", "text/html", "es")], workers=1)
    return os.getpid()


class DaskProcessing:
    """Submits a flow run's batches to the Dask workers and counts the task runs each worker ran.

    Made at the start of the flow run: the cluster starts (or the scheduler is connected to) and the workers import
    what they need in a background thread while the crawl runs; the first batch waits for that."""

    def __init__(self) -> None:
        ctx = FlowRunContext.get()
        runner = ctx.task_runner if ctx else None
        if not isinstance(runner, DaskTaskRunner):
            raise RuntimeError('task_runner = "dask" needs the flow on a DaskTaskRunner (flows.pipeline.run_pipeline)')
        self._runner = runner
        # the task runs on the workers report to the Prefect API of this run: PREFECT_API_URL when set, otherwise
        # this process's ephemeral server (a worker would otherwise start an ephemeral server of its own)
        self.api_url = PREFECT_API_URL.value() or str(ctx.client.api_url).rstrip("/")
        # batches are submitted in the flow's context even from inside a task (the MinHash batches of dedup): Prefect
        # sends the enclosing task run's context, parameters included, with every task it submits. The API URL is
        # set in that context once (its settings are serialised with each task; setting them costs ~0.1 s a time)
        self._flow_context = contextvars.copy_context()
        current = get_settings_context()
        settings = current.settings.copy_with_update(updates={PREFECT_API_URL: self.api_url})
        self._flow_context.run(SettingsContext(profile=current.profile, settings=settings).__enter__)
        self.threads = 1
        self.task_runs: Counter[str] = Counter()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._connect, name="dask-connect", daemon=True)
        self._thread.start()

    def _connect(self) -> None:
        try:
            started = time.monotonic()
            client = self._runner.client  # starts the LocalCluster, or connects to the scheduler
            workers = client.nthreads()
            far = sorted({urlsplit(w).hostname or w for w in workers if not _is_loopback(urlsplit(w).hostname)})
            if far and _is_loopback(urlsplit(self.api_url).hostname):
                raise RuntimeError(
                    f"Dask workers on {', '.join(far)} cannot reach this machine's ephemeral Prefect API "
                    f"({self.api_url}): run a Prefect server they can reach and set PREFECT_API_URL"
                )
            self.threads = max(1, sum(workers.values()))
            client.run(warm_up)
            log.info(
                "Dask: %d workers, %d threads at %s, ready in %.1f s",
                len(workers),
                self.threads,
                client.scheduler.address,
                time.monotonic() - started,
            )
        except BaseException as exc:  # raised in the flow by ready()
            self._error = exc

    def ready(self) -> None:
        """Wait for the cluster; raise what went wrong while starting or connecting to it."""
        self._thread.join()
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        """Let the start finish, so that the task runner's exit shuts down a whole cluster (after a failed crawl)."""
        self._thread.join()

    def _submit(self, task_: Any, *args: Any) -> PrefectFuture:
        return self._flow_context.run(task_.submit, *args)

    def _gather(self, futures: list[PrefectFuture]) -> list[Any]:
        out = []
        for future in futures:
            result, worker = future.result()
            self.task_runs[worker] += 1
            out.append(result)
        return out

    def clean_and_score(
        self,
        pages: list[tuple[int, int, str | None]],
        run_dir: Path,
        min_words: int,
        topic: relevance.Topic,
    ) -> tuple[dict[int, Cleaned], dict[int, relevance.Relevance]]:
        """Cleaned pages and relevance scores by ledger index, as clean_stage and relevance_stage give them."""
        self.ready()
        started = time.monotonic()
        size = max(MIN_CLEAN_BATCH, math.ceil(len(pages) / (self.threads * CLEAN_TASKS_PER_THREAD)))
        shared = Opaque(topic)
        batches = _chunks(pages, size)
        futures = [self._submit(clean_batch, str(run_dir), list(batch), min_words, shared) for batch in batches]
        cleaned: dict[int, Cleaned] = {}
        scores: dict[int, relevance.Relevance] = {}
        for part_cleaned, part_scores in self._gather(futures):
            cleaned.update(part_cleaned)
            scores.update(part_scores)
        log.info(
            "Dask: cleaned and scored %d pages in %d batches (%.1f s)",
            len(pages),
            len(batches),
            time.monotonic() - started,
        )
        return cleaned, scores

    def signatures(self, texts: Sequence[str]) -> near_dup.Signatures:
        """near_dup.signatures of the texts, computed on the workers (every text's signature is its own)."""
        if not texts:
            return near_dup.signatures([])
        self.ready()
        size = max(MIN_SIGN_BATCH, math.ceil(len(texts) / self.threads))
        parts = self._gather([self._submit(minhash_batch, list(batch)) for batch in _chunks(texts, size)])
        return near_dup.Signatures(
            np.concatenate([p.values for p in parts]), np.concatenate([p.shingles for p in parts])
        )
