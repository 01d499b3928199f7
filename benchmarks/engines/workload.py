"""The engine benchmark's workload, run on DBOS Transact: one worker process, driven by
`kg bench-engines` (src/kg/engines.py), that prints one JSON object per line on stdout.

Workflows
  payment-saga   debit the payer, credit the payee, notify; when the payee's account is
                 closed the credit is refused and the saga compensates (refund, notify).
                 Debit, credit and refund are DBOS datasource transactions: the balance
                 change and the engine's checkpoint commit in one database transaction.
                 Notify is a plain DBOS step (at-least-once), writing to an outbox.
  fan-out        a parent workflow starts WIDTH child workflows, each a one-transaction
                 shard, waits for all of them and sums their results in a final step.

Phases (argument --phase)
  setup       create the application tables and ACCOUNTS accounts of INITIAL each
  throughput  for each --concurrency (threads) and --repetitions, run --workflows
              workflows of --workload; report each workflow's latency, the wall time,
              the steps, the CPU time of this process and of the database server, and
              the growth of the engine's history tables
  work        enqueue --workflows transfers on a durable queue (ids fixed by --run-id)
              unless already there, then work until all have finished; prints a line
              per finished transfer, so the driver can kill -9 this process mid-run and
              start it again: DBOS's launch() then resumes the pending workflows
  verify      count each transfer's debits, credits and refunds in the ledger, the
              balances' total, the notifications and the workflows still pending (run
              after a kill, it shows the sagas the kill interrupted); print them
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from dbos import DBOS, DBOSClient, DBOSConfig, SetWorkflowID, SQLAlchemyDatasource

ACCOUNTS = 50
INITIAL = 1_000
AMOUNT = 7
CLOSED_EVERY = 10  # every 10th account is closed: credits to it are refused
FAN_WIDTH = 8
WARM_UP = 2  # workflows run before the measurements of a throughput phase

_print_lock = threading.Lock()
_ds: SQLAlchemyDatasource | None = None


def emit(**record) -> None:
    with _print_lock:
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()


def ds() -> SQLAlchemyDatasource:
    assert _ds is not None, "the datasource is created before DBOS.launch()"
    return _ds


def _session():
    return ds().sql_session()


# --------------------------------------------------------------------- payment saga
def _book(transfer_id: str, account: int, change: int, kind: str) -> None:
    """Change a balance and record the effect in the ledger, in the caller's transaction."""
    _session().execute(sa.text("UPDATE accounts SET balance = balance + :c WHERE id = :i"),
                       {"c": change, "i": account})
    _session().execute(sa.text("INSERT INTO ledger (transfer_id, account, kind, amount) "
                               "VALUES (:t, :i, :k, :a)"),
                       {"t": transfer_id, "i": account, "k": kind, "a": abs(change)})


def debit(transfer_id: str, account: int, amount: int) -> None:
    _book(transfer_id, account, -amount, "debit")


def credit(transfer_id: str, account: int, amount: int) -> bool:
    closed = _session().execute(sa.text("SELECT closed FROM accounts WHERE id = :i"),
                                {"i": account}).scalar_one()
    if closed:
        return False
    _book(transfer_id, account, amount, "credit")
    return True


def refund(transfer_id: str, account: int, amount: int) -> None:
    _book(transfer_id, account, amount, "refund")


def notify(transfer_id: str, outcome: str) -> str:
    # an external effect outside the engine's transaction: at-least-once by design
    with _outbox_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO outbox (transfer_id, outcome) VALUES (:t, :o)"),
                     {"t": transfer_id, "o": outcome})
    return outcome


def shard(job_id: str, index: int) -> int:
    value = (index + 1) * 3
    _session().execute(sa.text("INSERT INTO shards (job_id, idx, value) VALUES (:j, :i, :v)"),
                       {"j": job_id, "i": index, "v": value})
    return value


def aggregate(job_id: str, values: list[int]) -> int:
    return sum(values)


_outbox_engine: sa.Engine  # set in main()
STEPS_SAGA_COMPLETED = 3  # debit, credit, notify
STEPS_SAGA_COMPENSATED = 4  # debit, credit (refused), refund, notify


def register() -> dict:
    """Decorate the workflow functions; needs the datasource, so it runs in main()."""
    tx = ds().transaction
    d_debit, d_credit, d_refund = (tx(isolation_level="SERIALIZABLE")(f)
                                   for f in (debit, credit, refund))
    d_notify = DBOS.step()(notify)
    d_shard = tx()(shard)
    d_aggregate = DBOS.step()(aggregate)

    @DBOS.workflow(name="payment_saga")
    def payment_saga(transfer_id: str, payer: int, payee: int, amount: int) -> str:
        d_debit(transfer_id, payer, amount)
        if d_credit(transfer_id, payee, amount):
            outcome = "completed"
        else:
            d_refund(transfer_id, payer, amount)  # compensation
            outcome = "compensated"
        d_notify(transfer_id, outcome)
        emit(event="finished", transfer=transfer_id, outcome=outcome, t=time.time())
        return outcome

    @DBOS.workflow(name="fan_shard")
    def fan_shard(job_id: str, index: int) -> int:
        return d_shard(job_id, index)

    @DBOS.workflow(name="fan_out")
    def fan_out(job_id: str, width: int) -> int:
        handles = []
        for i in range(width):
            with SetWorkflowID(f"{job_id}-shard-{i}"):
                handles.append(DBOS.start_workflow(fan_shard, job_id, i))
        return d_aggregate(job_id, [h.get_result() for h in handles])

    return {"payment_saga": payment_saga, "fan_out": fan_out}


