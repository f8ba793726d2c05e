"""The crawl frontier: which URLs this run has claimed, the per-source page caps and, when several crawler
processes share one run, the request queue they all take from.

Local (the default): a set and a counter in this process, as a single crawler needs.
Shared (`FRONTIER_REDIS_URL` set): the same three things in Redis, under keys namespaced by the run id, so
crawler processes on one or many machines fetch every URL once between them. Every step is one Lua script,
atomic on the server: claiming URL keys (SADD), taking a page slot of a source (HINCRBY), pushing and popping
requests (a sorted set ordered by priority, then arrival), and deciding when the crawl is over.

The end of a shared crawl: a process whose engine is idle is not done while the queue holds requests or
another process holds one (a lease, renewed while it works, so a killed process does not hold the others up
for longer than the lease). The process that finds the queue empty and every lease lapsed deletes the run's
keys and leaves a `done` marker (which expires with the TTL), so a process that starts late fetches nothing.
"""

from __future__ import annotations

import base64
import heapq
import itertools
import json
import logging
import time
from collections import Counter
from typing import Any, Protocol

import redis
from scrapy import Request, Spider, signals
from scrapy.core.scheduler import BaseScheduler
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.request import request_from_dict
from twisted.internet import task

log = logging.getLogger(__name__)

# request.meta: the request came off the shared queue; it and its retries and redirects stay with this process
# (their backoff times are on this process's clock, and one process finishes what it took)
TAKEN = "bw_taken"
CLAIM_CHUNK = 1000  # URL keys per script call: a 50,000-URL sitemap does not block Redis for long

_CLAIM = """
if redis.call('EXISTS', KEYS[2]) == 1 then
  local none = {}
  for i = 2, #ARGV do none[i - 1] = 0 end
  return none
end
local out = {}
for i = 2, #ARGV do out[i - 1] = redis.call('SADD', KEYS[1], ARGV[i]) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return out
"""

_SLOT = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
if n > tonumber(ARGV[2]) then return 0 end
return 1
"""

# members sort by score (-priority) and then by the zero-padded arrival number: FIFO within a priority
_PUSH = """
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], -tonumber(ARGV[2]), string.format('%015d', seq) .. ' ' .. ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""

_POP = """
local item = redis.call('ZPOPMIN', KEYS[1])
if #item == 0 then return false end
local now = tonumber(redis.call('TIME')[1])
redis.call('HSET', KEYS[2], ARGV[1], now + tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[2], ARGV[3])
return item[1]
"""

