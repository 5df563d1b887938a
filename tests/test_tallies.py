"""The loop-thread counters and histograms expose what prometheus_client's own would."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from server.tallies import LoopTallies

BOUNDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


def exposed(registry: CollectorRegistry) -> set[str]:
    # prometheus_client's own also expose when each series was created.
    return {
        line for line in generate_latest(registry).decode().splitlines() if "_created" not in line
    }


def test_tallies_expose_what_prometheus_clients_own_metrics_do() -> None:
    theirs = CollectorRegistry()
    their_histogram = Histogram("chat_x_seconds", "X", buckets=BOUNDS, registry=theirs)
    their_counter = Counter("chat_y", "Y", registry=theirs)
    ours = CollectorRegistry()
    tallies = LoopTallies(BOUNDS)
    ours.register(tallies)
    our_histogram = tallies.histogram("chat_x_seconds", "X")
    our_counter = tallies.counter("chat_y", "Y")
    # On a bound, between two, below the first, past the last.
    for value in (0.0, 0.0005, 0.0006, 0.003, 1, 1.0001, 10, 11):
        their_histogram.observe(value)
        our_histogram.observe(value)
    their_counter.inc(3)
    our_counter.inc(3)
    their_counter.inc()
    our_counter.inc()
    assert exposed(ours) == exposed(theirs)
    assert 'chat_x_seconds_bucket{le="0.0005"} 2.0' in exposed(ours)
