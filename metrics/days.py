"""Time helpers shared by metrics, connectors and the dashboard: UTC instants, and local calendar
days (every daily metric counts days in the workflow's time zone)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

ONE_NS = pd.Timedelta(1, "ns")


def as_utc(value: str | dt.datetime | pd.Timestamp) -> pd.Timestamp:
    """A time as an aware UTC timestamp; one without an offset is read as UTC. Raises
    ValueError/TypeError for what is not a time (callers say where it came from)."""
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def utc_ns(moment: pd.Timestamp) -> np.datetime64:
    """A timestamp as a naive UTC numpy datetime64[ns] (for array arithmetic)."""
    return pd.Timestamp(moment).tz_convert("UTC").tz_localize(None).as_unit("ns").to_datetime64()


def naive_utc(times: pd.Series) -> np.ndarray:
    """UTC times as naive datetime64[ns] (numpy's max/min on tz-aware values makes objects)."""
    return times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")


def local_days(times: pd.Series, timezone: str) -> pd.Series:
    """UTC timestamps -> the local day of each (naive midnight, datetime64[ns]); NaT stays NaT."""
    return times.dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize()


def local_day(time: pd.Timestamp, timezone: str) -> pd.Timestamp:
    return time.tz_convert(timezone).tz_localize(None).normalize()


def end_of_day(day: dt.date | str, timezone: str) -> pd.Timestamp:
    """`--as-of YYYY-MM-DD`: the last instant of that local day, in UTC."""
    next_midnight = pd.Timestamp(day) + pd.Timedelta(days=1)
    return (
        next_midnight.tz_localize(timezone, nonexistent="shift_forward").tz_convert("UTC") - ONE_NS
    )


def day_numbers(days: pd.Series, first: pd.Timestamp) -> np.ndarray:
    """Whole days from `first` (int64; NaT -> a large negative sentinel the caller masks)."""
    values = days.to_numpy(dtype="datetime64[ns]")
    return ((values - np.datetime64(first, "ns")) // np.timedelta64(1, "D")).astype("int64")


#: Hot paths work on int64 nanoseconds since the epoch (UTC): a day of them, and NaT's value.
DAY_NS = 86_400 * 10**9
NAT_NS = np.iinfo("int64").min


def local_day_numbers(ns: np.ndarray, timezone: str) -> np.ndarray:
    """UTC int64 nanoseconds (no NaT) -> the local day of each as days since 1970-01-01 (int64):
    `local_days` without building the tz-aware Series and its normalized copy."""
    wall = pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC").tz_convert(timezone)
    return wall.tz_localize(None).asi8 // DAY_NS


def epoch_day(day: pd.Timestamp | dt.date) -> int:
    """A day (naive midnight or date) as days since 1970-01-01, as `local_day_numbers` counts."""
    return int(pd.Timestamp(day).value // DAY_NS)


def day_index(first: pd.Timestamp, last: pd.Timestamp) -> pd.DatetimeIndex:
    return pd.date_range(first, last, freq="D", name="date")
