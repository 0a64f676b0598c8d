"""Cycle-time percentiles, the service level expectation (SLE) and pace."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.days import local_day, local_days

DEFAULT_WINDOW_DAYS = 90
PERCENTILES = (50, 70, 85, 95)
SLE_PERCENTILE = 85


def delivered_in(
    facts: pd.DataFrame,
    timezone: str,
    as_of: pd.Timestamp,
    first: pd.Timestamp | None = None,
    last: pd.Timestamp | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> pd.DataFrame:
    """The delivered items whose local done day is in [first, last], or, when no range is
    given, in the `window_days` days ending with `as_of`'s day (that day included)."""
    delivered = facts[facts["done_at"].notna()]
    done_day = local_days(delivered["done_at"], timezone)
    if first is None or last is None:
        last = local_day(as_of, timezone)
        first = last - pd.Timedelta(days=window_days - 1)
    return delivered[(done_day >= first) & (done_day <= last)]


def cycle_time_percentiles(
    cycle_times: pd.Series, percentiles: tuple[int, ...] = PERCENTILES
) -> pd.Series:
    """Percentiles (pandas linear interpolation) of cycle times in days. Index: the percentile
    numbers; values float. No cycle times -> all NaN."""
    values = pd.Series(cycle_times, dtype="float64").dropna()
    if values.empty:
        return pd.Series(np.nan, index=list(percentiles), dtype="float64", name="cycle_time_days")
    q = values.quantile([p / 100 for p in percentiles], interpolation="linear")
    return pd.Series(q.to_numpy(), index=list(percentiles), name="cycle_time_days")


def pace(ages: pd.Series, cycle_times: pd.Series) -> pd.Series:
    """For each age (an item in progress): the share of the reference delivered items whose
    cycle time is <= that age. Same index as `ages`; NaN when there is no reference item."""
    reference = np.sort(pd.Series(cycle_times, dtype="float64").dropna().to_numpy())
    if reference.size == 0:
        return pd.Series(np.nan, index=ages.index, dtype="float64", name="pace")
    values = pd.Series(ages, dtype="float64")
    share = np.searchsorted(reference, values.fillna(-1).to_numpy(), side="right") / reference.size
    return pd.Series(share, index=ages.index, name="pace").where(values.notna()).round(4)


def pace_band(ages: pd.Series, bands: pd.Series) -> pd.Series:
    """Traffic light for the board: `ok` (age below p50), `watch` (to p85), `late` (beyond the
    SLE, p85). `bands` is `cycle_time_percentiles` output; no reference -> "" everywhere."""
    p50, p85 = bands.get(50, np.nan), bands.get(SLE_PERCENTILE, np.nan)
    if np.isnan(p50) or np.isnan(p85):
        return pd.Series("", index=ages.index, name="pace_band")
    values = pd.Series(ages, dtype="float64")
    band = np.select([values < p50, values <= p85], ["ok", "watch"], default="late")
    return pd.Series(band, index=ages.index, name="pace_band").where(values.notna(), "")
