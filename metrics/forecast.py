"""Monte Carlo forecasts over sampled daily throughput (spec section 5).

Every trial draws, for each future day independently, one day of the throughput sample
(uniformly, with replacement). Draws come in blocks of days whose width depends only on the
number of trials, so a trial's day j is the same draw whatever the horizon: with one seed, a
later date never forecasts fewer items and a larger N is never sooner, and "how many" and "when"
describe the same simulated futures. Memory stays bounded: one block is at most ~200 MB.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from metrics.daily import daily_throughput
from metrics.days import local_day
from metrics.errors import InputError
from metrics.intervals import stage_intervals
from metrics.items import done_times
from metrics.workflow import Workflow

CONFIDENCES = (50, 70, 85, 95)
DEFAULT_TRIALS = 10_000
MAX_TRIALS = 1_000_000
DEFAULT_SEED = 0
DEFAULT_WINDOW_DAYS = 90
HORIZON_CAP_DAYS = 3650
BLOCK_BYTES = 200 * 1024 * 1024
MAX_BLOCK_DAYS = 16
MAX_CHUNK_DAYS = 128
ITEM_CONFIDENCE = 85
BACKTEST_POINTS = 26
BACKTEST_HORIZON_DAYS = 14
BACKTEST_FIRST_DAYS = 14
BACKTEST_STEP_DAYS = 7
BACKTEST_CONFIDENCE = 85
CALIBRATED_HIT_RATE = 0.70
"""Below this backtest hit rate the page warns that the 85% forecasts are not trustworthy."""

ANSWER_COLUMNS = ["question", "confidence", "value"]
BACKTEST_COLUMNS = ["as_of", "forecast_85", "actual", "hit"]


# --- the sample -------------------------------------------------------------------------------


def select_types(facts: pd.DataFrame, types: Iterable[str] = ()) -> pd.DataFrame:
    """The rows of `facts` whose `type` is one of `types` (case and surrounding spaces ignored);
    all rows when `types` is empty. A type no item has raises `InputError` naming the known
    types, since a misspelt type would otherwise read as "no delivery"."""
    asked = {t.strip().casefold(): t.strip() for t in types if t.strip()}
    if not asked:
        return facts
    wanted = set(asked)
    have = facts["type"].astype(str).str.strip().str.casefold()
    unknown = sorted(wanted - set(have))
    if unknown:
        known = sorted({t for t in facts["type"].astype(str).str.strip() if t})
        raise InputError(
            f"--type {asked[unknown[0]]!r}: no item has this type (types in the data: "
            f"{', '.join(known) if known else 'none'})"
        )
    return facts[have.isin(wanted).to_numpy()]


def window_days_range(
    as_of: pd.Timestamp, timezone: str, window_days: int
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The `window_days` local days ending with `as_of`'s day (included): (first, last)."""
    if window_days < 1:
        raise InputError(f"--window-days {window_days}: expected a whole number of days >= 1")
    last = local_day(as_of, timezone)
    return last - pd.Timedelta(days=window_days - 1), last


def throughput_sample(
    facts: pd.DataFrame,
    timezone: str,
    as_of: pd.Timestamp,
    window_days: int = DEFAULT_WINDOW_DAYS,
    types: Sequence[str] = (),
) -> pd.Series:
    """Daily throughput of the `window_days` local days ending with `as_of`'s day, counting the
    items of `types` only (all when empty). Index: those days (`date`); values int; days with
    no delivery are zeros and part of the sample. No delivery in the window (or no items)
    raises `InputError` saying to widen the window."""
    first, last = window_days_range(as_of, timezone, window_days)
    chosen = select_types(facts, types)
    sample = daily_throughput(chosen["done_at"], timezone, first, last)
    if sample.sum() == 0:
        kinds = f" of type {', '.join(types)}" if types else ""
        raise InputError(
            f"no item{kinds} was delivered in the {window_days} days {first.date()} to "
            f"{last.date()}: nothing to forecast from; widen the window (--window-days) or "
            "forecast from an earlier day (--as-of)"
        )
    return sample


# --- the trials -------------------------------------------------------------------------------


def check_trials(trials: int) -> None:
    if not 1 <= trials <= MAX_TRIALS:
        raise InputError(f"--trials {trials}: expected a whole number from 1 to {MAX_TRIALS:,}")


