"""Each benchmark, run small, so that `make bench` keeps working. No timing asserted:
call counts and outcomes only (speed is measured by `make bench`, not by tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # the benchmarks, small: ~2-6 s each

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def results_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECR_CLEANER_BENCH_RESULTS", str(tmp_path))
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    import bench.common  # it read the results directory when first imported

    monkeypatch.setattr(bench.common, "RESULTS", tmp_path)


def test_api_efficiency_small_makes_the_minimum_calls() -> None:
    from bench import api_efficiency

    for result in api_efficiency.main(0.02):
        ratio = result["ratio"]
        assert isinstance(ratio, dict)
        assert all(r <= 1.05 for r in ratio.values()), result
        assert result["warm_cache_batch_get_image"] == 0


def test_planner_scale_small_runs(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "bench.planner_scale", "2000", "4000"],
        check=True,
        capture_output=True,
        env={**os.environ},
    )
    assert (tmp_path / "planner_scale.json").exists()


def test_latency_small_completes_cleanly() -> None:
    from bench import latency

    result = latency.main(0.0, 2)  # the smallest run: one round of 16 repositories
    assert result["exit_code"] == 0
    assert result["repositories"] == 16
    assert result["processes"] == 2  # every process's CPU is the client's
    assert result["client_cpu_s"] >= result["client_cpu_workers_s"] >= 0
    assert "load_average_at_start" in result


def test_throttling_small_loses_nothing() -> None:
    from bench import throttling

    result = throttling.main(0.05)
    assert result["not_deleted"] == 0
    assert result["images_left"] == result["images_expected_left"]
    assert result["exit_code"] == 0


def test_html_report_small_writes_a_page(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    run = subprocess.run(
        [sys.executable, "-m", "bench.html_report", "4000", str(out)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    result = json.loads(run.stdout)
    assert result["images"] == 4000 and result["table_rows"] > 0
    assert result["bytes"] == out.stat().st_size


def test_kubernetes_read_makes_one_call_per_page_of_each_resource() -> None:
    from bench import kubernetes_read

    result = kubernetes_read.main(1200)  # 120 Deployments of 10 pods, 500 objects a page
    assert result["pods"] == 1200
    assert result["calls"] == {
        "pods": 3,
        "deployments": 1,
        "statefulsets": 1,
        "daemonsets": 1,
        "replicasets": 1,
        "jobs": 1,
        "cronjobs": 1,
    }


def test_lifecycle_eval_small_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.common
    from bench import lifecycle_eval

    # bench.common read the results directory when first imported, maybe by another test.
    monkeypatch.setattr(bench.common, "RESULTS", tmp_path)
    result = lifecycle_eval.main(2000)
    assert result["rules"] == 10
    assert 0 < int(str(result["ecr_expires"])) < int(str(result["images"]))
    assert (tmp_path / "lifecycle_eval.json").exists()


def test_archive_small_archives_and_restores_everything() -> None:
    from bench import archive

    result = archive.main(150)
    assert result["archive"]["images_archived"] == 150
    assert result["archive"]["calls"]["UpdateImageStorageClass"] == 150
    assert (result["restore"]["images_restored"], result["restore"]["failed"]) == (150, 0)
    assert result["archive"]["peak_calls_in_flight"] <= result["concurrency"]


def test_serve_soak_small_keeps_the_cache_to_what_the_registry_holds() -> None:
    from bench import serve_soak

    result = serve_soak.main(20)
    assert result["exit_codes"] == [0]
    low, high = result["cache_entries_after_warmup"]
    assert low == high  # pushed and deleted indexes come and go; the cache follows


def test_parse_cost_compares_the_same_images() -> None:
    from bench import parse_cost

    result = parse_cost.main(2)  # asserts both parsers give the same Images
    assert result["compiled_ms"] > 0 and result["botocore_ms"] > 0


def test_list_plan_cpu_small_lists_and_plans_every_image() -> None:
    from bench import list_plan_cpu

    result = list_plan_cpu.main(2, 1)
    assert result["images"] >= 2 * list_plan_cpu.PER_REPOSITORY
    assert result["cpu_ms_per_1000_images"] > 0


def test_million_small_meets_its_targets_with_two_processes() -> None:
    from bench import million

    result = million.main(0.004, 2)  # 4 repositories of 1,000 images
    assert result["exit_code"] == 0 and result["processes"] == 2
    ratio = result["ratio"]
    assert isinstance(ratio, dict) and all(r <= 1.05 for r in ratio.values()), result
    peaks = result["peak_rss_mib"]
    assert isinstance(peaks, dict) and set(peaks) >= {"cleaner", "sandbox"}


def test_small_runs_compare_one_and_two_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import small_runs

    monkeypatch.setattr(small_runs, "REGISTRIES", [(3, 20)])
    result = small_runs.main(1)
    (run,) = result["runs"]
    assert set(run["by_processes"]) == {"1", "2"}


def test_planning_threads_plans_with_and_without_the_lock() -> None:
    from bench import planning_threads

    result = planning_threads.main(1, repositories=4, images=200)
    assert set(result["cpu_s"]) == {"1 thread", "8 threads", "8 threads, planning lock"}


def test_call_cost_small_times_each_call_on_both_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bench.common
    from bench import call_cost

    monkeypatch.setattr(bench.common, "RESULTS", tmp_path)
    result = call_cost.main(2, 1)  # asserts each call's answer: 100 images, 100 deleted
    costs = result["cpu_ms_per_call"]
    assert set(costs) == {"botocore", "fast"}
    assert all(set(c) == set(call_cost.OPERATIONS) for c in costs.values())
    assert (tmp_path / "call_cost.json").exists()