_LEASE = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local now = tonumber(redis.call('TIME')[1])
redis.call('HSET', KEYS[1], ARGV[1], now + tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""

# the hosts' shared schedule: when each host may next be sent a request, in seconds on the Redis server's clock (one
# clock for every machine); a reservation takes the earliest time allowed and moves the host's next time on by
# `spacing` (nothing is kept once the run is over). Replies are strings: Redis turns a Lua number into an integer.
_HOST_RESERVE = """
if redis.call('EXISTS', KEYS[2]) == 1 then return string.format('%.6f', math.max(tonumber(ARGV[3]), 0)) end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local start = math.max(now + tonumber(ARGV[3]), tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0'))
redis.call('HSET', KEYS[1], ARGV[1], string.format('%.6f', start + tonumber(ARGV[2])))
redis.call('EXPIRE', KEYS[1], ARGV[4])
return string.format('%.6f', start - now)
"""

_HOST_PAUSE = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local t = redis.call('TIME')
local until_ = tonumber(t[1]) + tonumber(t[2]) / 1000000 + tonumber(ARGV[2])
if until_ > tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') then
  redis.call('HSET', KEYS[1], ARGV[1], string.format('%.6f', until_))
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
return 1
"""

# KEYS: queue, busy, done, then the run's other keys (deleted when it is over)
_IDLE = """
if redis.call('EXISTS', KEYS[3]) == 1 then return 1 end
redis.call('HSET', KEYS[2], ARGV[1], 0)
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
local now = tonumber(redis.call('TIME')[1])
for _, lease in ipairs(redis.call('HVALS', KEYS[2])) do
  if tonumber(lease) > now then return 0 end
end
redis.call('DEL', KEYS[1], KEYS[2], unpack(KEYS, 4))
redis.call('SET', KEYS[3], '1', 'EX', ARGV[2])
return 1
"""


class Frontier(Protocol):
    """What the spider asks of the frontier, shared or not."""

    def claim_many(self, keys: list[str]) -> list[bool]: ...

    def take_slot(self, source: str, limit: int) -> bool: ...


class LocalFrontier:
    """One process's own record of claimed URL keys and scheduled pages per source."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.scheduled: Counter[str] = Counter()

    def claim_many(self, keys: list[str]) -> list[bool]:
        out = []
        for key in keys:
            out.append(key not in self.seen)
            self.seen.add(key)
        return out

    def take_slot(self, source: str, limit: int) -> bool:
        if self.scheduled[source] >= limit:
            return False
        self.scheduled[source] += 1
        return True


class RedisFrontier:
    """The run's shared frontier in Redis; `worker` names this process (one lease per worker)."""

    def __init__(self, client: redis.Redis, run_id: str, worker: str, lease_s: float = 60.0, ttl_s: int = 86400):
        self.client = client
        self.worker = worker
        self.lease_s = int(max(lease_s, 1))
        self.ttl_s = int(ttl_s)
        ns = f"borderwatch:crawl:{run_id}"
        names = ("queue", "busy", "done", "seen", "slots", "seq", "joined", "hosts")
        self.keys = {name: f"{ns}:{name}" for name in names}
        self._claim = client.register_script(_CLAIM)
        self._slot = client.register_script(_SLOT)
        self._push = client.register_script(_PUSH)
        self._pop = client.register_script(_POP)
        self._lease = client.register_script(_LEASE)
        self._idle = client.register_script(_IDLE)
        self._host_reserve = client.register_script(_HOST_RESERVE)
        self._host_pause = client.register_script(_HOST_PAUSE)
        self.busy = False

    @classmethod
    def from_url(cls, url: str, run_id: str, worker: str, **kwargs: Any) -> RedisFrontier:
        return cls(redis.Redis.from_url(url, socket_timeout=30, health_check_interval=30), run_id, worker, **kwargs)

    def claim_many(self, keys: list[str]) -> list[bool]:
        out: list[bool] = []
        for i in range(0, len(keys), CLAIM_CHUNK):
            chunk = keys[i : i + CLAIM_CHUNK]
            added = self._claim(keys=[self.keys["seen"], self.keys["done"]], args=[self.ttl_s, *chunk])
            out.extend(bool(n) for n in added)
        return out

    def take_slot(self, source: str, limit: int) -> bool:
        return bool(self._slot(keys=[self.keys["slots"], self.keys["done"]], args=[source, limit, self.ttl_s]))

    def push(self, payload: str, priority: int = 0) -> bool:
        """Queue a request for whichever process takes it first; False once the run is over."""
        keys = [self.keys["queue"], self.keys["seq"], self.keys["done"]]
        return bool(self._push(keys=keys, args=[payload, priority, self.ttl_s]))

    def pop(self) -> str | None:
        """The next queued request, if any; taking one renews this worker's lease (it is busy)."""
        item = self._pop(keys=[self.keys["queue"], self.keys["busy"]], args=[self.worker, self.lease_s, self.ttl_s])
        if item is None:
            return None
        self.busy = True
        return item.decode("utf-8").split(" ", 1)[1]

    def renew(self) -> None:
        """Take or renew this worker's lease: the run is not over while it works."""
        self._lease(keys=[self.keys["busy"], self.keys["done"]], args=[self.worker, self.lease_s, self.ttl_s])
        self.busy = True

    def idle(self) -> bool:
        """This worker has nothing left; True when no worker has anything and the queue is empty (the run's
        keys are then deleted)."""
        self.busy = False
        keys = list(self.keys.values())  # queue, busy, done first, as _IDLE reads them; then the rest it deletes
        return bool(self._idle(keys=keys, args=[self.worker, self.ttl_s]))

    def reserve_host(self, host: str, spacing: float, at_least: float = 0.0) -> float:
        """Seconds this process must wait before sending `host` a request (never less than `at_least`), the host's
        next request from any process being `spacing` seconds after this one: per-host politeness shared by
        every process of the run, as one process keeps it alone."""
        args = [host, max(spacing, 0.0), max(at_least, 0.0), self.ttl_s]
        return float(self._host_reserve(keys=[self.keys["hosts"], self.keys["done"]], args=args))

    def pause_host(self, host: str, seconds: float) -> None:
        """No process sends `host` anything for `seconds` (a Retry-After)."""
        self._host_pause(keys=[self.keys["hosts"], self.keys["done"]], args=[host, max(seconds, 0.0), self.ttl_s])

    def join(self, expected: int, timeout_s: float) -> int:
        """Register this worker and wait (blocking: nothing else runs yet) until `expected` workers have, or
        `timeout_s` passed; returns how many have. The processes one machine starts begin together, so the
        work is spread from the first request, not left to whichever process imported Scrapy first."""
        joined = self.client.sadd(self.keys["joined"], self.worker)
        self.client.expire(self.keys["joined"], self.ttl_s)
        deadline = time.monotonic() + timeout_s
        while (joined := int(self.client.scard(self.keys["joined"]))) < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        return joined

    def queued(self) -> int:
        return int(self.client.zcard(self.keys["queue"]))

    def is_done(self) -> bool:
        return bool(self.client.exists(self.keys["done"]))


def unreachable(url: str) -> str | None:
    """Why the Redis at `url` cannot serve as the frontier, or None when it can (checked before a crawl)."""
    try:
        client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10)
        version = client.info("server").get("redis_version", "0")
    except (redis.RedisError, ValueError) as exc:
        return f"cannot reach the shared frontier {url}: {exc}"
    if int(str(version).split(".")[0]) < 5:
        return f"the shared frontier needs Redis 5 or newer (ZPOPMIN), {url} runs {version}"
    return None


