/**
 * Redis answers that mean "the store cannot serve us right now" although the connection is up:
 * the caller answers 503 (fail closed) and the operator is told, once, what to look at. Anything
 * else (WRONGTYPE, a script's own error) stays a bug and a 500.
 */
export interface RedisProblem {
  /** short name, for the log and for logging each kind once */
  kind: string;
  /** what an operator should check */
  hint: string;
}

const REPLY_PROBLEMS: [RegExp, string, string][] = [
  [/^(MOVED|ASK) \d+/, 'redirected', 'this Redis is a Cluster node: name the Cluster in REDIS_CLUSTER_NODES (REDIS_URL speaks to one server only)'],
  [/^CROSSSLOT/, 'crossslot', 'a command spanned several Cluster slots; this is a bug in Sleutel, please report it with this line'],
  [/^READONLY/, 'readonly', 'writes reach a replica: after a failover the old master serves as replica; point REDIS_URL at the master or use REDIS_SENTINELS'],
  [/^LOADING/, 'loading', 'Redis is loading its data set after a restart; it answers once loaded'],
  [/^OOM/, 'oom', 'Redis reached maxmemory: give it more (keep maxmemory-policy noeviction: an evicted consumed-code mark would let a code be used twice)'],
  [/^CLUSTERDOWN/, 'clusterdown', 'the Cluster is down or has slots without a master: run redis-cli --cluster check <node>'],
  [/^TRYAGAIN/, 'tryagain', 'a slot is being migrated; if this lasts, run redis-cli --cluster check <node> (and --cluster fix)'],
  [/^MASTERDOWN/, 'masterdown', 'the replica lost its master and does not serve stale data: check the master and the sentinels'],
  [/^NOREPLICAS/, 'noreplicas', 'fewer replicas acknowledge writes than min-replicas-to-write asks: check the replicas and their lag'],
  [/^MISCONF/, 'misconf', 'Redis cannot save its data (stop-writes-on-bgsave-error): check its disk and its log'],
  [/^(NOAUTH|WRONGPASS|NOPERM)/, 'auth', 'Redis refused the credentials: check REDIS_PASSWORD (or the password in REDIS_URL) and its ACL'],
  [/^BUSY /, 'busy', 'a long-running script blocks Redis: check SCRIPT KILL / SLOWLOG'],
];

/** Errors of ioredis' Cluster and Sentinel clients that mean no node or sentinel can serve. */
const CLIENT_PROBLEMS: [RegExp, string, string][] = [
  // ioredis refuses, before sending, an auto-pipelined command whose keys span several slots
  [/should belong to the same slot/i, 'crossslot', REPLY_PROBLEMS[1]![2]],
  [/Too many Cluster redirections/i, 'redirections', 'the Cluster keeps redirecting: a slot migration or failover is under way; run redis-cli --cluster check <node>'],
  [/Failed to refresh slots cache|None of startup nodes is available|Cluster isn't ready/i, 'cluster-unreachable', 'no node in REDIS_CLUSTER_NODES answers CLUSTER SLOTS: check the nodes, the addresses they announce and REDIS_PASSWORD'],
  [/All sentinels are unreachable|is not a master|Role mismatch|not reachable by any sentinel/i, 'sentinel', 'the sentinels name no reachable master: check REDIS_SENTINELS, REDIS_SENTINEL_MASTER and SENTINEL get-master-addr-by-name'],
];

export function redisProblem(error: unknown): RedisProblem | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name = '', message = '', lastNodeError } = error as { name?: string; message?: string; lastNodeError?: unknown };
  const text = String(message);
  if (name === 'ReplyError') {
    // a script's own failure carries the reply of the command inside it ("… script: … -READONLY …")
    const reply = /^ERR .*?: (?:@\w+:\d+: )?-?([A-Z]+ .*)$/s.exec(text)?.[1] ?? text;
    for (const [pattern, kind, hint] of REPLY_PROBLEMS) if (pattern.test(reply)) return { kind, hint };
    return undefined;
  }
  if (name === 'ClusterAllFailedError') return redisProblem(lastNodeError) ?? { kind: 'cluster-unreachable', hint: CLIENT_PROBLEMS[1]![2] };
  for (const [pattern, kind, hint] of CLIENT_PROBLEMS) if (pattern.test(text)) return { kind, hint };
  return undefined;
}
