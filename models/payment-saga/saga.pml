/*
 * Payment saga run by a durable-execution worker (Promela, checked with SPIN).
 *
 * A transfer of AMOUNT from account A to account B in three steps: debit A, credit B,
 * and, when the credit is rejected, the compensation "refund A". A worker executes the
 * steps as activities against a bank service; the engine records each completed step in
 * a durable history. The environment may:
 *   - crash the worker at any point (at most MAXCRASH times); the restarted worker
 *     replays the history and runs again only the steps not recorded as completed, so
 *     a step whose effect was applied but not yet recorded is retried;
 *   - deliver a request twice (at most MAXDUP duplicates);
 *   - reject the debit (insufficient funds) or the credit (account closed).
 * The bank deduplicates requests by their idempotency key (one key per step here).
 *
 * Compile with -DSEEDED_BUG for the variant whose refund is not deduplicated: a retried
 * or duplicated compensation then refunds twice.
 */

#define AMOUNT   10
#define A0       50
#define B0       20
#define TOTAL    (A0 + B0)
#define MAXCRASH 2
#define MAXDUP   1

mtype = { DEBIT, CREDIT, REFUND };

chan req = [4] of { mtype };            /* worker -> bank: requests, possibly duplicated  */
chan rep = [8] of { mtype, bool };      /* bank -> worker: (step, accepted)               */

int  balA = A0, balB = B0;              /* the two accounts                               */
bool funds_ok, dest_open;               /* the business outcomes, chosen by the environment */

/* the bank's records: step seen (idempotency key), its outcome, its effect applied */
bool seen_debit, seen_credit, seen_refund;
bool ok_debit, ok_credit;
bool eff_debit, eff_credit, eff_refund;
byte applied_debit, applied_credit, applied_refund;   /* effect applications, counted */

/* the engine's durable history: step completed, and its outcome */
bool h_debit, h_credit, h_refund;
bool h_debit_ok, h_credit_ok, h_refund_ok;

bool started, ended;
byte crashes, dups;

/* money the saga has taken from A and not yet given to B or back to A */
#define INFLIGHT ((eff_debit - eff_credit - eff_refund) * AMOUNT)

/* A crash loses the worker's memory; it restarts by replaying the durable history. */
#define CRASH_POINT  if :: crashes < MAXCRASH -> crashes++; goto replay :: skip fi

/* Run one step as an activity unless the history records it as completed. */
#define STEP(OP, DONE, OUTCOME) \
    if \
    :: !DONE -> \
        req!OP; \
        if :: dups < MAXDUP -> dups++; req!OP :: skip fi; \
        CRASH_POINT; \
        rep??eval(OP), OUTCOME; \
        CRASH_POINT; \
        DONE = true \
    :: else -> skip \
    fi

active proctype Worker()
{
    started = true;
replay:
    STEP(DEBIT, h_debit, h_debit_ok);
    if
    :: h_debit_ok ->
        STEP(CREDIT, h_credit, h_credit_ok);
        if
        :: !h_credit_ok -> STEP(REFUND, h_refund, h_refund_ok)     /* compensate */
        :: else -> skip
        fi
    :: else -> skip
    fi;
    ended = true
}

active proctype Bank()
{
    mtype op;
    if :: funds_ok = true  :: funds_ok = false  fi;
    if :: dest_open = true :: dest_open = false fi;
end:
    do
    :: req?op ->
        atomic {
            if
            :: op == DEBIT ->
                if
                :: !seen_debit ->
                    seen_debit = true; ok_debit = funds_ok;
                    if :: ok_debit -> balA = balA - AMOUNT; eff_debit = true; applied_debit++
                       :: else -> skip fi
                :: else -> skip
                fi;
                rep!DEBIT, ok_debit
            :: op == CREDIT ->
                if
                :: !seen_credit ->
                    seen_credit = true; ok_credit = dest_open;
                    if :: ok_credit -> balB = balB + AMOUNT; eff_credit = true; applied_credit++
                       :: else -> skip fi
                :: else -> skip
                fi;
                rep!CREDIT, ok_credit
            :: op == REFUND ->
#ifdef SEEDED_BUG
                /* the bug: the refund ignores its idempotency key */
                balA = balA + AMOUNT; eff_refund = true; applied_refund++;
#else
                if
                :: !seen_refund ->
                    seen_refund = true;
                    balA = balA + AMOUNT; eff_refund = true; applied_refund++
                :: else -> skip
                fi;
#endif
                rep!REFUND, true
            fi
        }
    od
}

/* Fund conservation: money is moved, never created or destroyed. */
ltl conservation { [] (balA + balB + INFLIGHT == TOTAL) }

/* Atomicity: once the saga has ended, either every step took effect or none did. */
ltl atomicity { [] (ended -> ((balA == A0 - AMOUNT && balB == B0 + AMOUNT) ||
                              (balA == A0 && balB == B0))) }

/* Idempotence: however often a step is retried or redelivered, its effect applies once. */
ltl idempotence { [] (applied_debit <= 1 && applied_credit <= 1 && applied_refund <= 1) }

/* Liveness: every started saga ends (checked under weak fairness). */
ltl termination { [] (started -> <> ended) }
