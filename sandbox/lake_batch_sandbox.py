"""The batch and Redshift side of the lake model (sandbox/lake_batch.py) inside the emulated account, beside the
streaming side (sandbox/lake_sandbox.py), so that the service's alarms and playbooks see batch runs, loads and a
Redshift cluster that behave.

Each simulated minute (`BatchInSandbox.step`, after the streaming side's step):

- what each streaming job landed this minute (the streaming model's count) goes into its landing partition, the
  sandbox clock's hour in the catalog's landing_partition_format;
- a run of a batch job someone else started in the emulated Glue since (the data quality playbook's re-run once
  approved, a person's `aws glue start-job-run`) is run by the model from now, over the partition its arguments
  name (`adopted`);
- a batch job whose hourly schedule falls in this minute starts a run in the emulated Glue (StartJobRun with the
  partition as its catalog partition argument, as the hourly trigger's run would carry); when the run's load time
  is over the run is SUCCEEDED, its curated output is written under the job's writes_prefix, its rows are
  appended to its table in the Redshift stand-in without ANALYZE (a COPY into a table that has rows does not
  update its statistics), and its staging quality flags are written where the data quality playbook reads them;
- the CPU the model computes from what runs and from each table's stats_off, as the stand-in's SVV_TABLE_INFO
  reports it (the playbook's real ANALYZE is what lowers it), is published as AWS/Redshift CPUUtilization with
  the cluster-level dimension the alarm reads (ClusterIdentifier), as Redshift does every minute.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sandbox import clock
from sandbox.lake_batch import BatchJobView, BatchModel, BatchParams, BatchRun, hourly_minute


class BatchInSandbox:
    def __init__(self, sandbox: Any, lake: Any, params: BatchParams | None = None):
        from sandbox.redshift_wiring import attach_redshift

        self.sandbox, self.lake, self.catalog = sandbox, lake, sandbox.catalog
        self.params = params or BatchParams()
        streams = {j.writes_prefix: j.name for j in self.catalog.glue_jobs if j.streaming and j.writes_prefix}
        views = []
        for job in self.catalog.glue_jobs:
            minute = hourly_minute(job.schedule)
            if not job.streaming and job.reads_prefix in streams and job.loads_table and minute is not None:
                views.append(BatchJobView(job.name, streams[job.reads_prefix], job.loads_table, minute))
        self.model = BatchModel(self.params, views)
        self.standin = attach_redshift(sandbox)
        self._landed_before()
        self.run_ids: dict[int, str] = {}  # id(BatchRun) -> Glue run id
        # Glue runs of the batch jobs the model knows: those before it started are history, not to run again.
        self._seen = {r.job_run_id for view in self.model.jobs for r in self._glue_runs(view.name)}
        self.adopted: list[tuple[float, str, str, str]] = []  # (model minute, job, partition, Glue run id)
        self.cpu = self.model.cpu(self.stats_off())

    # -- reading the stand-in as the playbook does ----------------------------------------------------------------

    def stats_off(self) -> dict[str, float]:
        """stats_off of every catalog table, from SVV_TABLE_INFO (the view the Redshift playbook reads)."""
        rows = self.standin.execute('SELECT "schema", "table", stats_off FROM svv_table_info')
        return {f"{schema}.{table}": float(off or 0.0) for schema, table, off in rows}

    def partition(self, at: datetime) -> str:
        return at.strftime(self.catalog.s3.landing_partition_format)

    def _landed_before(self) -> None:
        """The streams ran before the model started (the lake has no backlog at minute 0): what they landed in
        this hour and the one before, at the producers' rates, is in landing for the next loads to read."""
        now = clock.now()
        for stream in self.lake.model.streams.values():
            for back in range(1, now.minute + 61):
                self.model.land(stream.job, self.partition(now - timedelta(minutes=back)),
                                round(self.lake.model.rate(stream.topic, float(-back))))

    # -- the minute -----------------------------------------------------------------------------------------------

    def _glue_runs(self, job: str) -> list[Any]:
        return list(self.sandbox.account.glue_backend().get_job(job).job_runs)

    def _adopt(self) -> None:
        """Runs of the batch jobs started by someone else since the last minute: the model runs each from now."""
        for view in self.model.jobs:
            argument = self.catalog.glue_job(view.name).partition_argument
            for found in self._glue_runs(view.name):
                if found.job_run_id in self._seen:
                    continue
                self._seen.add(found.job_run_id)
                partition = (found.arguments or {}).get(argument)
                if partition:  # a run without its partition argument reads nothing the model knows
                    self.rerun(view.name, partition, found.job_run_id)
                    self.adopted.append((self.model.minute, view.name, partition, found.job_run_id))

    def step(self) -> None:
        now = clock.now()
        self._adopt()
        for stream in self.lake.model.streams.values():
            job = self.catalog.glue_job(stream.job)
            # Landed over the minute that just passed: into the hour that minute belonged to.
            self.model.land(job.name, self.partition(now - timedelta(seconds=1)), stream.consumed_this_minute)
        started, finished = self.model.step(now.minute, self.partition(now - timedelta(hours=1)))
        for run in started:
            self._start(run)
        for run in finished:
            self._finish(run)
        self.cpu = self.model.cpu(self.stats_off())
        self.sandbox.put_metric("AWS/Redshift", "CPUUtilization",
                                {"ClusterIdentifier": self.catalog.redshift.cluster_id}, [self.cpu], end=now)

    def load(self, table: str, rows: int) -> None:
        """Append `rows` to `table` in the stand-in without ANALYZE; returns once SVV_TABLE_INFO shows them."""
        if rows > 0:
            schema, name = table.split(".", 1)
            self.standin.make_stats_stale(schema, name, rows)

    def _start(self, run: BatchRun) -> None:
        job = self.catalog.glue_job(run.job)
        glue = self.sandbox.client("glue")
        self.run_ids[id(run)] = str(glue.start_job_run(JobName=job.name, Arguments={
            job.partition_argument: run.partition})["JobRunId"])
        self._seen.add(self.run_ids[id(run)])

    def rerun(self, job_name: str, partition: str, run_id: str) -> BatchRun:
        """A run someone else started (the data quality playbook's re-run): the model runs it from now."""
        view = next(j for j in self.model.jobs if j.name == job_name)
        run = self.model.start(view, partition)
        self.run_ids[id(run)] = run_id
        return run

    def _finish(self, run: BatchRun) -> None:
        job = self.catalog.glue_job(run.job)
        backend_run = next((r for r in self.sandbox.account.glue_backend().get_job(job.name).job_runs
                            if r.job_run_id == self.run_ids.get(id(run))), None)
        if backend_run is not None:
            backend_run.status = "SUCCEEDED"
            backend_run.completed_on = backend_run.modified_on = clock.now().replace(tzinfo=None)
        s3, bucket = self.sandbox.client("s3"), self.catalog.s3.name
        if job.writes_prefix:
            s3.put_object(Bucket=bucket, Key=f"{job.writes_prefix}{run.partition}/part-0000.json",
                          Body=json.dumps({"rows": run.rows}).encode())
        self.load(job.loads_table or "", run.rows)
        s3.put_object(Bucket=bucket, Key=self.catalog.s3.quality_flags_key(job.name, run.partition),
                      Body=json.dumps({"passed": run.passed, "failed_rules": run.failed_rules}).encode())
