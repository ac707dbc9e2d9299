"""``nesyflow check | test | lint | facts`` — the rule author's commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nesyflow.cli._io import bad_input, read_cases, validate_case
from nesyflow.errors import InputError, NesyflowError, ProblemsError

__all__ = ["register"]

out = Console(highlight=False)

_VERDICT_STYLE = {
    "pass": "bold green",
    "fail": "bold red",
    "review": "bold yellow",
    "deny": "bold red",
    "unknown": "bold magenta",
}


def _load(path: Path):
    from nesyflow.logic import load_pack

    try:
        return load_pack(path)
    except ProblemsError as exc:
        bad_input(str(exc))


def register(app: typer.Typer) -> None:
    app.command("check")(check_cmd)
    app.command("test")(test_cmd)
    app.command("lint")(lint_cmd)
    app.command("facts")(facts_cmd)


def check_cmd(
    pack: Annotated[Path, typer.Argument(help="Rule pack folder.")],
    input: Annotated[Path, typer.Option("--input", "-i", help="JSON object or JSONL cases.")],
    context: Annotated[
        Path | None, typer.Option(help="JSON context for every case (packs with a context).")
    ] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
    timeout: Annotated[
        float, typer.Option(help="Seconds per check (a real bound: the check runs in a worker).")
    ] = 2.0,
) -> None:
    """Check cases against a pack. Exit 0 if every case passes, 1 if any does not, 2 on bad input."""
    from nesyflow.logic import check

    if format not in ("text", "json"):
        bad_input(f"--format must be text or json, not {format!r}")
    if not timeout > 0:
        bad_input(f"--timeout must be a positive number of seconds, not {timeout}")
    loaded = _load(pack)
    ctx = None
    if context is not None:
        ctx_cases = list(read_cases(context))
        if loaded.context_model is None:
            bad_input(f"{context}: pack {loaded.name} takes no context")
        ctx = validate_case(loaded.context_model, ctx_cases[0][1], f"{context}:{ctx_cases[0][0]}")
    cases = [
        (line, validate_case(loaded.input_model, data, f"{input}:{line}"))
        for line, data in read_cases(input)
    ]
    all_pass = True
    for line, case in cases:
        result = check(loaded, case, ctx, timeout=timeout)
        all_pass &= result.ok
        if format == "json":
            print(json.dumps(result.to_json(), ensure_ascii=False))
        else:
            _print_result(f"{input}:{line}", result)
    raise typer.Exit(0 if all_pass else 1)


def _print_result(where: str, result) -> None:
    style = _VERDICT_STYLE[result.verdict.value]
    out.print(f"{escape(where)}  [{style}]{result.verdict.value.upper()}[/]  [dim]{result.pack}[/]")
    for kind, findings in (
        ("violation", result.violations),
        ("review", result.reviews),
        ("deny", result.denials),
    ):
        for f in findings:
            out.print(
                f"  {kind} [bold]{f.rule}[/] ({f.severity}): {escape(f.message)}"
                + (f"  [dim]— {escape(f.detail)}[/]" if f.detail else "")
            )
            for e in f.explanations:
                out.print(
                    f"    [dim]because[/] {escape(e.rule.file)}:{e.rule.line}: "
                    f"[cyan]{escape(e.rule.text)}[/]"
                )
                if e.input_facts:
                    out.print(f"      [dim]input:[/] {escape(', '.join(e.input_facts))}")
                if e.derived_facts:
                    out.print(f"      [dim]derived:[/] {escape(', '.join(e.derived_facts))}")
    if result.missing:
        out.print(f"  missing: {escape(', '.join(result.missing))}")
    if result.reason and not result.missing:
        out.print(f"  reason: {escape(result.reason)}")
    for key, value in result.derived.items():
        out.print(f"  derived {escape(key)} = {escape(str(value))}")


def test_cmd(
    packs: Annotated[list[Path], typer.Argument(help="Rule pack folders.")],
    format: Annotated[str, typer.Option("--format", "-f", help="pretty or json")] = "pretty",
    fail_under: Annotated[
        float, typer.Option(help="Fail when catalogue coverage (%) is below this.")
    ] = 0.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List passing cases.")] = False,
) -> None:
    """Run packs' tests (tests/*.yaml) with a coverage report. Exit 1 on any failure."""
    from nesyflow.logic.testing import run_pack_tests

    ok = True
    reports = []
    for path in packs:
        report = run_pack_tests(_load(path))
        reports.append(report)
        ok &= report.failed == 0 and report.coverage >= fail_under and bool(report.cases)
        if format == "json":
            continue
        out.print(f"[bold]{report.pack.identity}[/]  ({len(report.cases)} cases)")
        for case in report.cases:
            if case.passed and not verbose:
                continue
            mark = "[green]PASS[/]" if case.passed else "[red]FAIL[/]"
            out.print(
                f"  {mark} {escape(str(case.location))}: {escape(case.name)} "
                f"[dim]{case.duration_ms:.2f} ms[/]"
            )
            if case.error:
                out.print(f"       [red]{escape(case.error)}[/]")
            for diff in case.diffs:
                out.print(f"       [red]{escape(diff)}[/]")
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        table.add_column("rule")
        table.add_column("fired in tests", justify="right")
        for rule in sorted(report.pack.catalogue):
            n = report.fired.get(rule, 0)
            table.add_row(rule, str(n) if n else "[red]never[/]")
        if verbose or report.uncovered:
            out.print(table)
        cov_style = "green" if report.coverage >= max(fail_under, 100.0) else "yellow"
        out.print(
            f"  {report.passed} passed, {report.failed} failed; coverage "
            f"[{cov_style}]{report.coverage:.1f}%[/] of {len(report.pack.catalogue)} catalogue rules"
            + (f" (never fired: {', '.join(report.uncovered)})" if report.uncovered else "")
        )
        if not report.cases:
            out.print("  [red]no test cases found in tests/*.yaml[/]")
        if report.coverage < fail_under:
            out.print(
                f"  [red]coverage {report.coverage:.1f}% is below --fail-under {fail_under}[/]"
            )
    if format == "json":
        print(json.dumps([r.to_json() for r in reports], ensure_ascii=False))
    total_pass = sum(r.passed for r in reports)
    total_fail = sum(r.failed for r in reports)
    if format != "json":
        out.print(f"{total_pass} passed, {total_fail} failed")
    raise typer.Exit(0 if ok else 1)


