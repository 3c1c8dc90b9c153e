"""The local cluster's housekeeping settings (runner.LOCAL_CLUSTER_CONFIG) reach the
scheduler, the nannies in this process and the spawned workers, and only for the build:
the caller's Dask config is back as it was afterwards."""

from __future__ import annotations

import dask
import distributed  # noqa: F401  (its config defaults: the keys read below)
import pytest

from pipeline.config import BuildOptions
from pipeline.runner import LOCAL_CLUSTER_CONFIG, stage_runner


def _config_values() -> dict[str, object]:
    return {key: dask.config.get(key) for key in LOCAL_CLUSTER_CONFIG}


def _periodic_callbacks(dask_worker) -> list[str]:
    return sorted(dask_worker.periodic_callbacks)


@pytest.mark.slow
def test_local_cluster_config_reaches_the_workers_and_is_restored():
    before = _config_values()
    assert before != LOCAL_CLUSTER_CONFIG  # else the test could not tell
    with stage_runner(BuildOptions(workers=2)) as runner:
        client = runner.client
        on_workers = client.run(_config_values)
        assert len(on_workers) == 2
        assert all(values == LOCAL_CLUSTER_CONFIG for values in on_workers.values())
        assert _config_values() == LOCAL_CLUSTER_CONFIG
        # The workers read the settings when they start: no task-stack sampling then.
        callbacks = client.run(_periodic_callbacks)
        assert all("profile" not in names for names in callbacks.values())
        assert all("heartbeat" in names for names in callbacks.values())  # the list is real
    assert _config_values() == before
