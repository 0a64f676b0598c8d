"""DORA performance bands for the four delivery metrics, with one sentence on each.

The State of DevOps reports (2021-2023) describe clusters, not thresholds, and their ranges
overlap from year to year; Flowdeck uses these boundaries (documented in docs/dashboard.md).
Deploy frequency counts successful production deployments.


| metric | elite | high | medium | low |
| --- | --- | --- | --- | --- |
| deploy frequency (per week) | >= 7 (daily or more) | >= 1 | >= 0.25 (monthly) | less |
| lead time for changes (median) | < 1 day | <= 1 week | <= 1 month (30 days) | more |
| change failure rate | <= 5% | <= 10% | <= 15% | more |
| time to restore (median) | < 1 hour | < 1 day | <= 1 week | more |
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BANDS = ("elite", "high", "medium", "low")
BAND_COLOURS = {"elite": "green", "high": "blue", "medium": "orange", "low": "red", "": "gray"}


@dataclass(frozen=True)
class Rating:
    metric: str
    value: float | None
    band: str
    """One of `BANDS`, or "" when there is nothing to rate."""
    meaning: str


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def deploy_frequency(per_week: float | None) -> Rating:
    meaning = (
        "How often a change reaches production: frequent small deployments keep batches small "
        "and feedback fast."
    )
    if _missing(per_week):
        return Rating("deploy frequency", None, "", meaning)
    band = (
        "elite"
        if per_week >= 7
        else "high"
        if per_week >= 1
        else ("medium" if per_week >= 0.25 else "low")
    )
    return Rating("deploy frequency", per_week, band, meaning)


def lead_time(hours: float | None) -> Rating:
    meaning = (
        "How long finished work waits before users get it (done to production): waiting "
        "inventory that delivers no value yet."
    )
    if _missing(hours):
        return Rating("lead time for changes", None, "", meaning)
    band = (
        "elite"
        if hours < 24
        else "high"
        if hours <= 24 * 7
        else ("medium" if hours <= 24 * 30 else "low")
    )
    return Rating("lead time for changes", hours, band, meaning)


def change_failure_rate(rate: float | None) -> Rating:
    meaning = "The share of production deployments that failed: the price of speed, if any."
    if _missing(rate):
        return Rating("change failure rate", None, "", meaning)
    band = (
        "elite"
        if rate <= 0.05
        else "high"
        if rate <= 0.10
        else ("medium" if rate <= 0.15 else "low")
    )
    return Rating("change failure rate", rate, band, meaning)


def time_to_restore(hours: float | None) -> Rating:
    meaning = (
        "After a failed deployment, how long until a successful one: how fast the team recovers."
    )
    if _missing(hours):
        return Rating("time to restore", None, "", meaning)
    band = (
        "elite" if hours < 1 else "high" if hours < 24 else ("medium" if hours <= 24 * 7 else "low")
    )
    return Rating("time to restore", hours, band, meaning)
