import type { Argon2Result } from './argon2.js';
import type { Step } from './logins.js';

type Latency = { p50: number | null; p99: number | null; n: number };
type Side = { cpuMsPerRequest: number | null; requests: number; failed: number; perSecond: number; p50: number; p99: number };
type LoginSummary = {
  /** median over the rounds of the server's CPU per login (all threads, ms) */
  server_cpu_ms_per_login: number | null;
  round_cpu_ms: (number | null)[];
  logins: number;
  failed: number;
  driver_cpu_ms_per_login: number;
  /** for information: logins per second, `concurrency` at a time (moves with the host) */
  per_second: number;
  steps: Record<Step, Latency>;
  /** the server's CPU per HTTP request of a login, one login at a time */
  cpu_ms_per_request: Record<string, number>;
};
type LoginRatio = { ratio: number | null; round_ratios: (number | null)[] };

export const ENDPOINTS = ['client_credentials', 'refresh_token', 'userinfo', 'introspection'] as const;
export type EndpointName = (typeof ENDPOINTS)[number];
export type LoginKind = 'two_factor' | 'password_only';
export type Phase = { name: string; server: 'sleutel' | 'bare' | 'sleutel_cluster'; operations: number; start_us: number; end_us: number };

/** The token endpoints measured on the Redis Cluster too. */
export const CLUSTER_ENDPOINTS = ['client_credentials', 'refresh_token', 'userinfo'] as const;
export type ClusterEndpointName = (typeof CLUSTER_ENDPOINTS)[number];
/** One side of the Cluster comparison: the Sleutel process's CPU per operation (ms) and, for information, throughput. */
export type ClusterSide = { cpu_ms: number | null; round_cpu_ms: (number | null)[]; operations: number; failed: number; per_second: number };
export type ClusterComparison = {
  cluster: ClusterSide;
  single: ClusterSide;
  /** median over the rounds of Cluster CPU / single-Redis CPU per operation */
  cpu_ratio: number | null;
  round_ratios: (number | null)[];
  /** Cluster / single operations per second (information: moves with the host) */
  throughput_ratio: number | null;
};
/**
 * A second Sleutel process on a 3-master Redis Cluster (REDIS_CLUSTER_NODES), same Postgres
 * database, measured in alternating rounds with the single-Redis one; `skipped` says why not.
 */
export type ClusterReport =
  | { skipped: string }
  | { skipped: null; masters: number; logins: ClusterComparison & { concurrency: number }; endpoints: Record<ClusterEndpointName, ClusterComparison> };

/** What `npm run bench` writes as JSON (bench/results/latest.json) and prints as a table. */
export interface Report {
  started_at: string;
  finished_at: string;
  smoke: boolean;
  machine: {
    cores: number;
    cpu: string;
    node: string;
    load_average_at_start: number[];
    load_average_at_end: number[];
    sleutel_node_options: string;
    sleutel_password_hashing_concurrency: number;
    /** the servers' process ids (their CPU profiles are named after them) */
    pids?: { sleutel: number; bare: number; sleutel_cluster?: number };
  };
  plan: Record<string, number>;
  /** one verify's CPU: the median over the login rounds */
  argon2: Argon2Result & { round_cpu_ms: number[] };
  logins: {
    two_factor: LoginSummary & LoginRatio;
    password_only: LoginSummary & LoginRatio;
    bare: LoginSummary;
    concurrency: number;
    waits_for_fresh_time_step: number;
    serial_failed: number;
  };
  endpoints: Record<EndpointName, { ours: Side; bare: Side; cpu_ratio: number | null; round_ratios: (number | null)[] }>;
  rss: {
    sleutelMb: number | null;
    sleutelPeakLoginsMb: number;
    sleutelPeakMb: number;
    sleutelAfterLoadMb: number | null;
    sleutelAtRestMb: number | null;
    bareMb: number | null;
    heapTotalMb: number | null;
    heapUsedMb: number | null;
    sessions: number;
    session_write_ms: number;
    requests_with_session: number;
    requests: number;
  };
  ready: { npm_start_embedded_median_ms: number | null; runs_ms: number[]; postgres_redis_first_start_ms: number };
  /** when each phase ran (monotonic µs, the clock of V8's CPU profiles): `npm run bench:profile` reads them */
  phases: Phase[];
  cluster?: ClusterReport;
  /** failed logins and requests over the whole run */
  failed?: number;
  targets?: { target: string; value: number | null; met: boolean }[];
}