def _block_width(trials: int) -> int:
    # A block and its running sums (two arrays of 8-byte numbers) fit in `BLOCK_BYTES`.
    return int(max(1, min(MAX_BLOCK_DAYS, BLOCK_BYTES // (2 * 8 * trials))))


def _chunk_limit(trials: int) -> int:
    """Most days held at once: a chunk and its running sums stay within `BLOCK_BYTES`, and
    within `MAX_CHUNK_DAYS`, past which arrays outgrow the caches and run slower, not faster."""
    return max(_block_width(trials), min(MAX_CHUNK_DAYS, BLOCK_BYTES // (2 * 8 * trials)))


def _day_blocks(
    values: np.ndarray, trials: int, seed: int, days: int
) -> Iterator[tuple[int, np.ndarray]]:
    """(first day offset, trials x days chunk of drawn daily throughputs) up to `days` days.

    The random stream is drawn one fixed-width block at a time whatever the chunking, so day j
    of trial i is the same number for any horizon. Chunks double in size (few Python steps
    for a long horizon, little waste when an answer comes early) up to `_chunk_limit`.
    """
    rng = np.random.default_rng(seed)
    width = _block_width(trials)
    limit = _chunk_limit(trials)
    start, blocks = 0, 1
    while start < days:
        span = min(blocks * width, max(limit // width, 1) * width)
        chunk = np.empty((trials, span), dtype="int64")
        for at in range(0, span, width):
            chunk[:, at : at + width] = values[rng.integers(0, values.size, size=(trials, width))]
        yield start, chunk[:, : min(span, days - start)]
        start += span
        blocks *= 2


def _values(sample: pd.Series) -> np.ndarray:
    values = np.asarray(sample, dtype="int64")
    if values.size == 0:
        raise InputError("the throughput sample is empty: nothing to forecast from")
    return values


def how_many_trials(
    sample: pd.Series, days: int, trials: int = DEFAULT_TRIALS, seed: int = DEFAULT_SEED
) -> pd.Series:
    """Items delivered over days 1..`days` in each trial. Index: trial number 0..trials-1;
    values int (all zero when `days` <= 0: no future day is left)."""
    check_trials(trials)
    values = _values(sample)
    totals = np.zeros(trials, dtype="int64")
    for _, block in _day_blocks(values, trials, seed, max(days, 0)):
        totals += block.sum(axis=1)
    return pd.Series(totals, index=pd.RangeIndex(trials, name="trial"), name="items")


def finish_day_trials(
    sample: pd.Series,
    targets: Sequence[int],
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    cap_days: int = HORIZON_CAP_DAYS,
) -> pd.DataFrame:
    """Per trial and target n, the first day k (1 = the day after as_of's) whose running sum
    of drawn throughput reaches n. Index: trial; one column per target (0..len-1); float days,
    NaN when not reached within `cap_days`; 0 for a target <= 0 (nothing left to do)."""
    check_trials(trials)
    values = _values(sample)
    goal = np.asarray(list(targets), dtype="int64")
    finish = np.full((trials, goal.size), np.nan)
    finish[:, goal <= 0] = 0.0
    total = np.zeros(trials, dtype="int64")
    for start, block in _day_blocks(values, trials, seed, cap_days):
        pending = np.isnan(finish)
        if not pending.any():
            break
        running = np.cumsum(block, axis=1)
        running += total[:, None]
        for j in np.flatnonzero(pending.any(axis=0)):
            # Running sums never fall, so the days still short of the goal come first.
            short = (running < goal[j]).sum(axis=1)
            reached = pending[:, j] & (short < block.shape[1])
            finish[reached, j] = start + short[reached] + 1
        total = running[:, -1]
    return pd.DataFrame(finish, index=pd.RangeIndex(trials, name="trial"))


# --- answers at each confidence ---------------------------------------------------------------


def _need(confidence: int, trials: int) -> int:
    """How many trials make `confidence` percent of them (rounded up, integer arithmetic)."""
    return -(-confidence * trials // 100)


def how_many_answers(outcomes: pd.Series, confidences: Sequence[int] = CONFIDENCES) -> pd.Series:
    """At confidence c: the largest n such that at least c% of the trials delivered n or more.
    Index: confidence; values int. No trials -> an empty Series."""
    values = np.sort(np.asarray(outcomes, dtype="int64"))
    if values.size == 0:
        return pd.Series(dtype="int64", name="items")
    picks = [int(values[values.size - max(_need(c, values.size), 1)]) for c in confidences]
    return pd.Series(picks, index=pd.Index(list(confidences), name="confidence"), name="items")


def finish_answers(
    finish_days: pd.Series, as_of_day: pd.Timestamp, confidences: Sequence[int] = CONFIDENCES
) -> pd.DataFrame:
    """At confidence c: the earliest day such that at least c% of the trials finished on or
    before it. Index: confidence; columns `days` (float, days after as_of's day; NaN = beyond)
    and `date` (local day, NaT = beyond: fewer than c% of the trials finished in time)."""
    values = np.sort(np.nan_to_num(np.asarray(finish_days, dtype="float64"), nan=np.inf))
    days = []
    for c in confidences:
        pick = values[max(_need(c, values.size), 1) - 1] if values.size else np.inf
        days.append(pick if np.isfinite(pick) else np.nan)
    day_numbers = pd.Series(days, index=pd.Index(list(confidences), name="confidence"))
    dates = as_of_day + pd.to_timedelta(day_numbers, unit="D")
    return pd.DataFrame({"days": day_numbers, "date": dates})


def days_until(as_of_day: pd.Timestamp, by: pd.Timestamp) -> int:
    """Days from as_of's local day to `by` (the k of "how many by"); <= 0 for a past date."""
    return int((pd.Timestamp(by).normalize() - as_of_day).days)


def how_many_by(
    sample: pd.Series,
    as_of_day: pd.Timestamp,
    by: pd.Timestamp,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
) -> pd.Series:
    """How many by date `by`: index confidence, values int (0 for a date before tomorrow).
    A date more than `HORIZON_CAP_DAYS` after as_of's day raises `InputError`, as "when" stops
    there too (and a far date would only burn time)."""
    days = days_until(as_of_day, by)
    if days > HORIZON_CAP_DAYS:
        raise InputError(
            f"--how-many-by {pd.Timestamp(by):%Y-%m-%d}: more than {HORIZON_CAP_DAYS:,} days "
            f"after the as-of day {as_of_day:%Y-%m-%d}; forecasts stop at ten years"
        )
    return how_many_answers(how_many_trials(sample, days, trials, seed))


def when_done(
    sample: pd.Series,
    as_of_day: pd.Timestamp,
    n: int,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """When will `n` items be done: `finish_answers` of the trials (N = 0 -> as_of's day)."""
    if n < 0:
        raise InputError(f"--when {n}: expected a number of items >= 0")
    finish = finish_day_trials(sample, [n], trials, seed)[0]
    return finish_answers(finish, as_of_day)


def read_features(
    features: pd.DataFrame, where: str = "features", header_lines: int | None = None
) -> pd.DataFrame:
    """Check a features table (`feature`, `remaining`, in priority order): index 0..n-1,
    `feature` str, `remaining` int >= 0. A bad row raises `InputError` naming it: "row N", or
    "line N" of a file when `header_lines` (lines above the first row) is given."""
    columns = {str(c).strip().casefold(): c for c in features.columns}
    missing = [c for c in ("feature", "remaining") if c not in columns]
    if missing:
        raise InputError(f"{where}: missing column {missing[0]!r} (expected feature, remaining)")
    frame = pd.DataFrame(
        {
            "feature": features[columns["feature"]].fillna("").astype(str).str.strip(),
            "remaining": features[columns["remaining"]],
        }
    ).reset_index(drop=True)
    for row, (name, remaining) in enumerate(zip(frame["feature"], frame["remaining"], strict=True)):
        line = (
            f"{where}, row {row + 1}"
            if header_lines is None
            else f"{where}: line {row + 1 + header_lines}"
        )
        if not name:
            raise InputError(f"{line}: empty feature name")
        number = pd.to_numeric(pd.Series([remaining]), errors="coerce").iloc[0]
        if pd.isna(number) or number < 0 or number != int(number):
            raise InputError(
                f"{line} ({name}): remaining {remaining!r} is not a whole number of items >= 0"
            )
    frame["remaining"] = pd.to_numeric(frame["remaining"]).astype("int64")
    return frame


def features_forecast(
    sample: pd.Series,
    as_of_day: pd.Timestamp,
    features: pd.DataFrame,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """Features done one after the other, in the given order: feature i is done on the first
    day whose running sum reaches the remaining items of features 1..i.

    Index 0..n-1 (priority order); columns `feature`, `remaining`, `cumulative`, then one
    date column per confidence (`p50`, `p70`, `p85`, `p95`; NaT = beyond). Empty list -> empty.
    """
    table = read_features(features)
    table["cumulative"] = table["remaining"].cumsum()
    finish = finish_day_trials(sample, table["cumulative"].tolist(), trials, seed)
    for c in CONFIDENCES:
        table[f"p{c}"] = pd.Series(pd.NaT, index=table.index, dtype="datetime64[ns]")
    for j in table.index:
        answers = finish_answers(finish[j], as_of_day)
        for c in CONFIDENCES:
            table.loc[j, f"p{c}"] = answers.loc[c, "date"]
    return table


# --- per item in progress ---------------------------------------------------------------------


def likely_done_by(
    ages: pd.Series,
    started_days: pd.Series,
    cycle_times: pd.Series,
    confidence: int = ITEM_CONFIDENCE,
) -> pd.Series:
    """For each item in progress (age in days, local start day): `date(started_at) + t - 1`
    for the smallest whole t >= its age such that, among the reference cycle times >= its age,
    at least `confidence`% are <= t. Same index as `ages`; NaT when the age is missing or no
    reference item is that old ("older than anything delivered")."""
    reference = np.sort(pd.Series(cycle_times, dtype="float64").dropna().to_numpy())
    age = pd.Series(ages, dtype="float64")
    out = pd.Series(pd.NaT, index=ages.index, dtype="datetime64[ns]", name="likely_done_by_85")
    if reference.size == 0:
        return out
    known = age.notna().to_numpy()
    first_old = np.searchsorted(reference, age.fillna(0).to_numpy(), side="left")
    older = reference.size - first_old
    pick = first_old + np.maximum(-(-confidence * older // 100), 1) - 1
    ok = known & (older > 0)
    t = np.where(ok, reference[np.minimum(pick, reference.size - 1)], np.nan)
    start = pd.Series(started_days, index=ages.index).astype("datetime64[ns]")
    dates = start + pd.to_timedelta(t - 1, unit="D")
    return out.where(~ok, dates)


# --- the backtest -----------------------------------------------------------------------------


def backtest_points(as_of: pd.Timestamp) -> list[pd.Timestamp]:
    """The past moments forecast from: as_of minus 14, 21, 28, ... days (26 of them), oldest
    first."""
    offsets = [BACKTEST_FIRST_DAYS + BACKTEST_STEP_DAYS * i for i in range(BACKTEST_POINTS)]
    return [as_of - pd.Timedelta(days=d) for d in reversed(offsets)]


def backtest(
    events: pd.DataFrame,
    types_by_item: pd.Series,
    workflow: Workflow,
    as_of: pd.Timestamp,
    window_days: int = DEFAULT_WINDOW_DAYS,
    types: Sequence[str] = (),
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """At each of `backtest_points`, the 85% "how many in the next 14 days" forecast from the
    data known then (throughput of the window ending that day), against the items actually
    delivered in those 14 days, as known at their end.

    Columns `as_of` (the point's local day), `forecast_85` (Int64), `actual` (Int64), `hit`
    (boolean: actual >= forecast). A point whose window holds no delivery (before the data,
    or a stop) has no forecast: `forecast_85` and `hit` are missing and it does not count.
    """
    check_trials(trials)
    tz = workflow.timezone
    points = backtest_points(as_of)
    facts = pd.DataFrame({"type": types_by_item.astype(str)})
    facts.index.name = "item_id"
    # Sorted once here, every rebuilt past state below sorts already sorted rows.
    events = events[events["event"].eq("status")].sort_values(
        ["item_id", "changed_at", "seq"], kind="stable"
    )
    memo: dict[pd.Timestamp, pd.Series] = {}

    def done_known_at(moment: pd.Timestamp) -> pd.Series:
        # A point's horizon ends at the point two weeks later: compute each moment once.
        if moment not in memo:
            memo[moment] = _typed_done(events, workflow, moment, facts, types)
        return memo[moment]

    rows = []
    for point in points:
        day = local_day(point, tz)
        known = done_known_at(point)
        first, last = window_days_range(point, tz, window_days)
        sample = daily_throughput(known, tz, first, last)
        horizon_end = point + pd.Timedelta(days=BACKTEST_HORIZON_DAYS)
        later = done_known_at(horizon_end)
        actual = daily_throughput(
            later, tz, day + pd.Timedelta(days=1), day + pd.Timedelta(days=BACKTEST_HORIZON_DAYS)
        ).sum()
        forecast = pd.NA
        if sample.sum() > 0:
            outcomes = how_many_trials(sample, BACKTEST_HORIZON_DAYS, trials, seed)
            forecast = int(how_many_answers(outcomes, [BACKTEST_CONFIDENCE]).iloc[0])
        rows.append((day, forecast, int(actual)))
    table = pd.DataFrame(rows, columns=["as_of", "forecast_85", "actual"])
    table["forecast_85"] = table["forecast_85"].astype("Int64")
    table["actual"] = table["actual"].astype("Int64")
    table["hit"] = (table["actual"] >= table["forecast_85"]).astype("boolean")
    return table


def _typed_done(
    events: pd.DataFrame,
    workflow: Workflow,
    moment: pd.Timestamp,
    facts: pd.DataFrame,
    types: Sequence[str],
) -> pd.Series:
    """done_at as known at `moment`, of the items of `types` (all when empty)."""
    done = done_times(stage_intervals(events, workflow, moment), workflow)
    if not types:
        return done
    chosen = select_types(facts, types).index
    return done[done.index.isin(chosen)]


def hit_rate(table: pd.DataFrame) -> tuple[int, int]:
    """(hits, points with a forecast) of a `backtest` table."""
    scored = table["hit"].dropna()
    return int(scored.sum()), int(len(scored))


# --- the answers as one table and as sentences -------------------------------------------------


def answers_table(
    how_many: dict[pd.Timestamp, pd.Series] | None = None,
    when: dict[int, pd.DataFrame] | None = None,
    features: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The `--csv` layout: `question` (`how_many_by:YYYY-MM-DD`, `when:N`, `feature:NAME`),
    `confidence`, `value` (str: an integer, a date `YYYY-MM-DD`, or `beyond`). Nothing -> an
    empty frame with those columns."""
    rows: list[tuple[str, int, str]] = []
    for by, answers in (how_many or {}).items():
        rows += [(f"how_many_by:{by:%Y-%m-%d}", int(c), str(int(v))) for c, v in answers.items()]
    for n, answers in (when or {}).items():
        rows += [(f"when:{n}", int(c), _date_text(d)) for c, d in answers["date"].items()]
    if features is not None:
        for _, row in features.iterrows():
            name = f"feature:{row['feature']}"
            rows += [(name, c, _date_text(row[f"p{c}"])) for c in CONFIDENCES]
    return pd.DataFrame(rows, columns=ANSWER_COLUMNS)


def _date_text(day: pd.Timestamp) -> str:
    return "beyond" if pd.isna(day) else f"{day:%Y-%m-%d}"


def spoken_date(day: pd.Timestamp | dt.date, as_of_day: pd.Timestamp | None = None) -> str:
    """`12 March`, with the year when it is not as_of's year (or no as_of is given)."""
    day = pd.Timestamp(day)
    text = f"{day.day} {day:%B}"
    return text if as_of_day is not None and day.year == as_of_day.year else f"{text} {day.year}"


def how_many_sentence(
    answers: pd.Series, by: pd.Timestamp, as_of_day: pd.Timestamp, confidence: int = 85
) -> str:
    if days_until(as_of_day, by) <= 0:
        return (
            f"{spoken_date(by, as_of_day)} is not after the as-of day "
            f"({spoken_date(as_of_day, as_of_day)}): no more items can be delivered by then."
        )
    n = int(answers.loc[confidence])
    return f"{confidence}% chance of {n} or more items by {spoken_date(by, as_of_day)}."


def when_sentence(
    answers: pd.DataFrame, n: int, as_of_day: pd.Timestamp, confidence: int = 85
) -> str:
    if n == 0:
        return "Nothing left to do: 0 items are done already."
    items = "1 item" if n == 1 else f"{n} items"
    day = answers.loc[confidence, "date"]
    if pd.isna(day):
        return (
            f"Less than {confidence}% chance that {items} are done within "
            f"{HORIZON_CAP_DAYS:,} days: the answer is beyond."
        )
    return f"{confidence}% chance that {items} are done by {spoken_date(day, as_of_day)}."


def feature_sentence(row: pd.Series, as_of_day: pd.Timestamp, confidence: int = 85) -> str:
    day = row[f"p{confidence}"]
    if pd.isna(day):
        return (
            f"Less than {confidence}% chance that {row['feature']} is done within "
            f"{HORIZON_CAP_DAYS:,} days."
        )
    return f"{confidence}% chance that {row['feature']} is done by {spoken_date(day, as_of_day)}."


def backtest_sentence(table: pd.DataFrame) -> str:
    hits, scored = hit_rate(table)
    if scored == 0:
        return "No backtest point had any delivery in its window: nothing to check yet."
    return f"Our {BACKTEST_CONFIDENCE}% forecasts came true {hits} of {scored} times."


def unstable_warning(hits: int, scored: int) -> str:
    """What a hit rate below `CALIBRATED_HIT_RATE` means, in words."""
    return (
        f"Only {hits} of {scored} past 85% forecasts came true (below 70%): throughput has not "
        "been stable enough for this forecast to be trusted. Delivery changed between the "
        "history sampled and the weeks that followed (a change of team, WIP or batch size, "
        "holidays, a board redesign); forecast from a shorter window that matches how the "
        "team works now, and stabilise the flow first."
    )