def lint_cmd(
    packs: Annotated[list[Path], typer.Argument(help="Rule pack folders.")],
    timeout: Annotated[
        float, typer.Option(help="Seconds the pack's static part may take to ground.")
    ] = 10.0,
) -> None:
    """Validate packs without checking anything: every problem with file:line:col.

    The pack's static part is ground in a worker process that is stopped past ``--timeout`` or
    its memory limit: a pack that cannot ground is an error, never an "ok" after minutes."""
    from nesyflow.logic import load_pack

    if not timeout > 0:
        bad_input(f"--timeout must be a positive number of seconds, not {timeout}")
    ok = True
    for path in packs:
        try:
            pack = load_pack(path, timeout=timeout)
        except ProblemsError as exc:
            ok = False
            out.print(escape(str(exc)))
            continue
        out.print(
            f"[green]ok[/] {pack.identity} — {len(pack.catalogue)} rules in the catalogue, "
            f"{len(pack.files)} files"
        )
    raise typer.Exit(0 if ok else 1)


def facts_cmd(
    target: Annotated[
        str, typer.Argument(help="A pack folder, or a schema 'path/to/module.py:Model'.")
    ],
    input: Annotated[Path | None, typer.Option("--input", "-i", help="JSON case(s).")] = None,
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the vocabulary rule authors write against.")
    ] = False,
) -> None:
    """Print the facts an input becomes, or (--schema) the predicates of the encoding."""
    from nesyflow.schema import to_facts, vocabulary

    model, context_model = _model_of(target)
    if schema:
        models = [m for m in (model, context_model) if m is not None]
        table = Table(title="input vocabulary", show_header=True, header_style="bold")
        table.add_column("predicate")
        table.add_column("arity", justify="right")
        table.add_column("arguments")
        table.add_column("meaning")
        for pred in vocabulary(*models):
            table.add_row(pred.name, str(pred.arity), "; ".join(pred.arguments), pred.meaning)
        out.print(table)
        out.print(
            "[dim]rules speak: violation(RuleId, Detail), review(RuleId, Detail), "
            "deny(RuleId, Detail), missing(Field), derived(Key, Value)[/]"
        )
        if input is None:
            raise typer.Exit(0)
    if input is None:
        bad_input("give --input FILE (or --schema)")
    for line, data in read_cases(input):
        instance = validate_case(model, data, f"{input}:{line}")
        try:
            print(to_facts(instance).text(), end="")
        except NesyflowError as exc:
            bad_input(f"{input}:{line}: {exc}")


def _model_of(target: str):
    path = Path(target)
    if path.is_dir():
        pack = _load(path)
        return pack.input_model, pack.context_model
    from nesyflow._imports import resolve_object

    try:
        model = resolve_object(target, Path.cwd())
    except InputError as exc:
        bad_input(str(exc))
    from pydantic import BaseModel

    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        bad_input(f"{target} is not a pydantic model class")
    return model, None
