"""CLI of legal: ``suraksha legal file|list|show|check|remind|dashboard|escalate|gather|
mark-unavailable|approve|package|execute|preserve|answer|agency`` and ``suraksha disclosure
verify|key|download``.

Steps that need the legal role take ``--user NAME``: the staff user's role is looked up, so the
command line grants nothing the workspace would not.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path

import typer

from suraksha.cli_support import CliError, one_line_errors

legal_app = typer.Typer(no_args_is_help=True, help="Legal requests: orders, data requests, deadlines, disclosures.")
agency_app = typer.Typer(no_args_is_help=True, help="Agencies that may send requests.")
disclosure_app = typer.Typer(no_args_is_help=True, help="Signed disclosure packages: verify, signing key, download.")
legal_app.add_typer(agency_app, name="agency")


def register(app: typer.Typer) -> None:
    app.add_typer(legal_app, name="legal")
    app.add_typer(disclosure_app, name="disclosure")


def _when(value: str | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"{name} {value!r} is not an ISO 8601 time (e.g. 2026-12-01T22:30:00+05:30)") from None
    if at.tzinfo is None:
        raise CliError(f"{name} {value!r} has no time zone (add +05:30, Z, ...)")
    return at


def _staff(username: str) -> tuple[str, str]:
    """(actor, role) of an active staff user."""
    from suraksha.auth.service import list_users

    for u in list_users():
        if u.username == username:
            if not u.active:
                raise CliError(f"staff user {username!r} is deactivated")
            return f"user:{u.username}", u.role
    raise CliError(f"no staff user named {username!r} (see `suraksha user list`)")


def _read(path: Path, limit: int) -> bytes:
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise CliError(f"{path}: larger than the {limit}-byte limit")
    return data


def _fmt(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M %Z") if value else "-"


def _print_request(r) -> None:
    typer.echo(
        f"{r.reference}  {r.type} ({r.jurisdiction})  status: {r.status}" + (f" - {r.status_reason}" if r.status_reason else "")
    )
    typer.echo(
        f"  from: {r.officer_name or '-'} {('(' + r.officer_rank + ')') if r.officer_rank else ''} "
        f"{r.agency_name or ''}  case: {r.case_number or '-'}  channel: {r.channel}"
    )
    typer.echo(f"  received: {_fmt(r.received_at)}  due: {_fmt(r.due_at)}  ({r.deadline_citation})")
    for c in r.checks:
        mark = "ok" if c.passed else ("overridden" if c.overridden else "FAILED")
        typer.echo(f"  check {c.key}: {mark} - {c.reason}" + (f" [answer: {c.answer_note}]" if c.answer_note else ""))
    for t in r.targets:
        typer.echo(
            f"  target {t.kind} {t.value}: {t.outcome or ('known' if (t.account_id or t.item_id) else 'not known to Suraksha')}"
        )
    for p in r.data_points:
        typer.echo(f"  data {p.key}: {p.status} ({len(p.rows)} row(s))" + (f" - {p.reason}" if p.reason else ""))
    for rem in r.reminders:
        typer.echo(f"  reminder {_fmt(rem.received_at)} via {rem.channel}: {rem.note[:100]}")
    for d in r.disclosures:
        typer.echo(f"  disclosure {d.id}: {d.filename} sha256={d.sha256[:16]}... downloads={d.downloads}")


# --------------------------------------------------------------------------- agencies
@agency_app.command("add")
@one_line_errors
def agency_add(
    name: str = typer.Argument(...),
    kind: str = typer.Option(..., "--kind", help="police | court | government | commission | ngo | user"),
    jurisdiction: str = typer.Option("in", "--jurisdiction"),
    domain: list[str] = typer.Option([], "--domain", help="Official email domain (repeat)."),
    user: str = typer.Option("system:cli", "--actor"),
) -> None:
    """Register an agency."""
    from suraksha.legal import register_agency

    a = register_agency(name, kind, jurisdiction, domain, user)
    typer.echo(f"agency {a.id}: {a.name} ({a.kind}, {a.jurisdiction}) domains: {', '.join(a.email_domains) or '-'}")


@agency_app.command("list")
@one_line_errors
def agency_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List agencies."""
    from suraksha.legal import list_agencies

    agencies = list_agencies()
    if as_json:
        typer.echo(json.dumps([asdict(a) for a in agencies], indent=2, default=str))
        return
    for a in agencies:
        typer.echo(f"{a.id}\t{a.name}\t{a.kind}\t{a.jurisdiction}\t{','.join(a.email_domains)}")


