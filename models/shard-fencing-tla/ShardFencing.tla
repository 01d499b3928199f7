---------------------------- MODULE ShardFencing ----------------------------
(***************************************************************************)
(* Shard ownership fenced by the range ID: the TLA+ twin of                *)
(* models/shard-fencing/fencing.pml. A host takes the shard by incrementing *)
(* its range ID; a write commits only if the range ID is still the one the  *)
(* host acquired, otherwise the host learns it lost the shard.              *)
(*                                                                          *)
(* NOT MACHINE-CHECKED HERE: no TLA+ checker can be installed on the        *)
(* machines of this repository, so nothing is claimed about it.            *)
(***************************************************************************)
EXTENDS Naturals

CONSTANTS Hosts, MaxGen, MaxWrites

VARIABLES range,      \* the shard's range ID in the database: its generation
          believed,   \* believed[h]: the generation host h believes it owns (0: none)
          writes,     \* writes[h]: the writes host h has attempted
          committer   \* committer[g]: the hosts that committed in generation g

vars == <<range, believed, writes, committer>>

Init == /\ range = 0
        /\ believed = [h \in Hosts |-> 0]
        /\ writes = [h \in Hosts |-> 0]
        /\ committer = [g \in 0..MaxGen |-> {}]

Acquire(h) == /\ range < MaxGen
              /\ range' = range + 1
              /\ believed' = [believed EXCEPT ![h] = range + 1]
              /\ UNCHANGED <<writes, committer>>

Write(h) == /\ believed[h] > 0
            /\ writes[h] < MaxWrites
            /\ writes' = [writes EXCEPT ![h] = @ + 1]
            /\ IF range = believed[h]                           \* the fencing check
                 THEN /\ committer' = [committer EXCEPT ![range] = @ \cup {h}]
                      /\ UNCHANGED believed
                 ELSE /\ believed' = [believed EXCEPT ![h] = 0] \* ownership lost
                      /\ UNCHANGED committer
            /\ UNCHANGED range

Next == \E h \in Hosts : Acquire(h) \/ Write(h)

Spec == Init /\ [][Next]_vars

TypeOK == /\ range \in 0..MaxGen
          /\ believed \in [Hosts -> 0..MaxGen]
          /\ writes \in [Hosts -> 0..MaxWrites]
          /\ committer \in [0..MaxGen -> SUBSET Hosts]

\* Fencing: no two owners commit for the same shard generation.
NoTwoOwnersCommit == \A g \in 0..MaxGen : \A h1, h2 \in committer[g] : h1 = h2
=============================================================================