/** The targets of issue 17, each a value read from the report and a rule. */
export const TARGETS: { name: string; value: (r: Report) => number | null; met: (v: number) => boolean }[] = [
  { name: 'full 2FA login: (CPU − argon2) ≤ 1.5 × bare login', value: (r) => r.logins.two_factor.ratio, met: (v) => v <= 1.5 },
  { name: 'password-only login: (CPU − argon2) ≤ 1.5 × bare login', value: (r) => r.logins.password_only.ratio, met: (v) => v <= 1.5 },
  ...ENDPOINTS.map((k) => ({ name: `${k}: CPU ≤ 1.1 × bare`, value: (r: Report) => r.endpoints[k].cpu_ratio, met: (v: number) => v <= 1.1 })),
  { name: 'highest RSS under the logins ≤ 200 MB', value: (r) => r.rss.sleutelPeakLoginsMb, met: (v) => v <= 200 },
  { name: 'RSS with the live sessions ≤ 200 MB', value: (r) => r.rss.sleutelMb, met: (v) => v <= 200 },
  { name: 'failed requests = 0', value: (r) => r.failed ?? null, met: (v) => v === 0 },
];

/** Every row the table shows; the smoke test checks that each one is there. */
export const METRICS = [
  'argon2id verify, CPU (ms)',
  'full 2FA login, CPU (ms)',
  'password-only login, CPU (ms)',
  ...ENDPOINTS.map((k) => `${k}, CPU per request (ms)`),
  'highest RSS under the logins (MB)',
  'RSS with the live sessions (MB)',
  'failed requests',
  'logins/s (information)',
  'time to ready, npm start (ms, information)',
] as const;

/** The rows of the Cluster table (when the Cluster ran). */
export const CLUSTER_METRICS = ['Cluster: full 2FA login, CPU (ms)', ...CLUSTER_ENDPOINTS.map((k) => `Cluster: ${k}, CPU per request (ms)`)] as const;

const n = (v: number | null | undefined, unit = '') => (v == null ? 'n/a' : `${v}${unit}`);
const x = (v: number | null | undefined) => (v == null ? 'n/a' : `${v.toFixed(2)}×`);
/** the rule of target i (what follows the last `:` or starts at `≤` / `=`) with ✓ or ✗ */
const mark = (r: Report, i: number) => {
  const t = r.targets?.[i];
  return t ? `${/[≤=][^:]*$/.exec(t.target)?.[0] ?? t.target} ${t.met ? '✓' : '✗'}` : '';
};

