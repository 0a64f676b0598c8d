"""Spec section 5 (forecasts) on hand-computed cases, exact distributions and properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binom

from metrics import forecast as fc
from metrics.days import end_of_day
from metrics.errors import InputError
from metrics.export_tables import items_table
from metrics.report import flow_report
from tests.flowbuild import flow, workflow

DAY = pd.Timestamp("2024-06-10")
AS_OF = end_of_day("2024-06-10", "UTC")


def sample_of(*values: int) -> pd.Series:
    index = pd.date_range(end=DAY, periods=len(values), freq="D", name="date")
    return pd.Series(values, index=index, name="throughput")


def delivered_daily(first: str, last: str, skip: tuple[str, ...] = ()) -> list[tuple]:
    """One item started and delivered on each day from `first` to `last` (but `skip`)."""
    rows = []
    for day in pd.date_range(first, last, freq="D"):
        if f"{day:%Y-%m-%d}" in skip:
            continue
        item = f"I{day:%m%d}"
        rows += [(item, f"{day:%Y-%m-%d} 09:00", "Dev"), (item, f"{day:%Y-%m-%d} 15:00", "Done")]
    return rows


# --- the sample -------------------------------------------------------------------------------


def test_sample_is_the_window_ending_with_the_as_of_day_with_zero_days_and_types():
    data = flow(
        ("A", "2024-06-01 09:00", "Dev"),
        ("A", "2024-06-08 10:00", "Done"),
        ("B", "2024-06-02 09:00", "Dev"),
        ("B", "2024-06-10 23:00", "Done"),  # the as-of day itself counts
        ("C", "2024-06-02 09:00", "Dev"),
        ("C", "2024-06-10 12:00", "Done"),
        ("D", "2024-06-02 09:00", "Dev"),
        ("D", "2024-06-03 12:00", "Done"),  # outside a 5-day window
        items=[
            {"item_id": "A", "type": "Bug"},
            {"item_id": "B", "type": "Story"},
            {"item_id": "C", "type": "bug "},
            {"item_id": "D", "type": "Bug"},
        ],
    )
    facts = flow_report(data, workflow(), AS_OF).items
    sample = fc.throughput_sample(facts, "UTC", AS_OF, window_days=5)
    assert sample.index[0] == pd.Timestamp("2024-06-06") and sample.index[-1] == DAY
    assert sample.tolist() == [0, 0, 1, 0, 2]
    bugs = fc.throughput_sample(facts, "UTC", AS_OF, window_days=5, types=["BUG"])
    assert bugs.tolist() == [0, 0, 1, 0, 1]
    with pytest.raises(InputError, match="--type 'Epic': no item has this type.*Bug, Story"):
        fc.throughput_sample(facts, "UTC", AS_OF, window_days=5, types=["Epic"])
    with pytest.raises(
        InputError, match="no item of type Story was delivered in the 1 days.*widen"
    ):
        fc.throughput_sample(facts, "UTC", end_of_day("2024-06-09", "UTC"), 1, types=["Story"])
    with pytest.raises(InputError, match="--window-days 0"):
        fc.throughput_sample(facts, "UTC", AS_OF, window_days=0)


# --- constant throughput: every answer is exact -----------------------------------------------


def test_constant_throughput_answers_are_exact():
    sample = sample_of(*[2] * 30)
    by = DAY + pd.Timedelta(days=10)
    assert fc.how_many_by(sample, DAY, by, trials=500).tolist() == [20, 20, 20, 20]
    when = fc.when_done(sample, DAY, 7, trials=500)  # 2 a day: the 7th item on day 4
    assert when["days"].tolist() == [4, 4, 4, 4]
    assert (when["date"] == pd.Timestamp("2024-06-14")).all()
    features = pd.DataFrame({"feature": ["Login", "Search", "Empty"], "remaining": [3, 4, 0]})
    table = fc.features_forecast(sample, DAY, features, trials=500)
    assert table["cumulative"].tolist() == [3, 7, 7]
    assert (table["p50"] == table["p95"]).all()
    assert [f"{d:%Y-%m-%d}" for d in table["p85"]] == ["2024-06-12", "2024-06-14", "2024-06-14"]


def test_degenerate_questions_are_answers():
    sample = sample_of(1, 0, 3)
    assert fc.how_many_by(sample, DAY, DAY, trials=100).tolist() == [0, 0, 0, 0]
    assert fc.how_many_by(sample, DAY, DAY - pd.Timedelta(days=3), trials=100).tolist() == [0] * 4
    assert "not after the as-of day" in fc.how_many_sentence(
        fc.how_many_by(sample, DAY, DAY, trials=100), DAY, DAY
    )
    nothing = fc.when_done(sample, DAY, 0, trials=100)
    assert (nothing["date"] == DAY).all() and (nothing["days"] == 0).all()
    assert fc.when_sentence(nothing, 0, DAY).startswith("Nothing left to do")
    with pytest.raises(InputError, match="--when -1"):
        fc.when_done(sample, DAY, -1)
    with pytest.raises(InputError, match="--trials 0"):
        fc.how_many_trials(sample, 5, trials=0)


def test_a_trial_not_finished_within_ten_years_makes_the_answer_beyond():
    # One item in 90 days: 100 items need ~9,000 days, far past the 3,650-day cap.
    sample = sample_of(1, *[0] * 89)
    when = fc.when_done(sample, DAY, 100, trials=200)
    assert when["date"].isna().all() and when["days"].isna().all()
    assert "beyond" in fc.when_sentence(when, 100, DAY)
    table = fc.answers_table(when={100: when})
    assert table["value"].tolist() == ["beyond"] * 4


# --- two-valued throughput against the exact binomial distribution ----------------------------

TRIALS = 20_000


def _sampling_margin(p: float) -> float:
    return 4 * math.sqrt(p * (1 - p) / TRIALS) + 1e-9


@pytest.mark.parametrize("share", [0.3, 0.5])
def test_how_many_matches_the_binomial(share):
    ones = int(share * 10)
    sample = sample_of(*([1] * ones + [0] * (10 - ones)))
    days = 40
    outcomes = fc.how_many_trials(sample, days, trials=TRIALS, seed=3)
    answers = fc.how_many_answers(outcomes)
    for c, n in answers.items():
        exact = max(k for k in range(days + 1) if binom.sf(k - 1, days, share) >= c / 100)
        assert abs(n - exact) <= 1, (c, n, exact)
        # The simulated share of trials with >= exact items is the binomial tail, within error.
        tail = binom.sf(exact - 1, days, share)
        assert abs((outcomes >= exact).mean() - tail) <= _sampling_margin(tail)


def test_when_matches_the_negative_binomial():
    sample = sample_of(1, 0, 1, 0)  # p = 1/2 a day
    n = 12
    finish = fc.finish_day_trials(sample, [n], trials=TRIALS, seed=5)[0]
    answers = fc.finish_answers(finish, DAY)
    for c, days in answers["days"].items():
        # Done by day k exactly when Binomial(k, 1/2) >= n.
        exact = next(k for k in range(n, 400) if binom.sf(n - 1, k, 0.5) >= c / 100)
        assert abs(days - exact) <= 1, (c, days, exact)
        done_by = binom.sf(n - 1, exact, 0.5)
        assert abs((finish <= exact).mean() - done_by) <= _sampling_margin(done_by)


def test_features_finish_in_priority_order_at_the_cumulative_goal():
    sample = sample_of(0, 1, 2, 5)
    features = pd.DataFrame({"Feature": ["A", "B", "C"], "Remaining": [4, "6", 10]})
    table = fc.features_forecast(sample, DAY, features, trials=3000, seed=1)
    single = fc.when_done(sample, DAY, 10, trials=3000, seed=1)
    # Feature B is done when 4 + 6 items are: the same trials as "when will 10 be done".
    assert [table.loc[1, f"p{c}"] for c in fc.CONFIDENCES] == single["date"].tolist()
    for c in fc.CONFIDENCES:
        assert table.loc[0, f"p{c}"] <= table.loc[1, f"p{c}"] <= table.loc[2, f"p{c}"]
    sentence = fc.feature_sentence(table.loc[2], DAY)
    assert sentence.startswith("85% chance that C is done by ")
    csv = fc.answers_table(features=table)
    assert csv["question"].unique().tolist() == ["feature:A", "feature:B", "feature:C"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"feature": ["A"]}, "missing column 'remaining'"),
        ({"feature": ["A", ""], "remaining": [1, 2]}, "row 2: empty feature name"),
        ({"feature": ["A", "B"], "remaining": [1, -2]}, r"row 2 \(B\): remaining -2"),
        ({"feature": ["A"], "remaining": ["x"]}, "row 1 .A.: remaining 'x'"),
        ({"feature": ["A"], "remaining": [1.5]}, "remaining 1.5 is not a whole number"),
    ],
)
def test_bad_feature_tables_name_the_row(rows, message):
    with pytest.raises(InputError, match=message):
        fc.read_features(pd.DataFrame(rows), "plan.csv")


# --- seeds and properties ---------------------------------------------------------------------


def test_the_same_seed_gives_the_same_forecast_and_another_seed_may_differ():
    sample = sample_of(0, 1, 4, 2, 0, 0, 7)
    first = fc.how_many_trials(sample, 60, trials=2000, seed=11)
    again = fc.how_many_trials(sample, 60, trials=2000, seed=11)
    other = fc.how_many_trials(sample, 60, trials=2000, seed=12)
    assert first.equals(again)
    assert not first.equals(other)


def test_block_memory_stays_bounded_even_at_the_trial_limit():
    for trials in (1, 10_000, fc.MAX_TRIALS):
        width = fc._block_width(trials)
        assert 1 <= width <= fc.MAX_BLOCK_DAYS
        # A chunk of draws and its running sums: two arrays of 8-byte numbers.
        chunk = fc._chunk_limit(trials)
        assert width <= chunk <= fc.MAX_CHUNK_DAYS
        assert 2 * trials * chunk * 8 <= fc.BLOCK_BYTES


samples = st.lists(st.integers(0, 6), min_size=1, max_size=30).filter(lambda v: sum(v) > 0)


@given(values=samples, days=st.integers(0, 200), more=st.integers(1, 100), seed=st.integers(0, 9))
def test_more_days_never_forecast_fewer_items(values, days, more, seed):
    sample = sample_of(*values)
    short = fc.how_many_answers(fc.how_many_trials(sample, days, trials=300, seed=seed))
    long = fc.how_many_answers(fc.how_many_trials(sample, days + more, trials=300, seed=seed))
    assert (long >= short).all()


@given(values=samples, n=st.integers(0, 300), more=st.integers(1, 200), seed=st.integers(0, 9))
def test_a_larger_n_is_never_sooner(values, n, more, seed):
    sample = sample_of(*values)
    finish = fc.finish_day_trials(sample, [n, n + more], trials=300, seed=seed)
    fewer = fc.finish_answers(finish[0], DAY)["days"].fillna(np.inf)
    larger = fc.finish_answers(finish[1], DAY)["days"].fillna(np.inf)
    assert (larger >= fewer).all()
    alone = fc.finish_answers(fc.finish_day_trials(sample, [n + more], 300, seed)[0], DAY)
    assert alone["days"].fillna(np.inf).equals(larger)


# --- per item in progress ---------------------------------------------------------------------


def test_likely_done_by_85_by_hand():
    cycle_times = pd.Series([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    ages = pd.Series([5, 1, 11, None], index=["a", "b", "c", "d"], dtype="Int64")
    started = pd.Series(pd.to_datetime(["2024-06-06", "2024-06-10", "2024-05-31", None]))
    started.index = ages.index
    dates = fc.likely_done_by(ages, started, cycle_times)
    # a: 6 references are >= 5 days; 85% of 6 is 5.1 -> all 6, t = 10 -> 6 June + 9 days.
    assert dates["a"] == pd.Timestamp("2024-06-15")
    # b: all 10 references; 8.5 -> 9 of them, t = 9 -> 10 June + 8 days.
    assert dates["b"] == pd.Timestamp("2024-06-18")
    # c: older than anything delivered; d: not in progress.
    assert pd.isna(dates["c"]) and pd.isna(dates["d"])
    assert fc.likely_done_by(ages, started, pd.Series([], dtype="Int64")).isna().all()


def test_items_csv_gains_likely_done_by_85_as_its_last_column():
    rows = [
        ("D1", "2024-06-01 09:00", "Dev"),
        ("D1", "2024-06-02 09:00", "Done"),  # 2 days
        ("D2", "2024-06-01 09:00", "Dev"),
        ("D2", "2024-06-04 09:00", "Done"),  # 4 days
        ("W", "2024-06-08 09:00", "Dev"),  # age 3 on 10 June
        ("X", "2024-06-01 09:00", "Dev"),  # age 10: older than anything delivered
    ]
    report = flow_report(flow(*rows), workflow(), AS_OF)
    table = items_table(report).set_index("item_id")
    assert table.columns[-1] == "likely_done_by_85"
    # W: the one reference >= 3 days is 4 days -> 8 June + 3 = 11 June.
    assert table.loc["W", "likely_done_by_85"] == "2024-06-11"
    assert table.loc["X", "likely_done_by_85"] == ""
    assert table.loc["D1", "likely_done_by_85"] == ""


# --- backtest ---------------------------------------------------------------------------------


def test_backtest_on_a_built_history():
    as_of = end_of_day("2024-06-30", "UTC")
    # One item a day from 1 January, none in the last 4 days of June.
    rows = delivered_daily(
        "2024-01-01", "2024-06-30", skip=("2024-06-27", "2024-06-28", "2024-06-29", "2024-06-30")
    )
    data = flow(*rows)
    types = pd.Series("", index=data.items["item_id"])
    table = fc.backtest(data.events, types, workflow(), as_of, window_days=28, trials=200)
    assert table.columns.tolist() == fc.BACKTEST_COLUMNS
    assert len(table) == 26
    assert table["as_of"].iloc[-1] == pd.Timestamp("2024-06-16")
    assert table["as_of"].iloc[0] == pd.Timestamp("2023-12-24")
    # Before 1 January nothing was known: no forecast, not scored.
    assert table.loc[table["as_of"] < "2024-01-01", "forecast_85"].isna().all()
    assert table.loc[table["as_of"] < "2024-01-01", "hit"].isna().all()
    # A full 28-day window of one a day forecasts exactly 14 for the next 14 days.
    full = table[table["as_of"] >= "2024-01-28"]
    assert (full["forecast_85"] == 14).all()
    assert (full["actual"].iloc[:-1] == 14).all() and full["actual"].iloc[-1] == 10
    assert full["hit"].iloc[:-1].all() and not full["hit"].iloc[-1]
    hits, scored = fc.hit_rate(table)
    assert scored == 24 and hits == 23
    assert fc.backtest_sentence(table) == "Our 85% forecasts came true 23 of 24 times."


def test_backtest_uses_what_was_known_at_each_point():
    as_of = end_of_day("2024-06-30", "UTC")
    rows = delivered_daily("2024-01-01", "2024-06-30")
    # R was delivered on 15 June and reopened on 20 June: at the 16 June point it counted.
    rows += [
        ("R", "2024-06-14 09:00", "Dev"),
        ("R", "2024-06-15 09:00", "Done"),
        ("R", "2024-06-20 09:00", "Dev"),
    ]
    data = flow(*rows)
    types = pd.Series("", index=data.items["item_id"])
    table = fc.backtest(data.events, types, workflow(), as_of, window_days=7, trials=5000)
    points = table.set_index("as_of")
    # The 10..16 June window, as known on 16 June, holds R: six days of 1 and one of 2. The
    # sum of 14 draws is 14 + Binomial(14, 1/7), which is >= 15 in 88.5% of trials.
    assert points.loc[pd.Timestamp("2024-06-16"), "forecast_85"] == 15
    assert points.loc[pd.Timestamp("2024-06-09"), "forecast_85"] == 14
    # 3..16 June as known on 16 June: 14 daily items and R; 10..23 June as known on the
    # 23rd: R had been reopened, so 14.
    assert points.loc[pd.Timestamp("2024-06-02"), "actual"] == 15
    assert points.loc[pd.Timestamp("2024-06-09"), "actual"] == 14


def test_how_many_and_when_describe_the_same_simulated_futures():
    sample = sample_of(0, 1, 3, 0, 2, 5, 0)
    totals = fc.how_many_trials(sample, 40, trials=400, seed=9)
    finish = fc.finish_day_trials(sample, [60], trials=400, seed=9)[0]
    # A trial has 60 items by day 40 exactly when its 60th item came on day 40 or before.
    assert ((finish <= 40) == (totals >= 60)).all()
    assert 0 < (totals >= 60).sum() < 400  # both outcomes occur: the check can fail