# --------------------------------------------------------------------------- intake
@legal_app.command("file")
@one_line_errors
def file_cmd(
    type_: str = typer.Option(..., "--type", help="takedown_order, data_request, ... (see docs/legal.md)"),
    issuer: str = typer.Option(..., "--issuer", help="court | government | police | commission | ngo | user"),
    user: str = typer.Option(..., "--user", help="Staff user entering the request."),
    jurisdiction: str = typer.Option("in", "--jurisdiction"),
    channel: str = typer.Option("email", "--channel", help="email | paper | staff"),
    agency: int = typer.Option(None, "--agency"),
    officer_name: str = typer.Option(None, "--officer-name"),
    officer_rank: str = typer.Option(None, "--officer-rank"),
    officer_email: str = typer.Option(None, "--officer-email"),
    rank_exception: bool = typer.Option(False, "--rank-exception", help="The profile's rank exception applies."),
    case_number: str = typer.Option(None, "--case", help="FIR / case / summons number."),
    basis: str = typer.Option(None, "--basis", help="Legal basis as cited."),
    summary: str = typer.Option(None, "--summary"),
    received: str = typer.Option(None, "--received", help="When it was received (ISO 8601 with zone); default now."),
    order_deadline: str = typer.Option(None, "--order-deadline", help="Deadline written in the order (ISO 8601)."),
    period_from: str = typer.Option(None, "--period-from"),
    period_to: str = typer.Option(None, "--period-to"),
    target: list[str] = typer.Option([], "--target", help="account:ID, url:URL or item:ID (repeat)."),
    data: list[str] = typer.Option([], "--data", help="Data point asked for (repeat)."),
    document: Path = typer.Option(None, "--document", help="The order / notice (PDF)."),
) -> None:
    """Enter a request received by email or on paper."""
    from suraksha.legal import RequestIn, file_request
    from suraksha.legal.settings import get_legal_settings

    actor, _role = _staff(user)
    targets = []
    for t in target:
        kind, sep, value = t.partition(":")
        if not sep or kind not in ("account", "url", "item"):
            raise CliError(f"--target {t!r}: expected account:ID, url:URL or item:ID")
        targets.append({"kind": kind, "value": value})
    try:
        data_in = RequestIn(
            type=type_,
            jurisdiction=jurisdiction,
            channel=channel,
            agency_id=agency,
            officer_name=officer_name,
            officer_rank=officer_rank,
            officer_email=officer_email,
            issuer_kind=issuer,
            rank_exception=rank_exception,
            case_number=case_number,
            legal_basis=basis,
            summary=summary,
            received_at=_when(received, "--received"),
            order_deadline=_when(order_deadline, "--order-deadline"),
            period_from=_when(period_from, "--period-from"),
            period_to=_when(period_to, "--period-to"),
            targets=targets,
            data_points=data,
        )
    except ValueError as exc:  # pydantic: first problem, one line
        errs = getattr(exc, "errors", lambda: [])()
        msg = f"{'.'.join(str(p) for p in errs[0]['loc'])}: {errs[0]['msg']}" if errs else str(exc)
        raise CliError(msg) from None
    content = _read(document, get_legal_settings().legal_max_document_bytes) if document else None
    r = file_request(data_in, actor, document=content, document_name=document.name if document else None)
    _print_request(r)


