"""bench_web's arguments and summary (not its timings)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from marche.core.management.commands.bench_web import (
    Command,
    Row,
    format_table,
    percentile,
    summarise,
)


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([3.0], 0.99) == 3.0
    assert percentile([], 0.5) == 0.0


def test_summarise_counts_the_answers_per_second_and_the_latencies_in_ms() -> None:
    row = summarise(
        name="home", path="/", latencies=[0.010, 0.020, 0.030, 0.040], errors=1, elapsed=2.0
    )
    assert row == Row(
        name="home", path="/", requests=4, errors=1, per_second=2.0, p50_ms=20.0, p99_ms=40.0
    )


def test_the_table_gives_each_page_its_ratio_to_the_liveness_endpoint() -> None:
    rows = [
        Row("liveness", "/healthz/live", 2000, 0, 1000.0, 2.0, 5.0),
        Row("home", "/", 1200, 0, 600.0, 3.0, 9.0),
        Row("producer", "/producteurs/ferme/", 400, 2, 200.0, 8.0, 20.5),
    ]
    table = format_table(rows).splitlines()
    assert table[0].startswith("| page | path | req/s | p50 (ms) | p99 (ms) | errors |")
    assert table[2] == "| liveness | `/healthz/live` | 1000 | 2.0 | 5.0 | 0 | 100% |"
    assert table[3] == "| home | `/` | 600 | 3.0 | 9.0 | 0 | 60% |"
    assert table[4].endswith("| 200 | 8.0 | 20.5 | 2 | 20% |")


def test_the_options_are_parsed_and_checked() -> None:
    parser = Command().create_parser("manage.py", "bench_web")
    options = parser.parse_args(["--seconds", "2.5", "--connections", "3"])
    assert (options.seconds, options.connections, options.workers) == (2.5, 3, 2)
    with pytest.raises(CommandError, match="positive"):
        call_command("bench_web", seconds=0)
