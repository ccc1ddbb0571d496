"""A small discrete-time model of the retail data lake's streaming side: what the game day's faults are causes in.

Each simulated minute (`LakeModel.step`):

- producers write to each topic at its rate times the daily retail curve (`DAILY_CURVE`, by the lake's hour of
  day) times any burst in force, spread evenly over the topic's partitions;
- each streaming job that runs and has finished starting (`startup_minutes` after its run began) reads up to its
  capacity: one Spark task per partition at a time, so `min(task slots, partitions) x per_slot` messages a
  minute, task slots as the lag playbook counts them ((workers - 1) x vCPUs of the worker type);
- a job that read something wrote a micro-batch to its landing prefix (the freshness the runbook watches).

Faults are causes: a burst of the producers; out of memory, a consequence (with `memory_messages_per_gb` set, a run
whose micro-batch, the whole backlog as Spark's Kafka source takes it without maxOffsetsPerTrigger, does not fit
its executors' memory fails: `failed`); a broker going offline (`broker_offline`: the partitions it led have no
leader until the controller moves leadership to an in-sync replica, every partition with a replica on it is
under-replicated until it is back, and the consumer stalls on its fetches to the lost leader for a while).

The model knows nothing of AWS: which runs are alive, with how many workers and since when, is given to `step`
by whoever reads Glue (sandbox/lake_sandbox.py reads the emulated Glue job runs, so the service's actions change
the model). Its numbers are parameters (`LakeParams`), not measurements of a real lake: they are chosen so that
two G.1X workers carry the busiest hour of an ordinary day with room to spare, and a five-fold burst does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from functions.playbooks.msk_consumer_lag import task_slots

# Share of the mean rate in each hour of the day (UTC, the lake's clock), a retail shape: quiet nights, a morning
# rise, a lunchtime bump and the evening peak. Mean 1.0 over the day. Between hours it is interpolated.
DAILY_CURVE = (0.30, 0.20, 0.15, 0.15, 0.20, 0.30, 0.50, 0.80, 1.00, 1.10, 1.30, 1.45,
               1.55, 1.45, 1.20, 1.15, 1.25, 1.50, 1.90, 2.00, 1.80, 1.35, 0.90, 0.50)


def curve(hour: float) -> float:
    """The daily curve at `hour` (0 <= hour < 24, fractions interpolated linearly)."""
    hour %= 24
    low = int(hour)
    high = (low + 1) % 24
    share = hour - low
    return DAILY_CURVE[low] * (1 - share) + DAILY_CURVE[high] * share


@dataclass(frozen=True)
class LakeParams:
    # Messages a minute each topic receives at curve 1.0 (the day's mean).
    rates: dict[str, float] = field(default_factory=lambda: {"orders": 2_000.0, "customers": 400.0})
    # Messages a minute one Spark task slot reads, transforms and writes (a partition's throughput).
    per_slot: float = 1_500.0
    # Minutes from StartJobRun until a streaming run reads: AWS documents no figure (Glue 2.0+ "reduced startup
    # times"); a Spark driver, executors and the Kafka source take a couple of minutes. A parameter.
    startup_minutes: float = 2.0
    # The lake's hour of day at minute 0: the figures do not depend on when the game day runs.
    start_hour: float = 12.0
    # Messages of a micro-batch one GB of executor memory holds (deserialised rows, shuffle and write buffers).
    # None: memory is not modelled (no run dies of it). An assumption, not a measurement: chosen so that two
    # G.1X workers hold a few minutes of a five-fold burst's backlog and one G.2X executor twice that.
    memory_messages_per_gb: float | None = None
    # Brokers of the MSK cluster (the catalog's broker_count) and the topics' replication factor (MSK's
    # default.replication.factor for a three-AZ cluster: 3). Partition p's replicas are brokers p, p+1, … (mod n),
    # the first its preferred leader.
    brokers: int = 3
    replication_factor: int = 3
    # A broker that goes offline: minutes until leadership of its partitions moves to an in-sync replica. Kafka's
    # controller acts when the broker's session expires (seconds: ZooKeeper's 18 s, KRaft's 9 s default), so the
    # partitions are offline within one model minute. A parameter.
    failover_minutes: float = 1.0
    # Minutes a streaming job reads nothing after a broker it fetches from went offline: requests to the lost
    # leader time out and Spark retries the micro-batch's tasks (request.timeout.ms 30 s, task retries 4). AWS
    # documents no figure: an assumption.
    broker_stall_minutes: float = 8.0


# GB of memory per worker of each Glue worker type (AWS Glue documentation, "Defining job properties for Spark
# jobs": G.025X 2 GB, G.1X 16 GB, G.2X 32 GB, G.4X 64 GB, G.8X 128 GB).
WORKER_MEMORY_GB = {"G.025X": 2, "G.1X": 16, "G.2X": 32, "G.4X": 64, "G.8X": 128}


@dataclass(frozen=True)
class RunView:
    """What Glue says of a job's current run, as the model needs it."""

    workers: int
    worker_type: str
    since_minute: float  # the model minute the run was started


