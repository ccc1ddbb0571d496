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

- a run the model found out of memory ends FAILED as Glue ends it ("Command failed with exit code 1"; the
  OutOfMemoryError is in the job's error log stream, named after the run); a micro-batch whose write its job's
  role may not make (s3:PutObject on its landing prefix, simulated against the emulated IAM: the role's policy as
  it is now) ends the run FAILED with S3's AccessDenied, nothing landed and nothing committed (Spark commits a
  batch after its sink wrote it);
- publishes what MSK publishes each minute for the brokers (OfflinePartitionsCount, ActiveControllerCount,
  UnderReplicatedPartitions per broker: the metrics the MSK alarms watch).

The checkpoint-sourced jobs' lag is not published here: the lag probe measures it from the brokers and the
checkpoint, as in production. Faults are causes in the model or in Glue (`crash`, `burst`, `broker_offline`,
`revoke_write`); the runs the model ended in a step are in `failures` (the caller delivers Glue's events).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sandbox import clock
from sandbox.lake import LakeModel, LakeParams, RunView

ACTIVE = ("STARTING", "RUNNING", "WAITING")
# What Glue reports for a run whose driver or executors ran out of memory (AWS Knowledge Center, "Command failed
# with exit code" in AWS Glue: the run fails with "Command failed with exit code 1" and the CloudWatch logs show
# "java.lang.OutOfMemoryError: Java heap space").
OOM_ERROR = "Command failed with exit code 1"
OOM_LOG = ("ERROR Executor: Exception in task 0.0 in stage {stage}.0 (TID {stage}): java.lang.OutOfMemoryError: "
           "Java heap space")
# A write S3 refused: the S3A committer's exception as a Glue run reports it (Status Code 403, AccessDenied).
ACCESS_DENIED = ("An error occurred while calling o{n}.save. {key}: PutObject on {key}: "
                 "com.amazonaws.services.s3.model.AmazonS3Exception: Access Denied (Service: Amazon S3; Status Code: "
                 "403; Error Code: AccessDenied)")


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
        self.roles: dict[str, str] = {}  # job -> its role, once a scenario set the role's policy
        self.run_started: dict[str, float] = {}  # run id -> model minute it was first seen alive
        self.failures: list[tuple[str, str, str]] = []  # (job, run id, error) the last step ended
        # job -> (run id, the newest batch that run committed): a running Spark query keeps its batch id in
        # memory and reads its checkpoint's logs when it starts (MicroBatchExecution), not before every batch.
        self.batches: dict[str, tuple[str, int]] = {}
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

    def broker_offline(self, broker: int, minutes: float) -> None:
        self.model.broker_offline(broker, minutes)

    def revoke_write(self, job: str) -> str:
        """The job's role loses s3:PutObject on its landing prefix (its policy grants everything else it needs);
        returns the role's name. `grant_write` is the person putting it back."""
        return self._role_policy(job, write=False)

    def grant_write(self, job: str) -> str:
        return self._role_policy(job, write=True)

    def _role_policy(self, job: str, write: bool) -> str:
        import contextlib
        import json

        from functions.playbooks.glue_job_failure import s3_needs

        iam = self.sandbox.client("iam")
        role = self.sandbox.client("glue").get_job(JobName=job)["Job"]["Role"].rsplit("/", 1)[-1]
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"Service": "glue.amazonaws.com"}}]}
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
        needs = [(a, r) for a, r in s3_needs(self.catalog.glue_job(job), self.catalog.s3.name)
                 if write or a != "s3:PutObject"]
        statements = [{"Effect": "Allow", "Action": [a], "Resource": r} for a, r in needs]
        iam.put_role_policy(RoleName=role, PolicyName="data-lake", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))
        self.roles[job] = role
        return role

    def may_write(self, job: Any, key: str) -> bool:
        """Whether the job's role may put `key` (simulated against its policies as they are now). A role the
        scenario did not set stands for the platform's, which the emulated IAM does not hold: allowed."""
        role = self.roles.get(job.name)
        if role is None:
            return True
        arn = f"arn:aws:iam::{self.catalog.account_id}:role/{role}"
        found = self.sandbox.client("iam").simulate_principal_policy(
            PolicySourceArn=arn, ActionNames=["s3:PutObject"],
            ResourceArns=[f"arn:aws:s3:::{self.catalog.s3.name}/{key}"])["EvaluationResults"]
        return all(r["EvalDecision"] == "allowed" for r in found)

    # -- the minute -----------------------------------------------------------------------------------------------

    def step(self) -> None:
        """One simulated minute: call after the sandbox's clock moved a minute forward."""
        from sandbox.kafka_standin import BROKERS

        self.observe_runs()
        before = {job: (list(s.consumed), s.last_write_minute) for job, s in self.model.streams.items()}
        self.model.step({job: self.current_run(job) for job in self.jobs})
        self.failures = []
        for job_name, why in self.model.failed.items():
            self._fail(job_name, OOM_ERROR, [OOM_LOG.format(stage=int(self.model.minute)), f"ERROR: {why}"])
        for name, topic in self.model.topics.items():
            for p, latest in enumerate(topic.latest):
                BROKERS.topics[name][p][1] = latest
        for job in self.jobs.values():
            stream = self.model.streams[job.name]
            if stream.consumed_this_minute:
                key = self._key(job)
                if key and not self.may_write(job, key):
                    # The sink's write was refused: the batch is neither landed nor committed, the run fails.
                    stream.consumed, stream.last_write_minute = before[job.name]
                    stream.consumed_this_minute = 0
                    self._fail(job.name, ACCESS_DENIED.format(n=100 + int(self.model.minute) % 900,
                                                              key=f"s3a://{self.catalog.s3.name}/{key}"))
                    continue
                self._commit(job, stream.consumed)
                self._land(job)
            if job.lag_source == "msk" and job.consumer_group in BROKERS.groups:
                self._publish_msk_lag(job)
        self._publish_brokers()

    def _fail(self, job: str, error: str, log: list[str] | None = None) -> None:
        run_id = self.crash(job, error)
        if run_id is None:
            return
        if log:
            self._error_log(job, run_id, log)
        self.failures.append((job, run_id, error))

    def _error_log(self, job: str, run_id: str, lines: list[str]) -> None:
        """What Glue writes to the job's error log group (catalog: error_log_group), in a stream named by the run."""
        logs, group = self.sandbox.client("logs"), self.catalog.glue_job(job).error_log_group
        if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
            logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName=run_id)
        at = int(clock.now().timestamp() * 1000)
        logs.put_log_events(logGroupName=group, logStreamName=run_id,
                            logEvents=[{"timestamp": at + i, "message": line} for i, line in enumerate(lines)])

    def _publish_brokers(self) -> None:
        """What MSK publishes each minute at the DEFAULT monitoring level for the metrics the MSK alarms watch:
        an offline broker publishes nothing (its series have no datapoint that minute)."""
        metrics = self.model.broker_metrics()
        cluster = {"Name": "Cluster Name", "Value": self.catalog.msk.cluster_name}
        # Stamped inside the minute that just passed, as `Sandbox.put_metric` stamps MSK's SumOffsetLag.
        at = datetime.fromtimestamp((int(clock.now().timestamp()) // 60) * 60 - 59, UTC)
        data: list[dict[str, Any]] = [{"MetricName": "OfflinePartitionsCount", "Dimensions": [cluster],
                                       "Timestamp": at, "Value": float(metrics["offline_partitions"])}]  # type: ignore[arg-type]
        for broker, count in metrics["under_replicated"].items():  # type: ignore[attr-defined]
            data.append({"MetricName": "UnderReplicatedPartitions", "Timestamp": at, "Value": float(count),
                         "Dimensions": [cluster, {"Name": "Broker ID", "Value": str(broker)}]})
        for is_controller in metrics["controllers"].values():  # type: ignore[attr-defined]
            data.append({"MetricName": "ActiveControllerCount", "Dimensions": [cluster], "Timestamp": at,
                         "Value": float(is_controller)})
        self.sandbox.client("cloudwatch").put_metric_data(Namespace="AWS/Kafka", MetricData=data)

    def _commit(self, job: Any, consumed: list[int]) -> None:
        from sandbox.kafka_standin import BROKERS, committed_checkpoint, write_batch

        offsets = dict(enumerate(consumed))
        if job.lag_source == "checkpoint":
            s3 = self.sandbox.client("s3")
            run_id = next((str(r.job_run_id) for r in reversed(self._runs(job.name)) if r.status in ACTIVE), "")
            known = self.batches.get(job.name)
            batch = known[1] if known and run_id and known[0] == run_id else committed_checkpoint(s3, job)[0]
            write_batch(s3, job, batch + 1, offsets)
            self.batches[job.name] = (run_id, batch + 1)
        elif job.consumer_group:
            BROKERS.groups.setdefault(job.consumer_group, {})[job.topic or ""] = offsets

    def _publish_msk_lag(self, job: Any) -> None:
        """What MSK publishes each minute for a consumer group with committed offsets: SumOffsetLag."""
        dims = {"Cluster Name": self.catalog.msk.cluster_name, "Consumer Group": job.consumer_group or "",
                "Topic": job.topic or ""}
        self.sandbox.put_metric("AWS/Kafka", "SumOffsetLag", dims, [float(self.model.lag(job.name))],
                                end=clock.now())

    def _key(self, job: Any) -> str | None:
        if not job.writes_prefix:
            return None
        now = clock.now()
        return f"{job.writes_prefix}{now.strftime(self.catalog.s3.landing_partition_format)}/part-{now:%H%M}.json"

    def _land(self, job: Any) -> None:
        key = self._key(job)
        if key is None:
            return
        now = clock.now()
        bucket = self.catalog.s3.name
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
