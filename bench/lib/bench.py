#!/usr/bin/env python3
"""Helpers for bench/run (standard library only).

  bench.py tokens PREFIX COUNT          the tokens seeded as PREFIX1..PREFIXCOUNT, one a line
  bench.py seed-sqlite DB SPEC...       bulk rows on SQLite (SPEC: account:assigned:reserved:open)
  bench.py ready BIN PORT RUNS          spawn BIN RUNS times, print start→/readyz 200 in ms
  bench.py wait-ready PORT SECONDS      wait for /readyz 200
  bench.py table RESULTS                the tables, from the lines bench/run collected
  bench.py latencies DIR                 "N tps, p50 X ms, p99 Y ms" from pgbench -l logs in DIR
  bench.py statements LOGFILE OFFSET DB PIDS
                                        the statements of the given backends since OFFSET

Seeded tokens are deterministic, so both sides can compute them without
reading anything back: token(seed) = "inv_" + base64url(sha256(seed)) without
padding (the service's shape: 32 bytes → 43 characters), and the stored
token_hash is the SHA-256 hex of the token, exactly as src/domain/token.rs does.
bench/lib/seed_pg.sql computes the same in SQL.
"""

import base64
import hashlib
import http.client
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone


def token(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "inv_" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def cmd_tokens(prefix: str, count: str) -> None:
    out = sys.stdout
    for i in range(1, int(count) + 1):
        out.write(token(f"{prefix}{i}") + "\n")


# --- SQLite seeding: the same rows as bench/lib/seed_pg.sql -------------------


def sqlite_ts(moment: datetime) -> str:
    # Diesel stores a NaiveDateTime on SQLite as text "YYYY-MM-DD HH:MM:SS.ffffff".
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def seed_sqlite_account(db, account, assigned, reserved, open_count):
    """Adds to a bootstrapped account: `assigned` users each holding a license,
    `reserved` pending invitations each holding one (tokens seeded
    "a{account}-{n}"), then `open` open licenses, in that id order (so the
    open ones come last, after every held one)."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    ts = sqlite_ts(now - timedelta(days=2))
    expires = sqlite_ts(now - timedelta(days=2) + timedelta(days=30))
    owner_id, password_hash = db.execute(
        "SELECT id, password_hash FROM users WHERE account_id = ? AND role = 'primary_subscriber'",
        (account,),
    ).fetchone()
    (billing,) = db.execute("SELECT billing_system FROM accounts WHERE id = ?", (account,)).fetchone()
    ltype = "attorney" if billing == "classic" else "user"
    prefix = f"a{account}-"
    db.executemany(
        "INSERT INTO users (account_id, email, email_normalized, first_name, last_name, password_hash,"
        " role, subscriber_type, permissions, status, created_at, updated_at)"
        " VALUES (?, ?, ?, 'Seeded', ?, ?, 'standard', 'attorney', '[]', 'active', ?, ?)",
        (
            (account, f"{prefix}member{n}@seed.example", f"{prefix}member{n}@seed.example",
             f"Member {n}", password_hash, ts, ts)
            for n in range(1, assigned + 1)
        ),
    )
    db.execute(
        "INSERT INTO licenses (account_id, license_type, state, invitation_id, user_id, created_at, updated_at)"
        " SELECT account_id, ?, 'assigned', NULL, id, ?, ? FROM users"
        " WHERE account_id = ? AND id <> ? ORDER BY id",
        (ltype, ts, ts, account, owner_id),
    )
    db.executemany(
        "INSERT INTO invitations (account_id, email, email_normalized, role, subscriber_type, permissions,"
        " message, status, token_hash, expires_in_days, expires_at, invited_by_user_id, send_count,"
        " last_sent_at, delivery, license_type, created_at, updated_at)"
        " VALUES (?, ?, ?, 'standard', 'attorney', '[]', NULL, 'pending', ?, 30, ?, ?, 1, ?, 'sent', ?, ?, ?)",
        (
            (account, f"{prefix}invitee{n}@seed.example", f"{prefix}invitee{n}@seed.example",
             token_hash(token(f"{prefix}{n}")), expires, owner_id, ts, ltype, ts, ts)
            for n in range(1, reserved + 1)
        ),
    )
    db.execute(
        "INSERT INTO licenses (account_id, license_type, state, invitation_id, user_id, created_at, updated_at)"
        " SELECT account_id, ?, 'reserved', id, NULL, ?, ? FROM invitations WHERE account_id = ? ORDER BY id",
        (ltype, ts, ts, account),
    )
    db.executemany(
        "INSERT INTO licenses (account_id, license_type, state, invitation_id, user_id, created_at, updated_at)"
        " VALUES (?, ?, 'open', NULL, NULL, ?, ?)",
        ((account, ltype, ts, ts) for _ in range(open_count)),
    )


def cmd_seed_sqlite(path: str, *specs: str) -> None:
    db = sqlite3.connect(path, timeout=30)
    db.execute("PRAGMA foreign_keys = ON")
    with db:
        for spec in specs:
            account, assigned, reserved, open_count = (int(x) for x in spec.split(":"))
            seed_sqlite_account(db, account, assigned, reserved, open_count)
    db.close()


# --- readiness ------------------------------------------------------------------


def readyz(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/readyz")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def cmd_wait_ready(port: str, seconds: str) -> None:
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        if readyz(int(port)):
            return
        time.sleep(0.02)
    sys.exit(f"the service did not answer /readyz 200 on port {port} within {seconds} s")


def cmd_ready(binary: str, port: str, runs: str) -> None:
    """Time from spawning the binary (environment as for the load run; the
    database already migrated) to the first /readyz 200, polled every ms."""
    times = []
    for _ in range(int(runs)):
        started = time.perf_counter()
        child = subprocess.Popen([binary], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                if readyz(int(port)):
                    times.append((time.perf_counter() - started) * 1000)
                    break
                if child.poll() is not None:
                    sys.exit(f"the service exited with {child.returncode} before it was ready")
                if time.perf_counter() - started > 30:
                    sys.exit("the service was not ready within 30 s")
                time.sleep(0.001)
        finally:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    print(f"{statistics.median(times):.0f} {min(times):.0f} {max(times):.0f}")


# --- the table --------------------------------------------------------------------


def cmd_table(path: str) -> None:
    """RESULTS lines (tab-separated):
      op BACKEND OPERATION REQUESTS DURATION_US P50_US P99_US ERRORS PEAK_RSS_KIB
         SERVICE_CPU_US PG_CPU_US BOUND_TPS   (the last two may be empty)
      info BACKEND KEY VALUE…
    """
    ops: dict[str, list] = {}
    info: dict[str, list] = {}
    for line in open(path, encoding="utf-8"):
        fields = line.rstrip("\n").split("\t")
        if fields[0] == "op":
            ops.setdefault(fields[1], []).append(fields[2:])
        elif fields[0] == "info":
            info.setdefault(fields[1], []).append(fields[2:])
    for backend in list(dict.fromkeys(list(ops) + list(info))):
        rows = [["operation", "req/s", "p50", "p99", "errors", "CPU/req service", "CPU/req PG",
                 "peak RSS", "bound (tps)", "service ÷ bound"]]
        for op, requests, duration, p50, p99, errors, rss, cpu, pg_cpu, bound in ops.get(backend, []):
            rate = int(requests) / (int(duration) / 1e6) if int(duration) else 0.0
            bound_tps = float(bound) if bound else None
            per = lambda us: f"{int(us) / int(requests) / 1000:.2f} ms" if us and int(requests) else ""
            rows.append([
                op,
                f"{rate:,.0f}",
                ms(int(p50)),
                ms(int(p99)),
                f"{int(errors):,}" + (f" / {int(requests):,}" if int(errors) else ""),
                per(cpu),
                per(pg_cpu),
                f"{int(rss) / 1024:.0f} MiB" if rss else "",
                f"{bound_tps:,.0f}" if bound_tps else "",
                f"{rate / bound_tps:.2f}" if bound_tps else "",
            ])
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        print(f"\n{backend}")
        for n, row in enumerate(rows):
            cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
            print("| " + " | ".join(cells) + " |")
            if n == 0:
                print("|" + "|".join("-" * (w + 1) + (":" if i else "-") for i, w in enumerate(widths)) + "|")
        for key, *values in info.get(backend, []):
            print(f"  {key}: {' '.join(values)}")


def ms(us: int) -> str:
    return f"{us / 1000:.1f} ms" if us < 100_000 else f"{us / 1000:,.0f} ms"


# --- statement log ------------------------------------------------------------------

LINE = re.compile(r"^\S+ \S+ \S+ \[(\d+)\] (\S*@\S*) ")
ENTRY = re.compile(
    r"^LOG:  duration: ([0-9.]+) ms  (?:(parse|bind) \S+|(execute) \S+|(statement)): (.*)$", re.S
)


def log_entries(logfile, offset, db, pids):
    """(pid, text) of each log entry of the given backends from byte OFFSET on
    (log_line_prefix '%m [%p] %q%u@%d '), continuation lines joined."""
    wanted = set(pids.split(","))
    entry = None
    with open(logfile, "rb") as f:
        f.seek(int(offset))
        for raw in f:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            m = LINE.match(line)
            if m:
                if entry:
                    yield entry
                entry = None
                if m.group(1) in wanted and m.group(2).endswith(f"@{db}"):
                    entry = [m.group(1), line[m.end():]]
            elif entry is not None:
                entry[1] += "\n" + line.lstrip("\t")
    if entry:
        yield entry


def statements(entries):
    """One dict per statement run: sql, ms (parse + bind + execute), params."""
    pending_ms = 0.0
    current = None
    for _pid, text in entries:
        if text.startswith("DETAIL:  parameters: ") and current is not None:
            current["params"] = text[len("DETAIL:  parameters: "):]
            continue
        m = ENTRY.match(text)
        if not m:
            continue
        ms, phase, execute, simple, sql = m.groups()
        if phase:  # parse / bind: counted with the execute that follows
            pending_ms += float(ms)
            current = None
            continue
        current = {"sql": sql.strip(), "ms": float(ms) + pending_ms, "params": ""}
        pending_ms = 0.0
        yield current


def short_params(params: str) -> str:
    parts = re.split(r", (?=\$\d+ = )", params.replace("\n", " "))
    return ", ".join(p if len(p) < 70 else p[:60] + "…'" for p in parts)


def cmd_statements(logfile: str, offset: str, db: str, pids: str) -> None:
    """The statements of one invite from the server log: those of the request
    up to its COMMIT, then what the outbox worker ran to deliver the email."""
    items = list(statements(log_entries(logfile, offset, db, pids)))
    if not items:
        sys.exit("no statements found in the log: did the request run?")
    try:
        begin = next(i for i, s in enumerate(items) if s["sql"] == "BEGIN")
        commit = next(i for i, s in enumerate(items) if i > begin and s["sql"] == "COMMIT")
    except StopIteration:  # a request without a transaction
        begin, commit = None, len(items) - 1
    sections = [("The request", items[: commit + 1]), ("Then the outbox worker, delivering its email", items[commit + 1 :])]
    for title, part in sections:
        if not part:
            continue
        total = sum(s["ms"] for s in part)
        print(f"\n-- {title}: {len(part)} statements, {total:.2f} ms in PostgreSQL")
        print("--    ms  (parse + bind + execute; a round trip each)")
        for s in part:
            print(f"{s['ms']:8.3f}  {s['sql']};")
            if s["params"]:
                print(f"          -- {short_params(s['params'])}")
    request = items[: commit + 1]
    locked = next((i for i, s in enumerate(request) if s["sql"].startswith('UPDATE "accounts" SET "lock_version"')), None)
    print(f"\n-- The request: {len(request)} statements", end="")
    if begin is not None:
        print(f"; {commit - begin + 1} from BEGIN to COMMIT", end="")
    if locked is not None:
        print(f", {commit - locked - 1} of them between taking the account lock and COMMIT", end="")
    print(".")


def cmd_latencies(directory: str) -> None:
    """pgbench -l writes one line per transaction to pgbench_log.*:
    client_id transaction_no latency_us script_no epoch_s epoch_us."""
    latencies, stamps = [], []
    for name in os.listdir(directory):
        if not name.startswith("pgbench_log."):
            continue
        for line in open(os.path.join(directory, name), encoding="utf-8"):
            fields = line.split()
            if len(fields) >= 6:
                latencies.append(int(fields[2]))
                stamps.append(int(fields[4]) + int(fields[5]) / 1e6)
    if not latencies:
        sys.exit("no pgbench log lines")
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    span = max(stamps) - min(stamps) or 1.0
    print(f"{len(latencies) / span:,.0f} tps, p50 {ms(pick(0.50))}, p99 {ms(pick(0.99))}")


def main() -> None:
    commands = {
        "tokens": cmd_tokens,
        "seed-sqlite": cmd_seed_sqlite,
        "ready": cmd_ready,
        "wait-ready": cmd_wait_ready,
        "table": cmd_table,
        "statements": cmd_statements,
        "latencies": cmd_latencies,
    }
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
