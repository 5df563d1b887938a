"""Counters and histograms for what every message counts, kept on the event loop's thread.

prometheus_client takes a lock for each increment, and a histogram's observation walks its
buckets one by one: several times per message, a few percent of the server's CPU under
load. Everything counted here is counted on the event loop's thread, so a plain addition
is enough; the values are read there too, when /metrics is scraped.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector


class Tally:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1) -> None:
        self.value += amount


class Spread:
    """A histogram: the count in each bucket (not yet cumulative) and the sum."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf
        self.sum = 0.0

    def observe(self, value: float) -> None:
        # The first bound not below the value: Prometheus's buckets are "le".
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value

    def cumulative(self) -> list[tuple[str, float]]:
        buckets, total = [], 0
        for bound, count in zip((*self.bounds, None), self.counts, strict=True):
            total += count
            buckets.append(("+Inf" if bound is None else repr(float(bound)), float(total)))
        return buckets


class LoopTallies(Collector):
    """The counters and histograms made here, exposed as Prometheus metric families."""

    def __init__(self, bounds: Sequence[float]) -> None:
        self._bounds = bounds
        self._counters: dict[str, tuple[str, Tally]] = {}
        self._histograms: dict[str, tuple[str, Spread]] = {}

    def counter(self, name: str, documentation: str) -> Tally:
        tally = Tally()
        self._counters[name] = (documentation, tally)
        return tally

    def histogram(self, name: str, documentation: str) -> Spread:
        spread = Spread(self._bounds)
        self._histograms[name] = (documentation, spread)
        return spread

    def collect(self) -> Iterator[Metric]:
        for name, (documentation, tally) in self._counters.items():
            yield CounterMetricFamily(name, documentation, value=tally.value)
        for name, (documentation, spread) in self._histograms.items():
            yield HistogramMetricFamily(
                name, documentation, buckets=spread.cumulative(), sum_value=spread.sum
            )
