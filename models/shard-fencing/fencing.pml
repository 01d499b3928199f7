/*
 * Shard ownership with a fencing token (Promela, checked with SPIN).
 *
 * Temporal's History Service assigns each history shard to one host at a time. A host
 * takes a shard by incrementing the shard's range ID in the database (a conditional,
 * compare-and-set update), and every later write for that shard is conditional on the
 * range ID still being the one it acquired; a failed condition means the shard was
 * taken over, and the host gives it up. Here HOSTS hosts compete for one shard: each
 * may (re)acquire it at any time, up to MAXGEN generations in all, and write while it
 * believes it owns it. A host that is slow (paused, partitioned) keeps believing it owns
 * the shard: its writes are what the fencing check must stop.
 *
 * Compile with -DSEEDED_BUG for the variant whose write skips the range ID check.
 */

#define HOSTS  2
#define MAXGEN 3
#define MAXW   2     /* writes per host */

byte range = 0;                 /* the shard's range ID in the database: its generation */
byte owner[MAXGEN + 1];         /* owner[g]: the host that acquired generation g (hosts 1..HOSTS) */
byte committer[MAXGEN + 1];     /* committer[g]: the first host that committed in generation g */
bool two_owners = false;        /* two different hosts committed in one generation */

proctype Host(byte id)
{
    byte g = 0;                 /* the generation this host believes it owns (0: none) */
    byte writes = 0;
end:
    do
    :: atomic { range < MAXGEN -> range++; g = range; owner[g] = id }     /* acquire */
    :: atomic { g > 0 && writes < MAXW ->
           writes++;
#ifdef SEEDED_BUG
           /* the bug: the write does not check the range ID */
           if
           :: true ->
#else
           if
           :: range == g ->
#endif
               /* commit in the database's current generation */
               if
               :: committer[range] == 0 -> committer[range] = id
               :: committer[range] != 0 && committer[range] != id -> two_owners = true
               :: else -> skip
               fi
           :: else -> g = 0     /* condition failed: shard ownership lost */
           fi
       }
    od
}

init
{
    atomic {
        byte i = 1;
        do
        :: i <= HOSTS -> run Host(i); i++
        :: else -> break
        od
    }
}

/* Fencing: no two owners commit for the same shard generation. */
ltl fencing { [] !two_owners }

/* Every commit in generation g is made by the host that acquired g. */
ltl owner_commits { [] (committer[range] == 0 || committer[range] == owner[range]) }