@legal_app.command("list")
@one_line_errors
def list_cmd(
    status: str = typer.Option(None, "--status"),
    type_: str = typer.Option(None, "--type"),
    agency: int = typer.Option(None, "--agency"),
    limit: int = typer.Option(100, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List requests, newest first."""
    from suraksha.legal import list_requests

    rows = list_requests(agency_id=agency, status=status, type=type_, limit=limit)
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], indent=2, default=str))
        return
    for r in rows:
        typer.echo(f"{r.reference}\t{r.type}\t{r.status}\tdue {_fmt(r.due_at)}\t{r.agency_name or '-'}\t{r.case_number or '-'}")


@legal_app.command("show")
@one_line_errors
def show_cmd(
    ref: str = typer.Argument(..., help="Reference (LR-2026-000001) or id."),
    as_json: bool = typer.Option(False, "--json"),
    history: bool = typer.Option(False, "--history"),
) -> None:
    """One request: checks, targets, data points, reminders, disclosures."""
    from suraksha.legal import get_request, request_history

    r = get_request(ref)
    if as_json:
        typer.echo(json.dumps(asdict(r), indent=2, default=str))
    else:
        _print_request(r)
    if history:
        for e in request_history(r.id):
            typer.echo(f"  {_fmt(e.at)}  {e.actor}  {e.action}  {json.dumps(e.details, default=str)[:200]}")


@legal_app.command("check")
@one_line_errors
def check_cmd(
    ref: str = typer.Argument(...),
    user: str = typer.Option(..., "--user"),
    answer: str = typer.Option(None, "--answer", help="Check to answer: agency | rank | legal_basis | document."),
    note: str = typer.Option(None, "--note"),
    override: bool = typer.Option(False, "--override", help="Let work start despite the failure (legal role)."),
) -> None:
    """Re-run the verification checks, or answer / override one."""
    from suraksha.legal import answer_check, get_request, run_checks

    actor, role = _staff(user)
    if answer:
        answer_check(ref, answer, note or "", actor, role, override=override)
    else:
        run_checks(ref, actor)
    _print_request(get_request(ref))


@legal_app.command("remind")
@one_line_errors
def remind_cmd(
    ref: str = typer.Argument(...),
    note: str = typer.Option(..., "--note", help="What the reminder says."),
    user: str = typer.Option(..., "--user"),
    channel: str = typer.Option("email", "--channel"),
    received: str = typer.Option(None, "--received"),
    document: Path = typer.Option(None, "--document"),
) -> None:
    """Log a reminder received by email or on paper."""
    from suraksha.legal import add_reminder
    from suraksha.legal.settings import get_legal_settings

    actor, _ = _staff(user)
    content = _read(document, get_legal_settings().legal_max_document_bytes) if document else None
    r = add_reminder(
        ref,
        note,
        actor,
        channel=channel,
        received_at=_when(received, "--received"),
        document=content,
        document_name=document.name if document else None,
    )
    typer.echo(f"reminder {r.id} logged on {ref} ({_fmt(r.received_at)})")


# --------------------------------------------------------------------------- clocks
@legal_app.command("dashboard")
@one_line_errors
def dashboard_cmd(now: str = typer.Option(None, "--now"), as_json: bool = typer.Option(False, "--json")) -> None:
    """Open requests: overdue, at risk, due."""
    from suraksha.legal import dashboard

    board = dashboard(_when(now, "--now"))
    if as_json:
        typer.echo(json.dumps(asdict(board), indent=2, default=str))
        return
    for name, rows in (("OVERDUE", board.overdue), ("AT RISK", board.at_risk), ("DUE", board.due)):
        typer.echo(f"{name} ({len(rows)})")
        for e in rows:
            left = e.remaining.total_seconds() / 3600
            typer.echo(f"  {e.reference}\t{e.type}\t{e.status}\tdue {_fmt(e.due_at)}\t{left:+.1f} h\t{e.agency_name or '-'}")


@legal_app.command("escalate")
@one_line_errors
def escalate_cmd(now: str = typer.Option(None, "--now")) -> None:
    """Send escalations due now (the dispatcher runs this periodically)."""
    from suraksha.legal import escalate_due

    made = escalate_due(_when(now, "--now"))
    for n in made:
        typer.echo(f"{n.reference}\t{n.level}\t{', '.join(n.recipients) or '(no recipient configured)'}\t{n.message}")
    typer.echo(f"{len(made)} escalation(s)")


# --------------------------------------------------------------------------- work
@legal_app.command("gather")
@one_line_errors
def gather_cmd(ref: str = typer.Argument(...), user: str = typer.Option(..., "--user")) -> None:
    """Gather the data points asked for (Suraksha's records and the platform connector)."""
    from suraksha.legal import gather

    actor, _ = _staff(user)
    for p in gather(ref, actor):
        typer.echo(f"{p.key}\t{p.status}\t{len(p.rows)} row(s)\t{','.join(p.sources) or '-'}\t{p.reason or ''}")


@legal_app.command("mark-unavailable")
@one_line_errors
def mark_cmd(
    ref: str = typer.Argument(...),
    key: str = typer.Argument(..., help="Data point, e.g. linked_accounts."),
    reason: str = typer.Option(..., "--reason", help="Why: this goes into the answer."),
    user: str = typer.Option(..., "--user"),
    withheld: bool = typer.Option(False, "--withheld", help="Withheld (a legal reason) rather than unavailable."),
) -> None:
    """Mark a data point unavailable (or withheld) with its reason."""
    from suraksha.legal import mark_data_point

    actor, _ = _staff(user)
    p = mark_data_point(ref, key, "withheld" if withheld else "unavailable", reason, actor)
    typer.echo(f"{ref} {p.key}: {p.status} - {p.reason}")


@legal_app.command("execute")
@one_line_errors
def execute_cmd(
    ref: str = typer.Argument(...), user: str = typer.Option(..., "--user"), country: str = typer.Option(None, "--country")
) -> None:
    """Execute a takedown / blocking order through enforcement actions (legal role)."""
    from suraksha.legal import execute_order

    actor, role = _staff(user)
    _print_request(execute_order(ref, actor, role, country=country))


@legal_app.command("preserve")
@one_line_errors
def preserve_cmd(ref: str = typer.Argument(...), user: str = typer.Option(..., "--user")) -> None:
    """Put a legal hold on the evidence the request concerns."""
    from suraksha.legal import preserve_for_request

    actor, _ = _staff(user)
    held = preserve_for_request(ref, actor)
    typer.echo(f"{len(held)} evidence object(s) held for {ref}")


@legal_app.command("answer")
@one_line_errors
def answer_cmd(
    ref: str = typer.Argument(...), note: str = typer.Option(..., "--note"), user: str = typer.Option(..., "--user")
) -> None:
    """Record the reply to a request that needs no package (legal role)."""
    from suraksha.legal import answer_request

    actor, role = _staff(user)
    _print_request(answer_request(ref, note, actor, role))


@legal_app.command("approve")
@one_line_errors
def approve_cmd(
    ref: str = typer.Argument(...), user: str = typer.Option(..., "--user"), note: str = typer.Option(None, "--note")
) -> None:
    """Legal review: approve the answer (legal role; no check failing, no data point pending)."""
    from suraksha.legal import approve

    actor, role = _staff(user)
    r = approve(ref, actor, role, note)
    typer.echo(f"{r.reference} approved by {r.approved_by}")


@legal_app.command("package")
@one_line_errors
def package_cmd(
    ref: str = typer.Argument(...),
    user: str = typer.Option(..., "--user"),
    out: Path = typer.Option(None, "--out", help="Also write the ZIP here."),
) -> None:
    """Build the signed disclosure package for an approved request (legal role)."""
    from suraksha.legal import build_package, download_disclosure

    actor, role = _staff(user)
    d = build_package(ref, actor, role)
    typer.echo(f"disclosure {d.id}: {d.filename} ({d.size} bytes) sha256={d.sha256}")
    if out:
        got = download_disclosure(d.id, actor, None)
        out.write_bytes(got.content)
        typer.echo(f"written to {out}")


# --------------------------------------------------------------------------- disclosures
UNPINNED_EXIT = 3  # intact against the key the package carries, but who signed it was not checked


def _normalise_fingerprint(value: str) -> str:
    """``ab12 cd34 ...`` as ``suraksha disclosure key`` prints it (spaces, colons and case ignored)."""
    digits = "".join(ch for ch in value.lower() if ch not in " :-")
    if len(digits) != 32 or any(ch not in "0123456789abcdef" for ch in digits):
        raise CliError("--fingerprint must be the 32 hex digits `suraksha disclosure key` prints (e.g. 'ab12 cd34 ...')")
    return " ".join(digits[i : i + 4] for i in range(0, 32, 4))


@disclosure_app.command("verify")
@one_line_errors
def verify_cmd(
    zip_path: Path = typer.Argument(..., help="The disclosure ZIP."),
    public_key: Path = typer.Option(
        None, "--public-key", help="The platform's public key (PEM or base64 file from `suraksha disclosure key`) to pin."
    ),
    pinned_fingerprint: str = typer.Option(
        None,
        "--fingerprint",
        help="The platform key's fingerprint, obtained from the platform over another channel, to pin instead of a key file.",
    ),
) -> None:
    """Check the manifest signature and every file's SHA-256 against a pinned platform key.

    Exit 0: intact and signed by the pinned key. 1: a problem (one `error:` line each). 3: intact,
    but no key was pinned, so only integrity against the key inside the package was checked, not
    who signed it: anyone can change a package and re-sign it with a key of their own.
    """
    from suraksha.legal import verify_package
    from suraksha.legal.signing import fingerprint, parse_public_key, public_key_raw

    if public_key is not None and pinned_fingerprint is not None:
        raise CliError("give --public-key or --fingerprint, not both")
    expected_fp = _normalise_fingerprint(pinned_fingerprint) if pinned_fingerprint is not None else None
    key = public_key.read_bytes() if public_key else None
    v = verify_package(zip_path, key)
    errors = list(v.errors)
    fp = fingerprint(public_key_raw(parse_public_key(v.public_key))) if v.public_key else "-"
    if v.ok and expected_fp is not None and fp != expected_fp:
        errors.append(f"signed by the key with fingerprint {fp}, not the pinned {expected_fp} (re-signed by someone else)")
    if errors:
        for e in errors:
            typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1)
    if key is not None or expected_fp is not None:
        typer.echo(
            f"ok: {v.reference}: signature valid and {v.files_checked} file(s) match; signed by the pinned key, fingerprint {fp}"
        )
        return
    typer.echo(
        f"integrity only: {v.reference}: signature valid for the key inside the package and {v.files_checked} "
        f"file(s) match; signer NOT checked (key fingerprint {fp})"
    )
    typer.echo(
        "WARNING: no pinned key: this proves only that the package is intact against the key it carries, not "
        "who signed it (a changed package re-signed with another key passes this check). Pin the platform's key "
        "with --public-key FILE or --fingerprint '<fingerprint>', obtained from the platform over another channel.",
        err=True,
    )
    raise typer.Exit(UNPINNED_EXIT)


@disclosure_app.command("key")
@one_line_errors
def key_cmd(
    pem: bool = typer.Option(False, "--pem", help="PEM instead of base64."),
    new: bool = typer.Option(False, "--new", help="Print a NEW private key for SURAKSHA_DISCLOSURE_SIGNING_KEY."),
) -> None:
    """Print the platform's disclosure signing public key (give it to agencies to pin)."""
    from suraksha.legal.signing import (
        fingerprint,
        new_private_key_b64,
        public_key_b64,
        public_key_pem,
        public_key_raw,
        signing_key,
    )

    if new:
        typer.echo(new_private_key_b64())
        return
    typer.echo(public_key_pem().rstrip() if pem else public_key_b64())
    typer.echo(f"fingerprint: {fingerprint(public_key_raw(signing_key()))}", err=True)


@disclosure_app.command("download")
@one_line_errors
def download_cmd(
    disclosure_id: int = typer.Argument(...), out: Path = typer.Option(..., "--out"), user: str = typer.Option(..., "--user")
) -> None:
    """Write a disclosure ZIP to a file (staff; audited)."""
    from suraksha.legal import download_disclosure

    actor, _ = _staff(user)
    got = download_disclosure(disclosure_id, actor, None)
    out.write_bytes(got.content)
    typer.echo(f"{got.filename} written to {out} (sha256 {got.sha256})")
