"""The lake model (sandbox/lake.py) inside the emulated account: it reads what AWS would tell it and writes what
the lake would leave behind, so that the service's probes, alarms and playbooks see a lake that behaves.

Each simulated minute (`LakeInSandbox.step`):

- reads every streaming job's current run from the emulated Glue (RUNNING, or STARTING/WAITING; a STOPPING run
  finishes its micro-batch and reads no more): the restart or scale-up the lag playbook made is a run the model
  consumes with, from its start plus the startup time;
- moves the stand-in brokers' latest offsets (sandbox.kafka_standin.BROKERS) by what the producers wrote;
- a job that read something commits a batch to its Spark checkpoint (offsets/<n> and commits/<n>, in Spark's
  format) or, for a job whose group commits offsets (lag_source msk), commits the group's offsets; MSK then
  publishes the group's SumOffsetLag (AWS/Kafka, dimensions Cluster Name, Consumer Group, Topic: the alarm's), as
  it does once a minute for a group that is STABLE or EMPTY;
- writes its micro-batch to the job's landing prefix, stamped with the sandbox's time (S3 sets LastModified on
  write; moto uses the wall clock, so the stamp is set on moto's object).

The checkpoint-sourced jobs' lag is not published here: the lag probe measures it from the brokers and the
checkpoint, as in production. Faults are causes in the model or in Glue (`crash`, `burst`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sandbox import clock
from sandbox.lake import LakeModel, LakeParams, RunView

ACTIVE = ("STARTING", "RUNNING", "WAITING")


class LakeInSandbox:
    def __init__(self, sandbox: Any, params: LakeParams | None = None):
        from sandbox.kafka_standin import BROKERS, committed_checkpoint

        self.sandbox = sandbox
        self.catalog = sandbox.catalog
        self.params = params or LakeParams()
        self.t0 = clock.now()
        self.jobs = {j.name: j for j in self.catalog.glue_jobs if j.streaming and j.topic}
        s3 = sandbox.client("s3")
        streams: dict[str, tuple[str, list[int]]] = {}
        for job in self.jobs.values():
            partitions = sorted(BROKERS.topics[job.topic or ""])
            if job.lag_source == "checkpoint":
                _, offsets = committed_checkpoint(s3, job)
            else:
                offsets = BROKERS.groups.get(job.consumer_group or "", {}).get(job.topic or "", {})
            latest = BROKERS.topics[job.topic or ""]
            streams[job.name] = (job.topic or "", [offsets.get(p, latest[p][1]) for p in partitions])
        topics = {name: [parts[p][1] for p in sorted(parts)] for name, parts in BROKERS.topics.items()}
        self.model = LakeModel(self.params, topics, streams)
        self.run_started: dict[str, float] = {}  # run id -> model minute it was first seen alive
        self.observe_runs()
        for run_id in self.run_started:  # the runs alive before the model started have long finished starting
            self.run_started[run_id] = -self.params.startup_minutes
        self._land_all()

    # -- time ---------------------------------------------------------------------------------------------------

    def minute_of(self, at: datetime) -> float:
        return (at - self.t0).total_seconds() / 60

    def at_minute(self, minute: float) -> datetime:
        from datetime import timedelta

        return self.t0 + timedelta(minutes=minute)

    # -- Glue, read as AWS would answer ----------------------------------------------------------------------------

    def _runs(self, job: str) -> list[Any]:
        return list(self.sandbox.account.glue_backend().get_job(job).job_runs)

    def observe_runs(self) -> None:
        """Note when each alive run was first seen: the start of a run the service (or a person) made between two
        steps is stamped with the sandbox's time right after that action (the caller observes after acting)."""
        now = self.minute_of(clock.now())
        for job in self.jobs:
            for run in self._runs(job):
                if run.status in ACTIVE and run.job_run_id not in self.run_started:
                    self.run_started[run.job_run_id] = now

    def current_run(self, job: str) -> RunView | None:
        glue_job = self.sandbox.account.glue_backend().get_job(job)
        for run in reversed(self._runs(job)):
            if run.status in ACTIVE:
                workers = run.number_of_workers or glue_job.number_of_workers or self.jobs[job].min_workers
                return RunView(int(workers), run.worker_type or glue_job.worker_type or self.jobs[job].worker_type,
                               self.run_started.get(run.job_run_id, self.model.minute))
        return None

    # -- faults (causes) ------------------------------------------------------------------------------------------

    def crash(self, job: str, error: str) -> str | None:
        """The job's run dies (FAILED with `error`, as Glue reports it); returns the run id. The caller delivers
        Glue's `Glue Job State Change` event when the service is there to receive it."""
        for run in reversed(self._runs(job)):
            if run.status in ACTIVE:
                run.status, run.error_message = "FAILED", error
                run.completed_on = run.modified_on = clock.now().replace(tzinfo=None)
                return str(run.job_run_id)
        return None

    def burst(self, topic: str, factor: float, minutes: float) -> None:
        self.model.burst(topic, factor, minutes)

    # -- the minute -----------------------------------------------------------------------------------------------

    def step(self) -> None:
        """One simulated minute: call after the sandbox's clock moved a minute forward."""
        from sandbox.kafka_standin import BROKERS

        self.observe_runs()
        self.model.step({job: self.current_run(job) for job in self.jobs})
        for name, topic in self.model.topics.items():
            for p, latest in enumerate(topic.latest):
                BROKERS.topics[name][p][1] = latest
        for job in self.jobs.values():
            stream = self.model.streams[job.name]
            if stream.consumed_this_minute:
                self._commit(job, stream.consumed)
                self._land(job)
            if job.lag_source == "msk" and job.consumer_group in BROKERS.groups:
                self._publish_msk_lag(job)

    def _commit(self, job: Any, consumed: list[int]) -> None:
        from sandbox.kafka_standin import BROKERS, committed_checkpoint, write_batch

        offsets = dict(enumerate(consumed))
        if job.lag_source == "checkpoint":
            s3 = self.sandbox.client("s3")
            batch, _ = committed_checkpoint(s3, job)
            write_batch(s3, job, batch + 1, offsets)
        elif job.consumer_group:
            BROKERS.groups.setdefault(job.consumer_group, {})[job.topic or ""] = offsets

    def _publish_msk_lag(self, job: Any) -> None:
        """What MSK publishes each minute for a consumer group with committed offsets: SumOffsetLag."""
        dims = {"Cluster Name": self.catalog.msk.cluster_name, "Consumer Group": job.consumer_group or "",
                "Topic": job.topic or ""}
        self.sandbox.put_metric("AWS/Kafka", "SumOffsetLag", dims, [float(self.model.lag(job.name))],
                                end=clock.now())

    def _land(self, job: Any) -> None:
        if not job.writes_prefix:
            return
        now = clock.now()
        bucket = self.catalog.s3.name
        key = f"{job.writes_prefix}{now.strftime(self.catalog.s3.landing_partition_format)}/part-{now:%H%M}.json"
        self.sandbox.client("s3").put_object(Bucket=bucket, Key=key, Body=b'{"batch": true}\n')
        self._stamp(bucket, key, now)

    def _land_all(self) -> None:
        for job in self.jobs.values():
            self._land(job)

    def _stamp(self, bucket: str, key: str, at: datetime) -> None:
        from moto.s3.models import s3_backends

        stored = s3_backends[self.catalog.account_id]["aws"].get_bucket(bucket).keys.getlist(key)
        for version in stored:
            version.last_modified = at.astimezone(UTC).replace(tzinfo=None)
