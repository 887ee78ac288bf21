/**
 * Which outbox shards this replica's relay should hold, decided afresh every round from what
 * Postgres says about everyone's locks (outbox-store.ts). Pure: no I/O, so every case of joining,
 * leaving, dying and stalling is a unit test.
 *
 * Each of the R members (the relaying sessions, ordered by backend pid) has a quota of the S
 * shards: floor(S/R), one more for the first S mod R ranks, so the quotas add up to S and
 * everyone computes the same ones from the same facts. A member over its quota releases the
 * excess; a member under it takes free shards. Shards move only as far as the quotas make them:
 * a survivor keeps what it held and takes a dead member's share. A shard that stays free for
 * two rounds of this member (nobody under quota is taking it: a member just joined and has not
 * had its round, or it stalled) is rescued by whoever sees it, so no shard waits on a member
 * that does not act; a rescued shard is kept, beyond the quota, until membership changes or
 * `rescueRounds` rounds pass.
 */
export interface ShardRoundInput {
  shardCount: number;
  /** backend pids of the sessions relaying with this shard count, this one included */
  members: readonly number[];
  /** shard -> backend pid of the session holding it; absent = free */
  holders: ReadonlyMap<number, number>;
  me: number;
  state: ShardRoundState;
}

/** What a member remembers between rounds. */
export interface ShardRoundState {
  /** the membership of the previous round, sorted */
  members: readonly number[];
  /** shards that were free after the previous round */
  freeLastRound: ReadonlySet<number>;
  /** shards held only because nobody took them: shard -> rounds left before offering them back */
  rescued: ReadonlyMap<number, number>;
}

export interface ShardRoundPlan {
  acquire: number[];
  release: number[];
  /** the state to pass to the next round, assuming every acquire succeeded */
  next: ShardRoundState;
}

export const INITIAL_SHARD_ROUND_STATE: ShardRoundState = {
  members: [],
  freeLastRound: new Set(),
  rescued: new Map(),
};

/** Rounds a rescued shard is kept before it is offered back to its natural owner. */
export const DEFAULT_RESCUE_ROUNDS = 30;

/** How many of `shardCount` shards `member` should hold among `members`. */
export function shardQuota(shardCount: number, members: readonly number[], member: number): number {
  const sorted = [...members].sort((a, b) => a - b);
  const rank = sorted.indexOf(member);
  if (rank < 0) return 0;
  return Math.floor(shardCount / sorted.length) + (rank < shardCount % sorted.length ? 1 : 0);
}

export function planShardRound(
  input: ShardRoundInput,
  rescueRounds: number = DEFAULT_RESCUE_ROUNDS,
): ShardRoundPlan {
  const members = [...new Set([...input.members, input.me])].sort((a, b) => a - b);
  const membershipChanged =
    members.length !== input.state.members.length ||
    members.some((member, index) => member !== input.state.members[index]);
  const quota = shardQuota(input.shardCount, members, input.me);
  const mine: number[] = [];
  const free: number[] = [];
  for (let shard = 0; shard < input.shardCount; shard++) {
    const holder = input.holders.get(shard);
    if (holder === input.me) mine.push(shard);
    else if (holder === undefined) free.push(shard);
  }

  // A new membership gives every member its quota again: nothing stays rescued.
  const rescued = new Map<number, number>();
  if (!membershipChanged)
    for (const [shard, roundsLeft] of input.state.rescued)
      if (mine.includes(shard) && roundsLeft > 0) rescued.set(shard, roundsLeft - 1);
  const kept = mine.filter((shard) => !rescued.has(shard));

  const release = kept.slice(quota);
  // Members short of their quota start looking at different free shards (by rank), so that
  // two of them taking shards in the same moment rarely try the same locks.
  const rank = members.indexOf(input.me);
  const offset =
    free.length > 0 ? (rank * Math.ceil(free.length / members.length)) % free.length : 0;
  const candidates = [...free.slice(offset), ...free.slice(0, offset)];
  const acquire = candidates.slice(0, Math.max(0, quota - kept.length));
  if (!membershipChanged)
    for (const shard of candidates)
      if (!acquire.includes(shard) && input.state.freeLastRound.has(shard)) {
        acquire.push(shard);
        rescued.set(shard, rescueRounds);
      }
  return {
    acquire,
    release,
    next: {
      members,
      // What this member releases now is not counted: others get two rounds to take it.
      freeLastRound: new Set(free.filter((shard) => !acquire.includes(shard))),
      rescued,
    },
  };
}
