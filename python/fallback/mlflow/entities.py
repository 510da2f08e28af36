"""The run objects MLflow's fluent API hands back (``mlflow.active_run()``, ``start_run``).

Only what scripts read: ``run.info.run_id``, ``run.info.experiment_id``,
``run.info.status``, ``run.data.metrics/params/tags``. The data is what this
process logged to the run (amlc keeps the full record in the workspace).
"""


class RunInfo:
    def __init__(self, run_id, experiment_id, run_name, start_time, status="RUNNING"):
        self.run_id = run_id
        self.run_uuid = run_id
        self.experiment_id = experiment_id
        self.run_name = run_name
        self.start_time = start_time
        self.end_time = None
        self.status = status
        self.lifecycle_stage = "active"
        self.artifact_uri = None
        self.user_id = ""


class RunData:
    def __init__(self):
        self.metrics = {}
        self.params = {}
        self.tags = {}


class Run:
    def __init__(self, info, data):
        self.info = info
        self.data = data

    def __repr__(self):
        return "<Run: run_id=%r, experiment_id=%r, status=%r>" % (
            self.info.run_id, self.info.experiment_id, self.info.status)


class Experiment:
    def __init__(self, experiment_id, name):
        self.experiment_id = experiment_id
        self.name = name
        self.lifecycle_stage = "active"
        self.tags = {}
        self.artifact_location = ""


class Metric:
    def __init__(self, key, value, timestamp, step):
        self.key, self.value, self.timestamp, self.step = key, value, timestamp, step


class Param:
    def __init__(self, key, value):
        self.key, self.value = key, value


class RunTag:
    def __init__(self, key, value):
        self.key, self.value = key, value


class RunStatus:
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"