def transfer_args(n: int) -> tuple[int, int, int]:
    payer = n % ACCOUNTS
    payee = (n * 7 + 3) % ACCOUNTS
    if payee == payer:
        payee = (payee + 1) % ACCOUNTS
    return payer, payee, AMOUNT


# --------------------------------------------------------------------- phases
SCHEMA = [
    "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance BIGINT NOT NULL, "
    "closed BOOLEAN NOT NULL)",
    # no UNIQUE constraint: a duplicated effect must be visible, not prevented
    "CREATE TABLE ledger (transfer_id TEXT NOT NULL, account INTEGER NOT NULL, "
    "kind TEXT NOT NULL, amount BIGINT NOT NULL)",
    "CREATE TABLE outbox (transfer_id TEXT NOT NULL, outcome TEXT NOT NULL)",
    "CREATE TABLE shards (job_id TEXT NOT NULL, idx INTEGER NOT NULL, value BIGINT NOT NULL)",
]


def setup(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for table in ("accounts", "ledger", "outbox", "shards"):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        for statement in SCHEMA:
            conn.execute(sa.text(statement))
        conn.execute(sa.text("INSERT INTO accounts (id, balance, closed) VALUES (:i, :b, :c)"),
                     [{"i": i, "b": INITIAL, "c": i % CLOSED_EVERY == CLOSED_EVERY - 1}
                      for i in range(ACCOUNTS)])
    emit(event="setup", accounts=ACCOUNTS, initial=INITIAL)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def throughput(flows: dict, args: argparse.Namespace) -> None:
    """Each concurrency in turn, each repeated: run the workflows on that many threads."""
    workload = args.workload

    def one(run_id: str, n: int) -> tuple[float, int]:
        start = time.perf_counter()
        with SetWorkflowID(f"{run_id}-{n}"):
            if workload == "payment-saga":
                outcome = flows["payment_saga"](f"{run_id}-{n}", *transfer_args(n))
                steps = (STEPS_SAGA_COMPLETED if outcome == "completed"
                         else STEPS_SAGA_COMPENSATED)
            else:
                flows["fan_out"](f"{run_id}-{n}", FAN_WIDTH)
                steps = FAN_WIDTH + 1
        return time.perf_counter() - start, steps

    for n in range(WARM_UP):  # first calls open connections and fill caches: not measured
        one(f"{args.run_id}-{workload}-warm-up", n)
    for concurrency in (int(c) for c in args.concurrency.split(",")):
        for repetition in range(args.repetitions):
            run_id = f"{args.run_id}-{workload}-c{concurrency}-r{repetition}"
            bytes0, db0 = storage_bytes(args.sys_db), db_cpu_seconds(args.db_port)
            cpu0, wall0 = cpu_seconds(), time.perf_counter()
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                results = list(pool.map(lambda n, r=run_id: one(r, n), range(args.workflows)))
            wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
            db_cpu = db_cpu_seconds(args.db_port) - db0
            emit(event="throughput", workload=workload, concurrency=concurrency,
                 repetition=repetition, workflows=args.workflows,
                 steps=sum(s for _, s in results), wall_s=round(wall, 6),
                 cpu_worker_s=round(cpu, 6), cpu_db_s=round(db_cpu, 6),
                 history_bytes=storage_bytes(args.sys_db) - bytes0,
                 latencies_ms=[round(lat * 1000, 3) for lat, _ in results])


def db_cpu_seconds(port: int | None) -> float:
    """CPU time of the PostgreSQL server (0 for SQLite, which runs in this process and
    is counted in this process's own CPU time)."""
    if port is None:
        return 0.0
    from kg.lab.postgres import server_cpu_seconds
    return server_cpu_seconds(port)


def durability(sys_url: str) -> dict:
    """The durability settings the engine's database runs with."""
    if sys_url.startswith("sqlite"):
        engine = sa.create_engine(sys_url)
        with engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        engine.dispose()
        names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
        return {"journal_mode": str(mode), "synchronous": names.get(int(sync), str(sync))}
    engine = sa.create_engine(sys_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        found = {name: conn.execute(sa.text(f"SHOW {name}")).scalar_one()
                 for name in ("synchronous_commit", "fsync", "wal_level",
                              "default_transaction_isolation")}
    engine.dispose()
    return found


def wait_all(ids: list[str]) -> None:
    while True:
        statuses = DBOS.list_workflows(workflow_ids=ids, load_input=False, load_output=False)
        done = sum(1 for s in statuses if s.status in ("SUCCESS", "ERROR"))
        if done == len(ids):
            return
        time.sleep(0.05)


def work(flows: dict, count: int, concurrency: int, run_id: str) -> None:
    queue = DBOS.register_queue("transfers", worker_concurrency=concurrency,
                                polling_interval_sec=0.05)
    ids = [f"{run_id}-{n}" for n in range(count)]
    existing = {s.workflow_id for s in DBOS.list_workflows(workflow_ids=ids, load_input=False,
                                                             load_output=False)}
    for n, workflow_id in enumerate(ids):
        if workflow_id not in existing:
            with SetWorkflowID(workflow_id):
                queue.enqueue(flows["payment_saga"], workflow_id, *transfer_args(n))
    emit(event="enqueued", workflows=count)
    wait_all(ids)
    emit(event="all-finished", workflows=count)


def verify(engine: sa.Engine, sys_url: str, run_id: str, count: int) -> None:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT transfer_id, kind, COUNT(*) FROM ledger WHERE transfer_id LIKE :p "
            "GROUP BY transfer_id, kind"), {"p": f"{run_id}-%"}).all()
        total = conn.execute(sa.text("SELECT SUM(balance) FROM accounts")).scalar_one()
        notes = conn.execute(sa.text(
            "SELECT transfer_id, COUNT(*) FROM outbox WHERE transfer_id LIKE :p "
            "GROUP BY transfer_id"), {"p": f"{run_id}-%"}).all()
    effects: dict[str, dict[str, int]] = {}
    for transfer, kind, n in rows:
        effects.setdefault(transfer, {})[kind] = int(n)
    ids = [f"{run_id}-{n}" for n in range(count)]
    debits = [effects.get(t, {}).get("debit", 0) for t in ids]
    settled = [effects.get(t, {}).get("credit", 0) + effects.get(t, {}).get("refund", 0)
               for t in ids]
    notified = dict(notes)
    client = DBOSClient(system_database_url=sys_url)
    try:
        pending = len(client.list_workflows(workflow_id_prefix=f"{run_id}-", status="PENDING",
                                            load_input=False, load_output=False))
    finally:
        client.destroy()
    emit(event="verify", transfers=count, pending_workflows=pending,
         interrupted_sagas=sum(1 for d, s in zip(debits, settled, strict=True) if d and not s),
         lost_debits=sum(1 for d in debits if d == 0),
         duplicated_debits=sum(d - 1 for d in debits if d > 1),
         unsettled=sum(1 for s in settled if s != 1),
         balance_total=int(total), balance_expected=ACCOUNTS * INITIAL,
         notifications=sum(notified.values()),
         duplicated_notifications=sum(n - 1 for n in notified.values() if n > 1))


