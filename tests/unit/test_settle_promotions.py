"""A promotion killed after the alias moved leaves its champion tagged ``promoting``; the
evening tags it ``promoted`` (the alias got there) whoever trains tonight."""

from __future__ import annotations

import mlflow
from airsick_core.names import CHAMPION, model_name
from airsick_training.track import settle_promotions


def test_a_champion_left_promoting_is_settled_and_a_stray_one_is_left(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    name = model_name("ann")
    client.create_registered_model(name)
    first = client.create_model_version(name, (tmp_path / "m1").as_uri()).version
    second = client.create_model_version(name, (tmp_path / "m2").as_uri()).version
    client.set_registered_model_alias(name, CHAMPION, first)
    for version in (first, second):  # both killed mid-promotion; only the first got the alias
        client.set_model_version_tag(name, version, "decision", "promoting")

    assert settle_promotions(client) == [f"{name} version {first}"]
    assert client.get_model_version(name, first).tags["decision"] == "promoted"
    # Not the champion: left for ann's next training (``settle_interrupted``) to abandon.
    assert client.get_model_version(name, second).tags["decision"] == "promoting"
    assert settle_promotions(client) == []
