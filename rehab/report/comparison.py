"""The protocol-comparison report: the sections its template shows, and the renderer.

``rehab compare --participant ID`` or ``--cohort`` runs ``notebooks/templates/compare-report.ipynb``
with papermill (parameters checked, a failing cell named: :func:`rehab.report.kernels.execute_template`)
and writes one self-contained HTML page per outcome, ``reports/compare/<participant>-<outcome>.html``
or ``reports/compare/cohort-<outcome>.html``, with :func:`rehab.report.page.export_html` (charts as inline SVG, no
scripts, no network: :func:`rehab.report.page.offline_problems` refuses the page otherwise). The
template is a column of short cells, each calling one method of :class:`CompareReport` that
returns a :class:`rehab.report.page.Section` (HTML for the report, text elsewhere). Every
piece of text from the data is HTML-escaped here.

:func:`month_change_html` draws :class:`rehab.compare.MonthPhaseChange` for the monthly report.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

import rehab
from rehab import plots
from rehab.compare import (
    CAVEAT_COHORT,
    KEY_MEASURES,
    MEASURE_TEXT,
    PAIN,
    CohortComparison,
    ComparisonError,
    MonthPhaseChange,
    PhaseComparison,
    cohort_comparison,
    comparison_problems,
    delay_text,
    demo_recovery,
    phase_comparison,
)
from rehab.paths import ProjectPaths, atomic_write_text, check_participant, inside
from rehab.report import ReportError
from rehab.report.files import data_folder
from rehab.report.kernels import template_path as report_template_path
from rehab.report.page import DEMO_BANNER, DISCLAIMER, Section, esc, figure, para, section, table
from rehab.schema import TEST_IDS

TEMPLATE_NAME = "compare-report.ipynb"
COHORT = "cohort"  # file name of the cohort report
SHOWN_MEASURES = ("NAP", "Tau", "Tau_BC", "SMD_pooled", "PND")
PIECEWISE_TERMS = {
    "intercept": "level of phase A at week 0",
    "time": "slope of phase A (per week)",
}

__all__ = [
    "COHORT",
    "CompareReport",
    "RenderedComparison",
    "month_change_html",
    "render_comparison",
]


# --- small HTML pieces ---------------------------------------------------------------------------


def _g(x: float | None, digits: int = 3) -> str:
    """A number with ``digits`` significant digits, or an en dash when missing (None or NaN)."""
    if x is None or x != x:
        return "–"
    return f"{x:.{digits}g}".replace("-", "−")


def _ci(lo: float | None, hi: float | None, digits: int = 3) -> str:
    return "–" if lo is None or hi is None else f"{_g(lo, digits)} to {_g(hi, digits)}"


def _p_text(p: float | None) -> str:
    if p is None or p != p:
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """:func:`rehab.report.page.table` of plain-text cells (escaped here)."""
    return table(list(headers), [[esc(c) for c in r] for r in rows])


def _titled(name: str, title: str | None, parts: list[str], text: list[str]) -> Section:
    """:func:`rehab.report.page.section` under an ``<h2>`` title (none when ``title`` is None)."""
    head = [f"<h2>{esc(title)}</h2>"] if title else []
    return section(name, head + parts, ([title] if title else []) + text)


def _bullets(items: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"


def _day(d) -> str:
    return f"{d.day} {d:%b %Y}"


def _outcome_text(outcome: str, moment: str = "morning") -> str:
    if outcome == PAIN:
        which = "all diary entries" if moment == "all" else f"{moment} pain"
        return (
            f"weekly means of {which} (NRS 0–10, lower is better; weeks counted from each "
            "phase's start, with at least 3 diary days)"
        )
    return f"{plots.test_label(outcome)} (each test day's best attempt; higher is better)"


def _f2(x: float | None) -> str:
    """An effect size: two decimals, or an en dash when missing (None or NaN)."""
    return "–" if x is None or x != x else f"{x:.2f}".replace("-", "−")


def _ci2(lo: float | None, hi: float | None) -> str:
    return "–" if lo is None or hi is None else f"{_f2(lo)} to {_f2(hi)}"


def _difference_rows(diff: pl.DataFrame) -> list[list[str]]:
    """Table rows of a cohort contrast (protocol − reference, estimate, interval, p)."""
    return [[f"{r['protocol']} − {r['reference']}", _g(r["estimate"]),
             _ci(r["ci_low"], r["ci_high"]), _p_text(r["p_value"])]
            for r in diff.iter_rows(named=True)]


def _effect_rows(es: pl.DataFrame, measures: Sequence[str]) -> tuple[list[list[str]], list[str]]:
    """Table rows (comparison, measure, estimate, CI, meaning with a note mark) and the notes,
    each once, numbered by their marks: one long note repeated on every row would crowd the
    table."""
    rows, notes = [], []
    for r in es.filter(pl.col("measure").is_in(list(measures))).iter_rows(named=True):
        mark = ""
        if r["note"]:
            if r["note"] not in notes:
                notes.append(r["note"])
            mark = f" (note {notes.index(r['note']) + 1})"
        rows.append(
            [
                r["comparison"],
                r["measure"],
                _f2(r["estimate"]),
                _ci2(r["ci_low"], r["ci_high"]),
                MEASURE_TEXT.get(r["measure"], "") + mark,
            ]
        )
    return rows, [f"Note {i}: {n}" for i, n in enumerate(notes, 1)]


# --- the monthly report's phase-change section ---------------------------------------------------


def month_change_html(summary: MonthPhaseChange, protocols=None) -> str:
    """HTML of :class:`rehab.compare.MonthPhaseChange` for the monthly report (protocols named
    by their short names from the project's ``protocols``, not their ids)."""
    parts = ["<h2>Phase change this month</h2>"]
    ids = [x for c in summary.changes for x in c[1:3]]
    names = _protocol_names(None, ids, protocols) if protocols is not None else {}
    for d, a, b, pa, pb in summary.changes:
        a, b = names.get(a, a), names.get(b, b)
        parts.append(
            para(
                esc(
                    f"On {_day(d)} the protocol changed from {a} (phase {pa}) to {b} "
                    f"(phase {pb}). A first look at phase A against phase B, with the data "
                    "up to the end of this month:"
                ),
                "lead",
            )
        )
    rows = []
    for c in summary.comparisons.values():
        ph = {r["name"]: r for r in c.phases.iter_rows(named=True)}
        es = {(r["comparison"], r["measure"]): r for r in c.effect_sizes.iter_rows(named=True)}
        first = c.effect_sizes["comparison"][0] if c.effect_sizes.height else None
        nap = es.get((first, "NAP"))
        level = None
        if c.piecewise is not None:
            level = c.piecewise.tidy.filter(pl.col("term") == "level_change_1").row(0, named=True)
        rows.append(
            [
                c.label,
                "; ".join(f"{n}: {r['n']} pts, mean {_g(r['mean'])}" for n, r in ph.items()),
                "–"
                if nap is None
                else f"{_f2(nap['estimate'])} ({_ci2(nap['ci_low'], nap['ci_high'])})",
                "–"
                if level is None
                else f"{_g(level['estimate'])} ({_ci(level['ci_low'], level['ci_high'])})",
                "–" if c.randomization is None else _p_text(c.randomization.p_value),
            ]
        )
    if rows:
        parts.append(
            _table(
                [
                    "outcome",
                    "phases so far",
                    "NAP (95% CI)",
                    "level change at the switch (95% CI)",
                    "randomization p",
                ],
                rows,
            )
        )
        parts.append(
            para(
                esc(
                    "NAP is the share of A–B pairs of points in which B is better (0.5 = no "
                    "difference). The level change is the jump at the switch in a piecewise "
                    "regression (Huitema & McKean 2000). Empty cells: too few points yet."
                ),
                "note",
            )
        )
    for o, why in summary.unavailable.items():
        parts.append(para(esc(f"{o}: no comparison yet — {why}."), "note"))
    parts.append("<h3>Read with care</h3>")
    parts.append(_bullets(summary.caveats))
    return f'<div class="section" data-section="phase-change">{"".join(parts)}</div>'


# --- the comparison report -----------------------------------------------------------------------


@dataclass(frozen=True)
class CompareReport:
    """One comparison report: a participant's phases, or the cohort's variants."""

    participant: str | None
    outcome: str
    is_demo: bool
    source: str
    comparison: PhaseComparison | CohortComparison | None
    problem: str | None
    truth: dict | None
    names: dict[str, str] = field(default_factory=dict)  # protocol id -> short name
    plan_file: str | None = None  # the plan analysed, relative to the project

    @classmethod
    def load(
        cls,
        *,
        participant: str = "",
        cohort: bool = False,
        outcome: str = PAIN,
        project_dir: str = "",
        data_dir: str = "",
    ) -> CompareReport:
        """Read the project's logs (``data_dir`` or the default input folder) and compare; a
        person's plan (``plans/<participant>.toml``, or a multiple baseline's
        ``plans/mb-*.toml`` that holds them) is analysed with them."""
        from rehab.config import load_config
        from rehab.io import load_project

        if bool(participant) == bool(cohort):
            raise ComparisonError("give a participant id or cohort=True (not both, not neither)")
        if participant:
            check_participant(participant)
        paths = (
            ProjectPaths(Path(project_dir).resolve()) if project_dir else ProjectPaths.discover()
        )
        cfg = load_config(paths.config_file)
        ds = load_project(paths.root, source=data_folder(paths, data_dir), aliases=cfg.aliases)
        truth_file = ds.source_dir / "truth.json"
        truth = json.loads(truth_file.read_text(encoding="utf-8")) if truth_file.is_file() else None
        try:
            source = str(ds.source_dir.resolve().relative_to(paths.root))
        except ValueError:
            source = ds.source_dir.name
        problems = comparison_problems(ds, participant=participant or None, outcome=outcome)
        comparison, problem, plan_file = None, None, None
        if problems:
            problem = "; ".join(problems)
        elif participant:
            plan, path = _find_plan(paths, participant)
            if path is not None:
                plan_file = str(path.relative_to(paths.root))
            comparison = phase_comparison(ds, participant, outcome=outcome, plan=plan)
        else:
            comparison = cohort_comparison(ds, outcome=outcome)
        return cls(
            participant=participant or None,
            outcome=outcome,
            is_demo=ds.is_demo or truth is not None,
            source=source,
            comparison=comparison,
            problem=problem,
            truth=truth,
            names=_protocol_names(paths.root, ds.phases["protocol"].unique().to_list()),
            plan_file=plan_file,
        )

    @property
    def _cohort(self) -> CohortComparison | None:
        return self.comparison if isinstance(self.comparison, CohortComparison) else None

    @property
    def _person(self) -> PhaseComparison | None:
        return self.comparison if isinstance(self.comparison, PhaseComparison) else None

    def _unavailable(self, name: str, title: str) -> Section | None:
        if self.comparison is None:
            msg = "Nothing to compare here: " + (self.problem or "no data") + "."
            return _titled(name, title, [para(esc(msg))], [msg])
        c = self._cohort
        if c is not None and not c.usable:
            what = "did not converge" if c.status == "not_converged" else "could not be fitted"
            msg = f"The growth model {what}: {c.message}."
            return _titled(name, title, [para(esc(msg))], [msg])
        return None

    # --- sections --------------------------------------------------------------------------------

    def header(self) -> Section:
        """Title, demo banner, what is compared, and the not-medical-advice line."""
        who = self.participant if self.participant else "across participants"
        title = f"Protocol comparison: {who}"
        parts = [f'<h1 class="title">{esc(title)}</h1>']
        text = [title]
        if self.is_demo:
            parts.append(
                f'<div class="demo" role="note"><strong>DEMO DATA.</strong> '
                f"{esc(DEMO_BANNER)}</div>"
            )
            text.append("DEMO DATA. " + DEMO_BANNER)
        moment = self.comparison.moment if self.comparison is not None else "morning"
        line = f"Outcome: {_outcome_text(self.outcome, moment)}. Data: {self.source}."
        p, c = self._person, self._cohort
        if p is not None:
            phases = "; ".join(
                f"{r['name']} = {self._name(r['protocol'])}, {_day(r['start'])} to "
                f"{_day(r['end'])} ({r['n']} points)"
                for r in p.phases.iter_rows(named=True)
            )
            line += f" Design {p.design}: {phases}."
        elif c is not None:
            counts = c.participants.group_by("protocol").len().sort("protocol")
            line += (
                f" {c.participants.height} participants: "
                + ", ".join(f"{r['protocol']} {r['len']}" for r in counts.iter_rows(named=True))
                + f". Each is compared in their first phase B (their variant) against the "
                f"reference {c.reference}; the phases before it are their lead-in."
            )
        parts += [para(esc(line), "lead"), para(esc(DISCLAIMER), "disclaimer")]
        text += [line, DISCLAIMER]
        return _titled("header", None, parts, text)

    def _name(self, protocol: str) -> str:
        return self.names.get(protocol, protocol)

    def plan(self) -> Section:
        """The plan against what happened: the planned schedule beside the logged phases, each
        deviation named, and what it does to the p-value (a person's page only)."""
        p = self._person
        if self.participant is None:
            return _titled("plan", None, [], [])
        title = "The plan and what happened"
        if p is None or p.plan is None:
            msg = (
                f"No randomized plan was drawn for {self.participant} (rehab plan writes "
                f"plans/{self.participant}.toml): the phase changes were chosen as the weeks "
                "went by, so the randomization test below is retrospective."
            )
            if p is not None:
                msg += "".join(f" {n[0].upper()}{n[1:]}." for n in p.notes if "design-matched" in n)
            return _titled("plan", title, [para(esc(msg))], [msg])
        pa = p.plan
        plan = pa.plan
        design = (
            f"multiple-baseline (AB across {len(plan.participants)} people)"
            if plan.design == "multiple-baseline"
            else plan.design.upper()
        )
        line = (
            f"The plan ({self.plan_file or 'plans/'}): {design} design, "
            f"A = {self._name(plan.protocol_a)}, B = {self._name(plan.protocol_b)}, "
            f"{plan.weeks} weeks from {_day(plan.start)} to {_day(plan.end)}, every phase at "
            f"least {plan.min_phase_weeks} weeks. The schedule was drawn at random (seed "
            f"{plan.seed}) from {plan.n_admissible:,} equally likely ones before the data came in."
        )
        devs = {
            (r["participant"], r["phase"]): r
            for r in pa.deviations.iter_rows(named=True)
            if r["kind"] != "stopped early"
        }
        many = len(plan.participants) > 1
        rows = []
        for seg in plan.segments():
            d = devs.get((seg["participant"], seg["phase"]), {})
            kind = d.get("kind", "")
            status = f"{delay_text(d['days'])} {kind}" if kind in ("late", "early") else kind or "–"
            logged = d.get("logged_start")
            rows.append(
                ([seg["participant"]] if many else [])
                + [
                    seg["phase"],
                    self._name(seg["protocol"]),
                    f"{_day(seg['start'])} – {_day(seg['end'])}",
                    _day(logged) if logged else "not logged",
                    status,
                ]
            )
        sentences = p.plan_text(self.names)
        if pa.p_value is not None:
            sentences.append(
                f"Design-matched p-value: {_p_text(pa.p_value)} (see the randomization test below)."
            )
        parts = [
            para(esc(line), "lead"),
            _table(
                (["person"] if many else [])
                + ["phase", "protocol", "planned", "logged start", "how it went"],
                rows,
            ),
            *(para(esc(t)) for t in sentences),
            *(para(esc(n[0].upper() + n[1:] + "."), "note") for n in pa.notes),
        ]
        return _titled("plan", title, parts, [line, *sentences])

    def overview(self) -> Section:
        """The data: the person's points by phase with the conservative dual criterion's lines
        and its verdict, or every participant's window with each variant's mean line."""
        title = "The data"
        if (s := self._unavailable("overview", title)) is not None:
            return s
        p, c = self._person, self._cohort
        if p is not None:
            rows = [
                [
                    r["name"],
                    self._name(r["protocol"]),
                    f"{_day(r['start'])} – {_day(r['end'])}",
                    str(r["n"]),
                    _g(r["mean"]),
                    _g(r["sd"]),
                    _g(r["median"]),
                ]
                for r in p.phases.iter_rows(named=True)
            ]
            way = "below" if p.improvement == "decrease" else "above"
            caption = (
                "Dots: points by phase; dotted black: the logged phase changes. Grey lines: "
                "phase A's mean (solid) and trend (dashed), each moved 0.25 SD of A toward "
                f"improvement and carried into the B phase after it; a ring marks a B point "
                f"{way} both (Fisher, Kelley & Lomas 2003). The trend counts points, not weeks, "
                "as the criterion does."
            )
            if p._planned_change_weeks():
                caption += " Orange dashes: where the plan had the changes that came off-plan."
            cdc = p.cdc_text(self.names)
            how = (
                "Conservative dual criterion (Fisher, Kelley & Lomas 2003): a B phase shows a "
                "systematic change when enough of its points lie beyond both of phase A's lines "
                "(as many as a one-sided binomial test at p = .05 requires)."
            )
            parts = [
                figure(p.cdc_chart(), "phases", caption),
                para(esc(how)),
                *(para(esc(t)) for t in cdc),
                _table(["phase", "protocol", "dates", "points", "mean", "SD", "median"], rows),
            ]
            parts += [para(esc(n), "note") for n in p.notes if "dual criterion" in n]
            return _titled("overview", title, parts, [how, *cdc])
        parts = [
            figure(
                c.chart(),
                "growth",
                "Thin lines: each participant's points in their comparison phase. Thick: "
                "each variant's mean line from the mixed model.",
            )
        ]
        return _titled("overview", title, parts, [c.summary()])

    def model(self) -> Section:
        """Piecewise regression (person) or the mixed growth model's slope differences (cohort)."""
        p, c = self._person, self._cohort
        title = "Piecewise regression" if self.participant else "Growth: difference in slopes"
        if (s := self._unavailable("model", title)) is not None:
            return s
        if p is not None:
            if p.piecewise is None:
                msg = (
                    "No piecewise regression: "
                    + "; ".join(n.removeprefix("no piecewise regression: ")
                                for n in p.notes if "piecewise" in n)
                    + "."
                )
                return _titled("model", title, [para(esc(msg))], [msg])
            pw = p.piecewise
            rows = []
            for r in pw.tidy.iter_rows(named=True):
                term = r["term"]
                k = term.rsplit("_", 1)[-1]
                label = PIECEWISE_TERMS.get(term) or (
                    f"jump in level at change {k}"
                    if term.startswith("level_change")
                    else f"change in slope at change {k} (per week)"
                )
                rows.append(
                    [
                        label,
                        _g(r["estimate"]),
                        _ci(r["ci_low"], r["ci_high"]),
                        _p_text(r["p_value"]),
                    ]
                )
            how = (
                f"AR(1) errors (rho = {pw.rho:.2f})"
                if pw.ar1 and pw.rho is not None
                else "ordinary least squares"
            )
            line = (
                f"Huitema & McKean (2000) segmented regression of the {p.label} on weeks, "
                f"fitted by {how}; values in {p.unit}."
            )
            parts = [
                para(esc(line)),
                figure(
                    p.chart(),
                    "piecewise",
                    "Dots: points by phase. Lines: piecewise regression per phase; dashed "
                    "grey: phase A's line continued, what the model expects without a "
                    "change.",
                ),
                _table(["term", "estimate", "95% CI", "p"], rows),
            ]
            parts += [para(esc(n), "note") for n in pw.notes]
            return _titled("model", title, parts, [line])
        rows = _difference_rows(c.slope_difference)
        line = (
            f"Mixed-effects growth model (statsmodels MixedLM, random "
            f"{c.slope_fit.random_effects} per participant) with a protocol × time interaction; "
            f"slopes in {c.slope_unit}. "
            "A positive difference means the first variant's values rise faster"
            + (
                " (for pain, a negative difference means pain falls faster)."
                if c.outcome == PAIN
                else "."
            )
        )
        parts = [
            para(esc(line)),
            _table(["variants", f"slope difference ({c.slope_unit})", "95% CI", "p"], rows),
            "<h3>All model terms</h3>",
            _table(
                ["term", "estimate", "95% CI", "p"],
                [
                    [
                        r["term"],
                        _g(r["estimate"]),
                        _ci(r["ci_low"], r["ci_high"]),
                        _p_text(r["p_value"]),
                    ]
                    for r in c.interaction.iter_rows(named=True)
                ],
            ),
        ]
        if c.status == "random_intercept_only":
            parts.insert(1, para(esc(f"The random slope was dropped: {c.message}."), "note"))
        parts += [para(esc(n), "note") for n in c.notes]
        return _titled("model", title, parts, [line])

    def effect_sizes(self) -> Section:
        """Single-case effect sizes: the person's A vs B, or each participant's lead-in vs
        window, summarised by variant."""
        p, c = self._person, self._cohort
        title = "Effect sizes" if self.participant else "Per-person effect sizes"
        if (s := self._unavailable("effect-sizes", title)) is not None:
            return s
        if p is not None:
            rows, marks = _effect_rows(p.effect_sizes, SHOWN_MEASURES)
            line = (
                "Single-case effect sizes as defined by SingleCaseES (Pustejovsky et al.), "
                "oriented so that positive values mean improvement."
            )
            parts = [
                para(esc(line)),
                _table(["comparison", "measure", "estimate", "95% CI", "meaning"], rows),
            ]
            parts += [para(esc(n), "note") for n in marks]
            parts += [para(esc(n), "note") for n in p.notes if "effect sizes" in n]
            return _titled("effect-sizes", title, parts, [line])
        if c.per_person.height == 0:
            msg = "No per-person effect sizes: " + "; ".join(c.notes) + "."
            return _titled("effect-sizes", title, [para(esc(msg))], [msg])
        d = c.distribution.filter(pl.col("measure").is_in(list(KEY_MEASURES)))
        rows = [
            [
                r["measure"],
                r["protocol"],
                str(r["n"]),
                _f2(r["median"]),
                f"{_f2(r['q25'])} to {_f2(r['q75'])}",
                _f2(r["mean"]),
                _ci2(r["ci_low"], r["ci_high"]),
            ]
            for r in d.iter_rows(named=True)
        ]
        line = (
            "Each participant's lead-in (phase A) against their comparison phase (B), with "
            "SingleCaseES effect sizes (positive = improvement); below, their distribution by "
            "variant."
        )
        both = c.participants.filter(pl.col("n_lead_in") >= 2)
        if both.height and both["n_lead_in"].median() < both["n_window"].median() / 2:
            line += (
                f" The lead-in holds {both['n_lead_in'].median():g} points against "
                f"{both['n_window'].median():g} in the comparison phase (medians): Tau_BC "
                "extends a trend fitted to those few points across the whole comparison "
                "phase, so it varies widely between people."
            )
        parts = [
            para(esc(line)),
            figure(
                c.effect_size_chart(measure="NAP"),
                "nap",
                "One dot per participant; black tick: the variant's median. NAP 0.5 = "
                "no difference between lead-in and comparison phase.",
            ),
            _table(
                ["measure", "variant", "people", "median", "IQR", "mean", "95% CI of the mean"],
                rows,
            ),
        ]
        return _titled("effect-sizes", title, parts, [line])

    def inference(self) -> Section:
        """The randomization test (person) or the difference in gain (cohort)."""
        p, c = self._person, self._cohort
        title = "Randomization test" if self.participant else "Gain from the lead-in to the end"
        if p is not None:
            matched = p.plan is not None and p.plan.test is not None
            title += " matched to the plan" if matched else " (retrospective)"
        if (s := self._unavailable("inference", title)) is not None:
            return s
        if p is not None:
            lines = p.test_text()
            parts = [para(esc(lines[0]), "lead"), *(para(esc(t), "note") for t in lines[1:])]
            return _titled("inference", title, parts, lines)
        if c.gain_difference.height == 0:
            msg = (
                "No gain model: "
                + "; ".join(n for n in c.notes if "gain" in n or "lead-in" in n)
                + "."
            )
            return _titled("inference", title, [para(esc(msg))], [msg])
        rows = _difference_rows(c.gain_difference)
        line = (
            f"The change from the lead-in to the last {c.plateau_weeks:g} weeks of the "
            f"comparison phase, compared between variants (mixed model, protocol × period); "
            f"{c.unit}. "
            + (
                "A negative difference means pain fell further."
                if c.outcome == PAIN
                else "For a training response that levels off, this is the gain."
            )
        )
        parts = [
            para(esc(line)),
            _table(["variants", f"gain difference ({c.unit})", "95% CI", "p"], rows),
        ]
        return _titled("inference", title, parts, [line])

    def bayes(self) -> Section:
        """The Bayesian answer in the person's terms, and how the probability moved week by
        week (a person's page only)."""
        p = self._person
        if self.participant is None:
            return _titled("bayes", None, [], [])
        title = "What B did, in your units"
        if (s := self._unavailable("bayes", title)) is not None:
            return s
        if p.bayes is None:
            msg = (
                "No Bayesian estimate: "
                + "; ".join(
                    n.removeprefix("no Bayesian estimate: ") for n in p.notes if "Bayesian" in n
                )
                + "."
            )
            return _titled("bayes", title, [para(esc(msg))], [msg])
        lines = p.bayes_text(self.names)
        parts = [para(esc(lines[0]), "lead"), *(para(esc(t), "note") for t in lines[1:])]
        chart = p.bayes_chart()
        if chart is not None:
            what = "B is better than A"
            if p.bayes.mcid is not None:
                what += f", and that it is better by at least {p.bayes.mcid:g} points,"
            parts.append(
                figure(
                    chart,
                    "bayes-by-week",
                    f"The probability that {what} from the data up to the end of each week "
                    "(from the first week with 2 points in each phase): how the answer firmed "
                    "up as the weeks came in.",
                )
            )
        return _titled("bayes", title, parts, lines)

    def truth_check(self) -> Section:
        """Demo cohort only: the estimates against the generator's truth (truth.json)."""
        c = self._cohort
        if c is None or not self.truth or not self.truth.get("cohort") or not c.usable:
            return _titled("truth", None, [], [])
        rec = demo_recovery(c, self.truth)
        rows = [
            [
                r["quantity"],
                f"{r['protocol']} − {r['reference']}",
                _g(r["estimate"]),
                _ci(r["ci_low"], r["ci_high"]),
                _g(r["truth_estimand"]),
                _g(r["truth_recorded"]),
                _g(r["error_in_se"], 2),
            ]
            for r in rec.iter_rows(named=True)
        ]
        line = (
            "These are simulated data, so the true differences are known (truth.json). "
            "'True (model's target)' is computed from each person's noise-free curve; "
            "'true (recorded)' is the difference of the drawn means the generator records."
        )
        parts = [
            para(esc(line)),
            _table(
                [
                    "quantity",
                    "variants",
                    "estimate",
                    "95% CI",
                    "true (model's target)",
                    "true (recorded)",
                    "error in standard errors",
                ],
                rows,
            ),
        ]
        return _titled("truth", "Check against the generator's truth", parts, [line])

    def caveats(self) -> Section:
        """What limits the comparison."""
        p, c = self._person, self._cohort
        if p is not None:
            planned = p.plan is not None and p.plan.test is not None
            # with a plan, the randomization test that could not run is the retrospective one
            items = list(p.caveats) + [
                n.replace("no randomization test:", "no retrospective randomization test (for "
                          "reference; the plan's test is the one to read):", 1)
                if planned else n for n in p.notes]
        elif c is not None:
            items = [CAVEAT_COHORT]
        else:
            items = []
        if not items:
            return _titled("caveats", None, [], [])
        return _titled("caveats", "Read with care", [_bullets(items)], items)

    def footer(self) -> Section:
        line = (
            f"Made by rehab {rehab.__version__} from {self.source}. The statistics describe "
            "the logs; they do not prove what caused a change."
        )
        return _titled("footer", None, [para(esc(line), "footer")], [line])


def _protocol_names(root: Path | None, ids: Sequence[str], protocols=None) -> dict[str, str]:
    """Protocol id -> its short name (up to the first parenthesis: "S.H.I.T."); an id that is
    not a known protocol keeps its id. ``protocols``: the project's, when read already."""
    from rehab.protocol import ProtocolError, load_protocols

    if protocols is None:
        try:
            protocols = load_protocols(root)
        except ProtocolError:
            return {}
    out = {}
    for pid in ids:
        if pid is not None and pid in protocols and protocols[pid].name:
            out[pid] = protocols[pid].name.split(" (")[0]
    return out


def _find_plan(paths: ProjectPaths, participant: str):
    """(plan, its file) for ``participant``: ``plans/<participant>.toml``, else the multiple
    baseline plan ``plans/mb-*.toml`` that holds them; (None, None) without one. A plan file
    that cannot be read is a ComparisonError naming it."""
    from rehab.plan import PlanError, load_plan, plan_path

    own = plan_path(paths, participant)
    try:
        if own.is_file():
            return load_plan(paths, participant), own
        folder = own.parent
        for f in sorted(folder.glob("mb-*.toml")) if folder.is_dir() else ():
            plan = load_plan(paths, f.stem)
            if participant in plan.participants:
                return plan, f
    except PlanError as e:
        raise ComparisonError(f"{e}; fix or remove the plan file to compare") from None
    return None, None


# --- rendering -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedComparison:
    """The page written, and why the comparison could not be made (empty when it could)."""

    path: Path
    problems: tuple[str, ...]


def template_path(paths: ProjectPaths) -> Path:
    """The project's own ``notebooks/templates/compare-report.ipynb`` if any, else the kit's."""
    return report_template_path(paths, TEMPLATE_NAME)


def report_file(paths: ProjectPaths, participant: str | None, outcome: str = PAIN) -> Path:
    """``reports/compare/<participant>-<outcome>.html`` or ``reports/compare/cohort-<outcome>.html``:
    one page per outcome (a test id that is not a plain name is written as a short hash)."""
    name = check_participant(participant) if participant else COHORT
    if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", outcome):
        outcome = "outcome-" + hashlib.sha256(outcome.encode()).hexdigest()[:12]
    return inside(paths.reports, paths.reports / "compare" / f"{name}-{outcome}.html")


def render_comparison(
    *,
    participant: str | None = None,
    cohort: bool = False,
    outcome: str = PAIN,
    root: str | Path | None = None,
    data_dir: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> RenderedComparison:
    """Render the comparison report of one participant's phases, or of the cohort.

    Usage problems (both or neither of participant/cohort, an id or folder that is not allowed,
    an unknown participant or outcome) raise :class:`ComparisonError` or
    :class:`rehab.paths.PathError`; a failing template cell raises :class:`ReportError`. When the
    data hold nothing to compare the page is still written (it says why) and ``problems`` lists
    the reasons."""
    from rehab.config import load_config
    from rehab.io import load_project
    from rehab.report.kernels import execute_template
    from rehab.report.page import export_html, offline_problems

    if bool(participant) == bool(cohort):
        raise ComparisonError("give a participant id or the cohort (one of them)")
    paths = ProjectPaths(Path(root).resolve()) if root else ProjectPaths.discover()
    target = report_file(paths, participant, outcome)
    src = data_folder(paths, data_dir)
    ds = load_project(paths.root, source=src, aliases=load_config(paths.config_file).aliases)
    if participant and participant not in ds.participants:
        found = ds.participants
        listed = ", ".join(found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "")
        raise ComparisonError(
            f"participant {participant!r} has no records in {ds.source_dir} "
            f"(participants found: {listed or 'none'})"
        )
    tests = sorted(set(TEST_IDS) | set(ds.tests["test"].unique().to_list()))
    if outcome != PAIN and outcome not in tests:
        raise ComparisonError(
            f"outcome {outcome!r} is not allowed: use pain or a test id ({', '.join(tests)})"
        )
    problems = tuple(comparison_problems(ds, participant=participant or None, outcome=outcome))
    if progress:
        progress("running the comparison template")
    params = {
        "participant": participant or "",
        "cohort": bool(cohort),
        "outcome": outcome,
        "project_dir": str(paths.root),
        "data_dir": str(src or ""),
    }
    nb = execute_template(template_path(paths), params, paths.root)
    who = participant or "cohort"
    page = export_html(nb, title=f"{who} — rehab protocol comparison")
    bad = offline_problems(page)
    if bad:
        raise ReportError(
            "the comparison page would load from the network or run scripts: "
            + ", ".join(sorted(set(bad))[:5])
        )
    atomic_write_text(target, page)
    return RenderedComparison(path=target, problems=problems)
