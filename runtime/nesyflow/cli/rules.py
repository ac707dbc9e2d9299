"""``nesyflow check | test | lint | facts`` — the rule author's commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nesyflow.cli._io import EXECUTOR_HELP, bad_input, executor, read_cases, validate_case
from nesyflow.errors import InputError, NesyflowError, ProblemsError
from nesyflow.logic.result import Verdict

__all__ = ["register"]

out = Console(highlight=False)

_VERDICT_STYLE = {
    Verdict.PASS: "bold green",
    Verdict.FAIL: "bold red",
    Verdict.REVIEW: "bold yellow",
    Verdict.DENY: "bold red",
    Verdict.UNKNOWN: "bold magenta",
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
        float | None,
        typer.Option(
            help="Seconds each batch of up to 1,000 cases may take (a real bound: it runs in a "
            "worker that is killed). Default: 2 s per 100 cases, at least 2 s."
        ),
    ] = None,
    executor_name: Annotated[str, typer.Option("--executor", help=EXECUTOR_HELP)] = "local",
) -> None:
    """Check cases against a pack. Exit 0 if every case passes, 1 if any does not, 2 on bad input.

    The cases go through the batch path (:func:`nesyflow.logic.check_many`): grounded together in
    chunks, each distinct input solved once, with exactly the answers one check each would give."""
    from nesyflow.logic import check_many

    if format not in ("text", "json"):
        bad_input(f"--format must be text or json, not {format!r}")
    if timeout is not None and not timeout > 0:
        bad_input(f"--timeout must be a positive number of seconds, not {timeout}")
    executor(executor_name)
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
    results = check_many(
        loaded,
        [c for _, c in cases],
        [ctx] * len(cases),
        timeout=timeout,
        executor=executor_name,
    )
    for (line, _), result in zip(cases, results, strict=True):
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
        float, typer.Option(help="Fail when rule-body coverage (%) is below this.")
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
        table.add_column("body", overflow="fold")
        table.add_column("covered by passing cases", justify="right")
        for body in report.bodies if verbose else report.uncovered_bodies:
            table.add_row(
                body.rule, escape(body.where), str(body.cases) if body.cases else "[red]never[/]"
            )
        if verbose or report.uncovered:
            out.print(table)
        cov_style = "green" if report.coverage >= max(fail_under, 100.0) else "yellow"
        never = [r for r in report.uncovered if not report.fired.get(r)]
        partly = [b.where for b in report.uncovered_bodies if b.rule not in never]
        out.print(
            f"  {report.passed} passed, {report.failed} failed; coverage "
            f"[{cov_style}]{report.coverage:.1f}%[/] of {len(report.bodies)} rule bodies "
            f"({len(report.pack.catalogue)} catalogue rules)"
            + (f" (never fired: {', '.join(never)})" if never else "")
            + (f" (bodies no passing case covers: {escape(', '.join(partly))})" if partly else "")
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
    deep: Annotated[
        bool,
        typer.Option(
            "--deep",
            help="Also analyse what the rules can do: rules that never fire, always fire, fire "
            "together, reviews a violation always pre-empts, derived keys with two values.",
        ),
    ] = False,
    max_inputs: Annotated[
        int, typer.Option(help="--deep: at most this many varied inputs per pack.")
    ] = 5000,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
    timeout: Annotated[
        float, typer.Option(help="Seconds the pack's static part may take to ground.")
    ] = 10.0,
) -> None:
    """Validate packs without checking anything: every problem with file:line:col.

    The pack's static part is ground in a worker process that is stopped past ``--timeout`` or
    its memory limit: a pack that cannot ground is an error, never an "ok" after minutes. Exit 0
    if every pack loads (and, with --deep, the analysis finds nothing), 1 otherwise."""
    from nesyflow.logic import load_pack
    from nesyflow.logic.deep import analyse_pack

    if format not in ("text", "json"):
        bad_input(f"--format must be text or json, not {format!r}")
    if not timeout > 0:
        bad_input(f"--timeout must be a positive number of seconds, not {timeout}")
    ok = True
    reports: list[dict] = []
    for path in packs:
        try:
            pack = load_pack(path, timeout=timeout)
        except ProblemsError as exc:
            ok = False
            reports.append({"pack": str(path), "problems": [str(p) for p in exc.problems]})
            if format == "text":
                out.print(escape(str(exc)))
            continue
        entry: dict = {"pack": str(pack.identity), "problems": []}
        if format == "text":
            out.print(
                f"[green]ok[/] {pack.identity} — {len(pack.catalogue)} rules in the catalogue, "
                f"{len(pack.files)} files"
            )
        if deep:
            report = analyse_pack(pack, max_inputs=max_inputs)
            ok = ok and not report.problems
            entry["deep"] = report.to_json()
            if format == "text":
                _print_deep(report)
        reports.append(entry)
    if format == "json":
        print(json.dumps(reports, indent=2))
    raise typer.Exit(0 if ok else 1)


def _print_deep(report) -> None:
    verdict = (
        "[green]nothing found[/]"
        if not report.problems
        else f"[red]{len(report.problems)} finding(s)[/]"
    )
    out.print(
        f"  deep: {verdict} — {report.inputs} inputs varied from {report.cases} test cases "
        f"in {report.seconds:.1f} s"
    )
    for problem in report.problems:
        out.print(f"  {escape(str(problem))}")
    for note in report.incomplete:
        out.print(f"  [yellow]not complete:[/] {escape(note)}")


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
        _print_sources(model)
        _print_classes(model, context_model)
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


def _print_classes(model: Any, context_model: Any) -> None:
    """Each classified field (nesyflow.schema.governance): sensitive, kept for years."""
    from nesyflow.engine.governance import Classes

    classes = Classes()
    classes.add("input", model)
    classes.add("context", context_model)
    table = Table(title="data classification", show_header=True, header_style="bold")
    for column in ("model", "field", "sensitive", "must be kept"):
        table.add_column(column)
    for row in classes.rows():
        table.add_row(*(escape(c) for c in row))
    out.print(table)
    out.print(
        "[dim]every other field: not sensitive, kept as long as the store keeps its trace; "
        "rules read the classes as sensitive(Path, Kind), retained(Path, Years)[/]"
    )


def _print_sources(model: Any) -> None:
    """Where each field's value comes from, when the schema declares it (nesyflow.extract)."""
    from nesyflow.extract import describe_sources

    try:
        rows = describe_sources(model)
    except ProblemsError as exc:
        bad_input(str(exc))
    if not rows:
        return
    table = Table(title="where each value comes from", show_header=True, header_style="bold")
    table.add_column("field")
    table.add_column("source")
    for name, text in rows:
        table.add_row(name, escape(text))
    out.print(table)


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