export function formatTable(r: Report): string {
  const { two_factor: twoFactor, password_only: passwordOnly, bare } = r.logins;
  const rounds = (values: (number | null)[]) => `rounds ${values.map(x).join(', ')}`;
  const rows: [string, string, string, string, string][] = [
    [METRICS[0], '', n(r.argon2.cpuMsPerVerify), `m=19 MiB, t=2, p=1 (@node-rs/argon2); rounds ${r.argon2.round_cpu_ms.join(', ')} ms`, 'the reference for the hash'],
    [METRICS[1], n(twoFactor.server_cpu_ms_per_login), n(bare.server_cpu_ms_per_login), `${x(twoFactor.ratio)} (${rounds(twoFactor.round_ratios)})`, `(Sleutel − argon2) / bare ≤ 1.5 ${r.targets?.[0]?.met ? '✓' : '✗'}`],
    [METRICS[2], n(passwordOnly.server_cpu_ms_per_login), n(bare.server_cpu_ms_per_login), `${x(passwordOnly.ratio)} (${rounds(passwordOnly.round_ratios)})`, `(Sleutel − argon2) / bare ≤ 1.5 ${r.targets?.[1]?.met ? '✓' : '✗'}`],
    ...ENDPOINTS.map((k, i): [string, string, string, string, string] => {
      const e = r.endpoints[k];
      return [METRICS[3 + i]!, n(e.ours.cpuMsPerRequest), n(e.bare.cpuMsPerRequest), `${x(e.cpu_ratio)} (${rounds(e.round_ratios)})`, `≤ 1.1 × bare ${r.targets?.[2 + i]?.met ? '✓' : '✗'}`];
    }),
    [METRICS[7], n(r.rss.sleutelPeakLoginsMb), '', `sampled every 0.1 s; at rest ${n(r.rss.sleutelAtRestMb)}, highest over the whole run ${n(r.rss.sleutelPeakMb)}`, mark(r, 6)],
    [METRICS[8], n(r.rss.sleutelMb), n(r.rss.bareMb), `${r.rss.sessions.toLocaleString('en').replace(/,/g, ' ')} sessions in Redis; V8 heap ${n(r.rss.heapUsedMb)} of ${n(r.rss.heapTotalMb)} MB in use`, mark(r, 7)],
    [METRICS[9], n(r.failed), '', '', mark(r, 8)],
    [METRICS[10], `2FA ${twoFactor.per_second}, password ${passwordOnly.per_second}`, n(bare.per_second), `${r.logins.concurrency} at a time; moves with the host`, ''],
    [METRICS[11], n(r.ready.npm_start_embedded_median_ms), '', `runs: ${r.ready.runs_ms.join(', ')}`, ''],
  ];
  const header: [string, string, string, string, string] = ['metric', 'Sleutel', 'reference (argon2, bare oidc-provider)', 'ratio', 'target'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const perRequest = (label: string, cpu: Record<string, number>) => `  ${label}: ${Object.entries(cpu).map(([k, v]) => `${k} ${v}`).join(', ')} ms`;
  return [
    `Sleutel benchmark${r.smoke ? ' (smoke run: tiny load, numbers mean nothing)' : ''} — ${r.started_at.slice(0, 16).replace('T', ' ')} UTC, ${r.machine.cores} cores (${r.machine.cpu}), Node ${r.machine.node}, load average ${r.machine.load_average_at_start.join(' ')} at start and ${r.machine.load_average_at_end.join(' ')} at the end, Sleutel's node options: ${r.machine.sleutel_node_options || 'none'}, argon2 at most ${r.machine.sleutel_password_hashing_concurrency} at once`,
    'Server CPU time per operation (all threads, /proc/<pid>/stat) over a fixed number of operations; each ratio is the median of the rounds.',
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    'Server CPU per request of a login, one login at a time:',
    perRequest('2FA', twoFactor.cpu_ms_per_request),
    perRequest('password-only', passwordOnly.cpu_ms_per_request),
    perRequest('bare', bare.cpu_ms_per_request),
    '',
    ...clusterTable(r.cluster),
  ].join('\n');
}

function clusterTable(cluster: ClusterReport | undefined): string[] {
  if (!cluster) return [];
  if (cluster.skipped !== null) return [`Redis Cluster: skipped (${cluster.skipped})`];
  const rounds = (values: (number | null)[]) => `rounds ${values.map(x).join(', ')}`;
  const row = (metric: string, c: ClusterComparison, unit: string): string[] => [
    metric,
    n(c.cluster.cpu_ms),
    n(c.single.cpu_ms),
    `${x(c.cpu_ratio)} (${rounds(c.round_ratios)})`,
    `${x(c.throughput_ratio)} (${c.cluster.per_second} vs ${c.single.per_second} ${unit}/s)`,
  ];
  const rows = [row(CLUSTER_METRICS[0], cluster.logins, 'logins'), ...CLUSTER_ENDPOINTS.map((k, i) => row(CLUSTER_METRICS[1 + i]!, cluster.endpoints[k], 'requests'))];
  const header = ['metric', `Cluster (${cluster.masters} masters)`, 'single Redis', 'CPU ratio Cluster / single', 'throughput Cluster / single (information)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((cells) => cells[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    `Redis Cluster: a second Sleutel process with REDIS_CLUSTER_NODES (same Postgres), in alternating rounds with the single-Redis one; logins ${cluster.logins.concurrency} at a time:`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ];
}
