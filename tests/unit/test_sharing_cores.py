"""Training takes its share of the cores: OpenMP and BLAS are capped while it runs."""

from __future__ import annotations

import os

import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime gradient boosting uses)
from airsick_core.settings import Settings
from airsick_orchestration import steps
from airsick_training import train as training
from threadpoolctl import threadpool_info


def test_training_runs_with_its_share_of_threads(tmp_path, monkeypatch):
    def threads() -> dict[str, int]:
        return {pool["user_api"]: pool["num_threads"] for pool in threadpool_info()}

    before, seen = threads(), {}

    def record(*args, **kwargs):
        seen.update(threads())

    monkeypatch.setattr(training, "train", record)
    steps.train(Settings(home=tmp_path, train_threads=1))
    assert seen.get("openmp") == 1 and seen.get("blas") == 1
    assert threads() == before  # outside training the libraries have their defaults back


def test_the_default_is_half_the_cores(tmp_path):
    assert Settings(home=tmp_path).train_threads == max(1, (os.cpu_count() or 1) // 2)