def storage_bytes(sys_url: str) -> int:
    """Bytes the engine's own tables (its history) take."""
    if sys_url.startswith("sqlite"):
        path = sys_url.split("///", 1)[1]
        engine = sa.create_engine(sys_url)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        return os.path.getsize(path)
    engine = sa.create_engine(sys_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        size = conn.execute(sa.text(
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'dbos' AND c.relkind = 'r'")).scalar_one()
    engine.dispose()
    return int(size)


def main(argv: list[str] | None = None) -> None:
    global _ds, _outbox_engine
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phase", required=True,
                        choices=["setup", "throughput", "work", "verify"])
    parser.add_argument("--sys-db", required=True, help="system database URL")
    parser.add_argument("--app-db", required=True, help="application database URL")
    parser.add_argument("--workload", default="payment-saga",
                        choices=["payment-saga", "fan-out"])
    parser.add_argument("--workflows", type=int, default=10)
    parser.add_argument("--concurrency", default="1",
                        help="threads; for throughput a comma-separated list")
    parser.add_argument("--repetitions", type=int, default=1)
    parser.add_argument("--db-port", type=int, default=None,
                        help="the PostgreSQL server's port, to read its CPU time")
    parser.add_argument("--run-id", default="run")
    args = parser.parse_args(argv)

    # SQLite: wait for a lock as long as DBOS's own connections do (30 s), not 5 s
    app_engine = sa.create_engine(args.app_db, connect_args={"timeout": 30}
                                  if args.app_db.startswith("sqlite") else {})
    if args.phase == "setup":
        return setup(app_engine)
    if args.phase == "verify":
        return verify(app_engine, args.sys_db, args.run_id, args.workflows)
    _outbox_engine = app_engine
    _ds = SQLAlchemyDatasource.create(args.app_db)
    flows = register()
    config: DBOSConfig = {"name": "kg-bench", "system_database_url": args.sys_db,
                          "log_level": "WARNING"}
    DBOS(config=config)
    DBOS.launch()
    emit(event="launched", t=time.time(), pid=os.getpid(), durability=durability(args.sys_db))
    if args.phase == "throughput":
        throughput(flows, args)
    else:  # work (after a kill, launch() has already resumed the pending workflows)
        work(flows, args.workflows, int(args.concurrency), args.run_id)
    DBOS.destroy()


if __name__ == "__main__":
    main()
