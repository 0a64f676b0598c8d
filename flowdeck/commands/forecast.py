"""`flowdeck forecast`: Monte Carlo answers to "how many by", "when", features and the backtest
(spec section 5)."""

from __future__ import annotations

from pathlib import Path

import click

from flowdeck.inputs import input_options, load_inputs, parse_day
from metrics.errors import FlowdeckError, InputError

QUESTION_FLAGS = "--how-many-by DATE, --when N, --features FILE.csv or --backtest"


def _table(rows: list[tuple[str, list[str]]], confidences: tuple[int, ...]) -> list[str]:
    """Rows of a question label and one text per confidence, aligned in columns."""
    label_width = max(len(label) for label, _ in rows)
    cell_width = max(10, *(len(v) for _, values in rows for v in values))
    header = " " * label_width + "".join(f"  {f'{c}%':>{cell_width}}" for c in confidences)
    lines = [header]
    for label, values in rows:
        lines.append(f"{label:<{label_width}}" + "".join(f"  {v:>{cell_width}}" for v in values))
    return lines


def whole_number(value: str | int | None, flag: str, minimum: int) -> int | None:
    """A flag's whole number (click's own type errors span several lines: this is one)."""
    if value is None:
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        number = None
    if number is None or number < minimum:
        raise InputError(f"{flag} {value!r}: expected a whole number >= {minimum}")
    return number


def _day_text(day) -> str:
    import pandas as pd

    return "beyond" if pd.isna(day) else f"{day:%Y-%m-%d}"


# metrics.forecast's defaults, repeated so that building the CLI (`flowdeck --help`) does not
# import metrics.forecast (pandas); tests/test_cli_imports.py checks that they agree.
DEFAULT_SEED = 0
DEFAULT_TRIALS = 10_000
DEFAULT_WINDOW_DAYS = 90


def register(main: click.Group, init: click.Group) -> None:
    @main.command("forecast")
    @input_options
    @click.option(
        "--how-many-by",
        "how_many_by",
        metavar="YYYY-MM-DD",
        help="How many items will be done by the end of this local day?",
    )
    @click.option(
        "--when",
        "when",
        metavar="N",
        help="When will N more items be done?",
    )
    @click.option(
        "--features",
        "features",
        type=click.Path(dir_okay=False),
        metavar="FILE.csv",
        help="Features in priority order: a CSV with columns feature, remaining.",
    )
    @click.option(
        "--backtest",
        is_flag=True,
        help="Check the 85% forecasts of the last 26 weeks against what happened.",
    )
    @click.option(
        "--window-days",
        "window_days",
        metavar="W",
        default=str(DEFAULT_WINDOW_DAYS),
        show_default=True,
        help="Days of throughput history to sample, ending with the as-of day.",
    )
    @click.option(
        "--type",
        "types",
        multiple=True,
        metavar="TYPE",
        help="Count only items of this type (repeatable).",
    )
    @click.option(
        "--trials",
        metavar="T",
        default=str(DEFAULT_TRIALS),
        show_default=True,
        help="Number of simulated futures.",
    )
    @click.option(
        "--seed",
        metavar="S",
        default=str(DEFAULT_SEED),
        show_default=True,
        help="Random seed: the same data and flags give the same forecast.",
    )
    @click.option(
        "--csv",
        "csv_path",
        type=click.Path(dir_okay=False),
        metavar="FILE",
        help="Also write the answers (or, with --backtest, the backtest) as CSV.",
    )
    def forecast(how_many_by, when, features, backtest, window_days, types, trials, seed,
                 csv_path, **inputs):  # fmt: skip
        """Forecast how many items by a date, when N will be done, and features in order."""
        import pandas as pd

        from connectors.csv_files import read_features_csv, write_csv
        from metrics import forecast as fc
        from metrics.days import local_day
        from metrics.report import flow_report

        by = parse_day(how_many_by, "--how-many-by")
        when = whole_number(when, "--when", 0)
        window_days = whole_number(window_days, "--window-days", 1)
        trials = whole_number(trials, "--trials", 1)
        seed = whole_number(seed, "--seed", 0)
        if by is None and when is None and features is None and not backtest:
            raise InputError(f"nothing to forecast: ask with {QUESTION_FLAGS}")
        fc.check_trials(trials)
        plan = read_features_csv(features) if features else None
        loaded = load_inputs(**inputs)
        workflow, moment = loaded.config.workflow, loaded.as_of
        tz = workflow.timezone
        day = local_day(moment, tz)
        report = flow_report(loaded.data, workflow, moment)
        sample = fc.throughput_sample(report.items, tz, moment, window_days, types)

        rows: list[tuple[str, list[str]]] = []
        sentences: list[str] = []
        many = {}
        if by is not None:
            answers = fc.how_many_by(sample, day, by, trials, seed)
            many[by] = answers
            rows.append((f"how many by {by:%Y-%m-%d}", [str(int(v)) for v in answers]))
            sentences.append(fc.how_many_sentence(answers, by, day))
        finish = {}
        if when is not None:
            answers = fc.when_done(sample, day, when, trials, seed)
            finish[when] = answers
            rows.append((f"when {when} done", [_day_text(d) for d in answers["date"]]))
            sentences.append(fc.when_sentence(answers, when, day))
        table = None
        if plan is not None:
            table = fc.features_forecast(sample, day, plan, trials, seed)
            for _, row in table.iterrows():
                label = f"{row['feature']} (+{row['remaining']})"
                rows.append((label, [_day_text(row[f"p{c}"]) for c in fc.CONFIDENCES]))
                sentences.append(fc.feature_sentence(row, day))
        tested = None
        if backtest:
            tested = fc.backtest(
                loaded.data.events, report.items["type"], workflow, moment, window_days,
                types, trials, seed,
            )  # fmt: skip

        out = fc.answers_table(many, finish, table)
        if tested is not None:
            out = tested.assign(
                as_of=tested["as_of"].dt.strftime("%Y-%m-%d"),
                hit=tested["hit"].map({True: "yes", False: "no"}).fillna(""),
            )
        if csv_path:
            try:
                write_csv(out, Path(csv_path))
            except OSError as exc:
                raise FlowdeckError(f"cannot write {csv_path}: {exc.strerror or exc}") from None

        kinds = f", types {', '.join(types)}" if types else ""
        click.echo(
            f"As of {day:%Y-%m-%d}: {int(sample.sum())} items delivered in the {window_days} "
            f"days from {sample.index[0]:%Y-%m-%d}{kinds}; {trials:,} trials, seed {seed}"
        )
        if rows:
            for line in _table(rows, fc.CONFIDENCES):
                click.echo(line)
        for sentence in sentences:
            click.echo(sentence)
        if tested is not None:
            for _, point in tested.iterrows():
                forecast_text = "-" if pd.isna(point["forecast_85"]) else point["forecast_85"]
                verdict = {True: "hit", False: "miss"}.get(point["hit"], "no forecast")
                click.echo(
                    f"  {point['as_of']:%Y-%m-%d}  forecast {forecast_text:>4}  "
                    f"actual {point['actual']:>4}  {verdict}"
                )
            click.echo(fc.backtest_sentence(tested))
            hits, scored = fc.hit_rate(tested)
            if scored and hits / scored < fc.CALIBRATED_HIT_RATE:
                click.echo(fc.unstable_warning(hits, scored))
        if csv_path:
            click.echo(f"Wrote {csv_path}")
