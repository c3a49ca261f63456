"""What `make bench-scaling` reports around its measurements (tests/bench/scaling.py): the efficiency of each
step against one process, and the machine it ran on. The measurements themselves are the benchmark's."""

import json
import os
from urllib.parse import urlsplit

import pytest

from tests.bench import scaling
from tests.bench.harness import bench_database, bench_env


def _curve(prefix: str, values: dict[int, float]) -> dict:
    return {f"{prefix}_{n}_workers": {"value": value, "unit": "emails/s"} for n, value in values.items()}


def test_a_straight_line_is_full_efficiency_and_a_flat_one_falls_with_each_process():
    straight = _curve("inbound_emails_per_s", {1: 10.0, 2: 20.0, 4: 40.0})
    flat = _curve("inbound_emails_per_s", {1: 10.0, 2: 10.0, 4: 10.0})
    scaling._add_efficiency(straight, "inbound_emails_per_s")
    scaling._add_efficiency(flat, "inbound_emails_per_s")
    assert [straight[f"inbound_emails_per_s_{n}_workers"]["efficiency"] for n in (1, 2, 4)] == [1.0, 1.0, 1.0]
    assert [flat[f"inbound_emails_per_s_{n}_workers"]["efficiency"] for n in (1, 2, 4)] == [1.0, 0.5, 0.25]
    assert flat["inbound_emails_per_s_4_workers"]["per_worker"] == 2.5


def test_a_step_that_measured_nothing_has_no_efficiency_rather_than_a_made_up_one():
    figures = _curve("web_requests_per_s", {1: None, 2: 30.0, 4: 40.0})
    scaling._add_efficiency(figures, "web_requests_per_s")
    assert {figure["efficiency"] for figure in figures.values()} == {None}


def test_the_machine_record_names_the_cores_and_the_load_and_is_plain_json():
    machine = json.loads(json.dumps(scaling._machine()))
    assert machine["cpu_count"] == os.cpu_count()
    assert 1 <= machine["cpus_usable"] <= machine["cpu_count"]
    assert len(machine["load_average_1_5_15"]) == 3


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("postgres://postgres@127.0.0.1:5432/acolhe", "acolhe_bench_scaling"),
        ("postgres://postgres@127.0.0.1:5432/acolhe_review", "acolhe_review_bench_scaling"),
        ("postgres:///acolhe?host=/srv/acolhe/.data/pg", "acolhe_bench_scaling"),
    ],
)
def test_bench_databases_are_named_after_the_configured_one(monkeypatch, url, name):
    """Two checkouts sharing a PostgreSQL server keep their own bench data sets (scaling, workspace, mail)."""
    monkeypatch.setenv("DATABASE_URL", url)
    assert bench_database(scaling.DATABASE) == name
    assert urlsplit(bench_env(scaling.DATABASE)["DATABASE_URL"]).path == f"/{name}"
    assert bench_database("acolhe_bench_workspace_quick") == name.replace("scaling", "workspace_quick")
