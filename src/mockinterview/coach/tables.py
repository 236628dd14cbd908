"""Rich tables for the coach tools. Builds renderables only; the CLI decides where they print."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from mockinterview.coach.core import Agreement, CalibrationReport, RescoreResult


def _fmt(x: float | None, digits: int = 2) -> str:
    if x is None:
        return "-"
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.{digits}f}"


def _diff(d: float | None) -> str:
    if d is None:
        return "[yellow]new/gone[/]"
    if d > 0:
        return f"[green]+{_fmt(d)}[/]"
    if d < 0:
        return f"[red]{_fmt(d)}[/]"
    return "[dim]0[/]"


def rescore_table(result: RescoreResult, only_changed: bool = False) -> Table:
    """Per answer and criterion: the baseline column, the new run's column and the difference."""
    changed = len([c for c in result.changes if c.criterion != "overall" and c.diff != 0])
    total = len([c for c in result.changes if c.criterion != "overall"])
    table = Table(title=f"{escape(result.session_id)}: {escape(result.baseline_label)} → "
                        f"{escape(result.run.id)} ({changed} of {total} levels changed)")
    if result.changed_files:
        shown = ", ".join(result.changed_files[:6])
        more = f" and {len(result.changed_files) - 6} more" if len(result.changed_files) > 6 else ""
        table.caption = escape(f"files that differ between the two versions: {shown}{more}")
    else:
        table.caption = "same rubric and prompt files in both versions"
    table.add_column("answer")
    table.add_column("criterion")
    table.add_column(escape(result.baseline_label), justify="right")
    table.add_column(escape(result.run.id), justify="right")
    table.add_column("diff", justify="right")
    last = None
    for c in result.changes:
        if only_changed and c.diff == 0:
            continue
        qid = c.question_id if c.question_id != last else ""
        last = c.question_id
        style = "bold" if c.criterion == "overall" else None
        table.add_row(escape(qid), c.criterion, _fmt(c.before), _fmt(c.after), _diff(c.diff),
                      style=style)
    return table


def _agreement_cells(a: Agreement) -> list[str]:
    return [str(a.n), _fmt(a.spearman, 3), _fmt(a.qwk, 3), f"{a.mae:.2f}", f"{a.exact:.0%}",
            f"{a.within_one:.0%}"]


METRICS = ("n", "Spearman", "QWK", "MAE", "exact", "within one")


def agreement_table(report: CalibrationReport) -> Table:
    table = Table(title=f"Agreement with the coach's grades ({escape(report.engine)} engine, "
                        f"{escape(str(report.path))})")
    table.add_column("items")
    for m in METRICS:
        table.add_column(m, justify="right")
    table.add_row("all", *_agreement_cells(report.overall), style="bold")
    table.add_row("honest only", *_agreement_cells(report.honest))
    for name, a in report.per_section.items():
        table.add_row(f"section {name}", *_agreement_cells(a))
    return table


def comparison_table(base: CalibrationReport, new: CalibrationReport,
                     base_label: str, new_label: str) -> Table:
    """Both banks' figures side by side with the difference (new minus base)."""
    table = Table(title="Agreement: two rubric versions on the same graded answers")
    table.add_column("figure")
    table.add_column(escape(base_label), justify="right")
    table.add_column(escape(new_label), justify="right")
    table.add_column("diff", justify="right")
    rows: list[tuple[str, float | None, float | None, bool]] = [
        ("Spearman", base.overall.spearman, new.overall.spearman, True),
        ("Spearman (honest)", base.honest.spearman, new.honest.spearman, True),
        ("QWK", base.overall.qwk, new.overall.qwk, True),
        ("MAE", base.overall.mae, new.overall.mae, False),
        ("exact", base.overall.exact, new.overall.exact, True),
        ("within one", base.overall.within_one, new.overall.within_one, True),
        ("max adversarial", base.adversarial_max, new.adversarial_max, False),
    ]
    for name, b, n, higher_better in rows:
        d = None if b is None or n is None else round(n - b, 3)
        if d is None:
            cell = "-"
        elif d == 0:
            cell = "[dim]0[/]"
        else:
            good = (d > 0) == higher_better
            cell = f"[{'green' if good else 'red'}]{d:+.3f}[/]"
        table.add_row(name, _fmt(b, 3), _fmt(n, 3), cell)
    return table


def worst_table(report: CalibrationReport, limit: int = 8) -> Table:
    table = Table(title="Worst disagreements", expand=True)
    for col in ("line", "question", "kind", "coach", "engine", "overall"):
        table.add_column(col, no_wrap=True, min_width=len(col))
    table.add_column("answer begins", no_wrap=True, overflow="ellipsis", ratio=1, min_width=8)
    for i in report.worst[:limit]:
        table.add_row(str(i.line), escape(i.question_id), i.kind, str(i.grade), str(i.predicted),
                      f"{i.overall:.2f}", escape(i.answer[:80].replace("\n", " ")))
    return table


def item_diff_table(base: CalibrationReport, new: CalibrationReport, base_label: str,
                    new_label: str, limit: int = 15) -> Table:
    """Items whose predicted grade differs between the two versions."""
    table = Table(title="Answers whose predicted grade changed")
    for col in ("line", "question", "coach", base_label, new_label, "diff"):
        table.add_column(escape(col))
    pairs = [(b, n) for b, n in zip(base.items, new.items, strict=True)
             if b.predicted != n.predicted]
    for b, n in pairs[:limit]:
        table.add_row(str(b.line), escape(n.question_id), str(b.grade), str(b.predicted),
                      str(n.predicted), _diff(n.predicted - b.predicted))
    if len(pairs) > limit:
        table.caption = f"and {len(pairs) - limit} more"
    return table