@dataclass
class Burst:
    topic: str
    factor: float
    start: float  # model minutes
    end: float


@dataclass
class Outage:
    broker: int  # 1..n, as MSK numbers brokers
    start: float
    end: float  # the broker is back (MSK replaced or restarted it)


@dataclass
class StreamState:
    job: str
    topic: str
    consumed: list[int]  # per partition: the offset the job has read up to
    last_write_minute: float | None = None  # the last minute it landed a micro-batch
    consumed_this_minute: int = 0


@dataclass
class TopicState:
    name: str
    latest: list[int]  # per partition
    # Cumulative messages produced at the end of each model minute (index = minute), for the age of a backlog.
    history: list[int] = field(default_factory=list)
    _carry: float = 0.0  # fractions of a message carried to the next minute


class LakeModel:
    def __init__(self, params: LakeParams, topics: dict[str, list[int]], streams: dict[str, tuple[str, list[int]]],
                 landed_minute: float = 0.0):
        """`topics`: name -> latest offset per partition; `streams`: job -> (topic, consumed offset per partition)."""
        self.params = params
        self.minute = 0.0
        self.topics = {name: TopicState(name, list(latest), [sum(latest)]) for name, latest in topics.items()}
        self.streams = {job: StreamState(job, topic, list(consumed), landed_minute)
                        for job, (topic, consumed) in streams.items()}
        self.bursts: list[Burst] = []
        self.outages: list[Outage] = []
        # Jobs whose run died in the last step, with why (out of memory): whoever reads Glue ends those runs.
        self.failed: dict[str, str] = {}

    # -- faults -------------------------------------------------------------------------------------------------

    def burst(self, topic: str, factor: float, minutes: float) -> None:
        """Producers write `factor` times their rate to `topic` for `minutes` from now (peak trading)."""
        self.bursts.append(Burst(topic, factor, self.minute, self.minute + minutes))

    def broker_offline(self, broker: int, minutes: float) -> None:
        """Broker `broker` goes offline now for `minutes` (then it is back and its replicas catch up)."""
        self.outages.append(Outage(broker, self.minute, self.minute + minutes))

    # -- memory ---------------------------------------------------------------------------------------------

    def memory(self, run: RunView) -> float | None:
        """Messages a micro-batch of `run` may hold: its executors' memory (workers - 1: one is the driver)."""
        per_gb = self.params.memory_messages_per_gb
        if per_gb is None:
            return None
        return max(run.workers - 1, 1) * WORKER_MEMORY_GB.get(run.worker_type, 16) * per_gb

    # -- brokers ----------------------------------------------------------------------------------------------

    def offline_brokers(self, minute: float | None = None) -> set[int]:
        at = self.minute if minute is None else minute
        return {o.broker for o in self.outages if o.start <= at < o.end}

    def replicas(self, partition: int) -> list[int]:
        n = self.params.brokers
        return [(partition + i) % n + 1 for i in range(min(self.params.replication_factor, n))]

    def leader(self, partition: int, minute: float | None = None) -> int | None:
        """The broker leading `partition` at `minute`: its preferred replica, or after the failover the first
        in-sync replica that is online; None while the partition is offline (no leader yet, or none left)."""
        at = self.minute if minute is None else minute
        offline = self.offline_brokers(at)
        replicas = self.replicas(partition)
        if replicas[0] not in offline:
            return replicas[0]
        since = max(o.start for o in self.outages if o.broker == replicas[0] and o.start <= at < o.end)
        if at - since < self.params.failover_minutes:
            return None
        return next((b for b in replicas if b not in offline), None)

    def broker_metrics(self, minute: float | None = None) -> dict[str, object]:
        """What MSK publishes for the cluster at `minute` (AWS/Kafka, DEFAULT level): OfflinePartitionsCount,
        ActiveControllerCount per online broker (1 on the controller: the lowest online id here) and
        UnderReplicatedPartitions per online broker (the partitions it leads with a replica offline). An offline
        broker publishes nothing."""
        offline = self.offline_brokers(minute)
        online = [b for b in range(1, self.params.brokers + 1) if b not in offline]
        under = dict.fromkeys(online, 0)
        offline_partitions = 0
        for topic in self.topics.values():
            for p in range(len(topic.latest)):
                leader = self.leader(p, minute)
                if leader is None:
                    offline_partitions += 1
                elif set(self.replicas(p)) & offline:
                    under[leader] += 1
        controller = min(online) if online else None
        return {"offline_partitions": offline_partitions, "under_replicated": under,
                "controllers": {b: int(b == controller) for b in online}}

    def stalled(self, minute: float | None = None) -> bool:
        """A consumer reads nothing for `broker_stall_minutes` after a broker went offline."""
        at = self.minute if minute is None else minute
        return any(o.start <= at < o.start + self.params.broker_stall_minutes for o in self.outages)

    # -- the minute ---------------------------------------------------------------------------------------------

    def rate(self, topic: str, minute: float | None = None) -> float:
        """Messages a minute producers write to `topic` at `minute` (default: now)."""
        at = self.minute if minute is None else minute
        factor = 1.0
        for b in self.bursts:
            if b.topic == topic and b.start <= at < b.end:
                factor *= b.factor
        return self.params.rates.get(topic, 0.0) * curve(self.params.start_hour + at / 60) * factor

    def capacity(self, job: str, run: RunView | None, minute: float | None = None) -> float:
        """Messages a minute `job` can read with `run` (0 while none runs or it is still starting)."""
        at = self.minute if minute is None else minute
        if run is None or at - run.since_minute < self.params.startup_minutes:
            return 0.0
        partitions = len(self.topics[self.streams[job].topic].latest)
        return min(task_slots(run.workers, run.worker_type), partitions) * self.params.per_slot

    def step(self, runs: dict[str, RunView | None]) -> None:
        """One minute passes: producers write, running jobs read (`runs`: each stream's current run or None).
        A run that died of it is in `failed` afterwards."""
        for topic in self.topics.values():
            self._produce(topic)
        self.minute += 1
        self.failed = {}
        for stream in self.streams.values():
            self._consume(stream, runs.get(stream.job))

    def _produce(self, topic: TopicState) -> None:
        wanted = self.rate(topic.name) + topic._carry
        count = int(wanted)
        topic._carry = wanted - count
        partitions = len(topic.latest)
        for i in range(partitions):
            topic.latest[i] += count // partitions + (1 if i < count % partitions else 0)
        topic.history.append(sum(topic.latest))

    def _consume(self, stream: StreamState, run: RunView | None) -> None:
        # Over the minute that just passed, [minute - 1, minute]: a run reads from the end of its startup on.
        if run is None:
            return self._read(stream, 0.0)
        ready = run.since_minute + self.params.startup_minutes
        share = min(max(self.minute - ready, 0.0), 1.0)
        if share > 0 and self.stalled(self.minute - 1):
            share = 0.0  # its fetches to the lost leader time out: the micro-batch makes no progress
        memory = self.memory(run)
        if share > 0 and memory is not None and self.lag(stream.job) > memory:
            # The micro-batch is everything available (no maxOffsetsPerTrigger): it does not fit, the run dies.
            self.failed[stream.job] = (f"a micro-batch of {self.lag(stream.job):,} messages does not fit "
                                       f"{memory:,.0f} ({run.workers} x {run.worker_type})")
            return self._read(stream, 0.0)
        self._read(stream, self.capacity(stream.job, RunView(run.workers, run.worker_type, -1e9)) * share)

    def _read(self, stream: StreamState, capacity: float) -> None:
        latest = self.topics[stream.topic].latest
        backlog = [latest[p] - stream.consumed[p] for p in range(len(latest))]
        total = sum(backlog)
        stream.consumed_this_minute = 0
        if total <= 0 or capacity <= 0:
            return
        share = min(1.0, capacity / total)  # every partition read in proportion: a task per partition
        took = [behind if share >= 1.0 else int(behind * share) for behind in backlog]
        spare = min(int(capacity), total) - sum(took)  # what rounding down left unread, one message at a time
        for p in sorted(range(len(backlog)), key=lambda q: backlog[q] - took[q], reverse=True)[:max(spare, 0)]:
            took[p] += 1
        for p, count in enumerate(took):
            stream.consumed[p] += count
            stream.consumed_this_minute += count
        if stream.consumed_this_minute:
            stream.last_write_minute = self.minute

    # -- what the runbook's levels read -------------------------------------------------------------------------

    def lag(self, job: str) -> int:
        stream = self.streams[job]
        return sum(self.topics[stream.topic].latest) - sum(stream.consumed)

    def landing_age(self, job: str) -> float:
        """Minutes since `job` last landed a micro-batch."""
        last = self.streams[job].last_write_minute
        return self.minute - (last if last is not None else 0.0)

    def oldest_unlanded(self, job: str) -> float:
        """Age in minutes of the oldest message `job` has not read yet (0 when caught up): the data at risk."""
        stream = self.streams[job]
        history = self.topics[stream.topic].history
        read = sum(stream.consumed)
        if read >= history[-1]:
            return 0.0
        # The first minute whose cumulative production passed what the job has read: that message is waiting.
        for minute, produced in enumerate(history):
            if produced > read:
                return self.minute - (minute - 1) if minute else self.minute
        return 0.0