def frontier_of(crawler: Crawler) -> LocalFrontier | RedisFrontier:
    """The crawl's one frontier, shared by the spider and the scheduler (made on first use)."""
    if not hasattr(crawler, "bw_frontier"):
        settings = crawler.settings
        url = settings.get("FRONTIER_REDIS_URL")
        if url:
            crawler.bw_frontier = RedisFrontier.from_url(  # type: ignore[attr-defined]
                url,
                settings["FRONTIER_RUN_ID"],
                settings["CRAWL_WORKER"],
                lease_s=settings.getfloat("FRONTIER_LEASE", 60.0),
                ttl_s=settings.getint("FRONTIER_TTL", 86400),
            )
        else:
            crawler.bw_frontier = LocalFrontier()  # type: ignore[attr-defined]
    return crawler.bw_frontier  # type: ignore[attr-defined]


# -- requests as JSON (never pickle: whoever can write to Redis must not be able to run code in a crawler) --


def _to_json(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        if "$b" in value:
            raise TypeError("reserved key $b in request data")
        return {str(k) if not isinstance(k, bytes) else k.decode("latin-1"): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"{type(value).__name__} cannot go into the shared frontier")


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$b"}:
            return base64.b64decode(value["$b"])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def encode_request(request: Request, spider: Spider) -> str:
    """A request as JSON (callbacks by name); TypeError when something in it is not plain data."""
    data = request.to_dict(spider=spider)
    if "_class" in data:
        raise TypeError(f"{data['_class']} is not a plain Request")
    return json.dumps(_to_json(data), separators=(",", ":"))


def decode_request(payload: str, spider: Spider) -> Request:
    return request_from_dict(_from_json(json.loads(payload)), spider=spider)


class RedisScheduler(BaseScheduler):
    """Scrapy scheduler over the shared frontier (switched on in SCHEDULER when the plan names a Redis URL).

    New requests go to the shared queue; a request taken from it, with its retries and redirects, stays in
    this process's own queue. Requests that cannot be stored as JSON stay local too (logged).
    """

    POLL_S = 0.2  # how soon an idle process notices requests another one queued

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        frontier = frontier_of(crawler)
        if not isinstance(frontier, RedisFrontier):
            raise RuntimeError("RedisScheduler needs FRONTIER_REDIS_URL")
        self.frontier = frontier
        self.local: list[tuple[int, int, Request]] = []
        self._seq = itertools.count()
        self._poll: task.LoopingCall | None = None
        self._since_renew = 0.0
        self._closing = False
        self.spider: Spider | None = None
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisScheduler:
        scheduler = cls(crawler)
        crawler.signals.connect(scheduler.on_idle, signal=signals.spider_idle)
        return scheduler

    def open(self, spider: Spider) -> None:
        self.spider = spider
        if self.frontier.is_done():
            log.info("shared crawl %s is already over: nothing to do", self.frontier.keys["done"])
        else:
            self.frontier.renew()
            expected = self.crawler.settings.getint("FRONTIER_WORKERS", 1)
            joined = self.frontier.join(expected, self.crawler.settings.getfloat("FRONTIER_JOIN_TIMEOUT", 30.0))
            if joined < expected:
                log.warning("only %d of %d crawler processes joined; starting anyway", joined, expected)
        self._poll = task.LoopingCall(self._tick)
        self._poll.start(self.POLL_S, now=False)
        log.info("shared frontier %s, worker %s", self.frontier.keys["queue"], self.frontier.worker)

    def close(self, reason: str) -> None:
        if self._poll is not None and self._poll.running:
            self._poll.stop()
        if self.local:
            log.warning("%d requests taken from the shared frontier were not fetched (%s)", len(self.local), reason)
        # a stopped process gives up its lease at once, so the others need not wait for it to lapse
        self.frontier.idle()

    def has_pending_requests(self) -> bool:
        return bool(self.local)

    def enqueue_request(self, request: Request) -> bool:
        if not request.meta.get(TAKEN):
            try:
                payload = encode_request(request, self.spider)  # type: ignore[arg-type]
            except (TypeError, ValueError) as exc:
                log.warning("%s stays in this process: %s", request.url, exc)
            else:
                if not self.frontier.push(payload, request.priority):
                    return False  # the shared crawl is over: nothing more is fetched
                self._count("scheduler/enqueued/redis")
                return True
        self._push_local(request)
        self._count("scheduler/enqueued/local")
        return True

    def next_request(self) -> Request | None:
        if self.local:
            self._count("scheduler/dequeued/local")
            return heapq.heappop(self.local)[2]
        while (payload := self.frontier.pop()) is not None:
            self._count("scheduler/dequeued/redis")
            if (request := self._taken(payload)) is not None:
                return request
        return None

    def on_idle(self, spider: Spider) -> None:
        """The engine has nothing left: the spider closes only when the whole shared crawl is over."""
        if not self.frontier.idle():
            raise DontCloseSpider
        self._closing = True

    def _tick(self) -> None:
        """Wake an idle engine when work appears in the shared queue; close it when the shared crawl is over;
        renew the lease while busy."""
        if self._closing or self.spider is None:
            return
        engine = self.crawler.engine
        if self.frontier.busy:
            self._since_renew += self.POLL_S
            if self._since_renew >= self.frontier.lease_s / 4:
                self._since_renew = 0.0
                self.frontier.renew()
            return
        payload = self.frontier.pop()
        if payload is not None:
            self._count("scheduler/dequeued/redis")
            request = self._taken(payload)
            if request is not None and engine is not None:
                engine.crawl(request)  # goes to the local queue (it is marked) and wakes the engine
            return
        if self.frontier.idle() and engine is not None:
            self._closing = True
            deferred_from_coro(engine.close_spider_async(reason="finished"))

    def _taken(self, payload: str) -> Request | None:
        try:
            request = decode_request(payload, self.spider)  # type: ignore[arg-type]
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.error("unreadable request in the shared frontier dropped (%s): %.200s", exc, payload)
            return None
        request.meta[TAKEN] = True
        return request

    def _push_local(self, request: Request) -> None:
        heapq.heappush(self.local, (-request.priority, next(self._seq), request))

    def _count(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)

    def __len__(self) -> int:
        return len(self.local)
