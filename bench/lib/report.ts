import type { Argon2Result } from './argon2.js';
import type { Step } from './logins.js';

type Latency = { p50: number | null; p99: number | null; n: number };
type Endpoint = { perSecond: number; p50: number; p99: number; failed: number; cpuMsPerRequest: number | null; runs: number[] };
type LoginRun = {
  per_second: number;
  concurrency: number;
  seconds: number;
  ok: number;
  failed: number;
  server_cpu_ms_per_login: number | null;
  driver_cpu_ms_per_login: number;
  steps: Record<Step, Latency>;
};

/** What `npm run bench` writes as JSON (bench/results/latest.json) and prints as a table. */
export interface Report {
  started_at: string;
  finished_at: string;
  smoke: boolean;
  machine: { cores: number; cpu: string; node: string; load_average_at_start: number[]; sleutel_node_options: string; sleutel_password_hashing_concurrency: number };
  plan: Record<string, number>;
  argon2: { results: Argon2Result[]; limit_per_second: number };
  logins: {
    sleutel: LoginRun;
    bare: LoginRun;
    half_load: { rate: number; per_second: number; ok: number; failed: number; skipped: number; steps: Record<Step, Latency> };
    ratio_to_argon2_limit: number | null;
    ratio_to_bare: number | null;
    argon2_share_of_server_cpu: number | null;
    waits_for_fresh_time_step: number;
  };
  endpoints: Record<'client_credentials' | 'refresh_token' | 'userinfo', { ours: Endpoint; bare: Endpoint; ratio: number | null; cpu_ratio: number | null; round_ratios: (number | null)[] }>;
  rss: {
    sleutelMb: number | null;
    sleutelAfterLoadMb: number | null;
    sleutelPeakMb: number;
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
  targets?: { target: string; value: number | null; met: boolean }[];
}

/** Every metric the table shows; the smoke test checks that each one has a row. */
export const METRICS = [
  'argon2 verifies/s (@node-rs/argon2)',
  'argon2 verifies/s (node-argon2)',
  'full 2FA logins/s',
  'server CPU per login (ms)',
  'login step authorize p50 / p99',
  'login step password p50 / p99',
  'login step code p50 / p99',
  'login step exchange p50 / p99',
  'whole login p50 / p99',
  'code step p50 / p99 at half of peak',
  'code POST alone p50 / p99 at half of peak',
  'client_credentials/s',
  'client_credentials p50 / p99',
  'refresh_token/s',
  'refresh_token p50 / p99',
  'userinfo/s',
  'userinfo p50 / p99',
  'RSS (MB) with the live sessions',
  'RSS (MB) before the sessions',
  'RSS (MB) at its highest',
  'time to ready, npm start (ms)',
] as const;

const n = (v: number | null | undefined, unit = '') => (v == null ? 'n/a' : `${v}${unit}`);
const pct = (v: number | null | undefined) => (v == null ? 'n/a' : `${Math.round(v * 100)} %`);
const lat = (l: { p50: number | null; p99: number | null } | undefined) => (l && l.p50 != null ? `${l.p50} / ${l.p99} ms` : '—');
const met = (r: Report, prefix: string) => {
  const t = r.targets?.find((x) => x.target.startsWith(prefix));
  return t ? `${t.target.slice(prefix.length).trim()} ${t.met ? '✓' : '✗'}` : '';
};

export function formatTable(r: Report): string {
  const [nodeRs, nodeArgon2] = r.argon2.results;
  const { sleutel, bare, half_load: half } = r.logins;
  const e = r.endpoints;
  const endpointRatio = (x: { ratio: number | null; cpu_ratio: number | null; round_ratios: (number | null)[] }) =>
    `${pct(x.ratio)} (CPU per request: ${pct(x.cpu_ratio)}; rounds: ${x.round_ratios.map(pct).join(', ')})`;
  const cpu = (x: { cpuMsPerRequest: number | null }) => (x.cpuMsPerRequest == null ? '' : `, ${x.cpuMsPerRequest} ms CPU`);
  const rows: [string, string, string, string, string][] = [
    [METRICS[0], n(nodeRs?.perSecond), '', `${n(nodeRs?.cpuMsPerVerify)} ms CPU per verify`, 'the limit of password logins'],
    [METRICS[1], nodeArgon2?.perSecond == null ? (nodeArgon2?.note ?? 'n/a') : n(nodeArgon2.perSecond), '', '', ''],
    [METRICS[2], n(sleutel.per_second), n(bare.per_second), `${pct(r.logins.ratio_to_argon2_limit)} of argon2 (${pct(r.logins.ratio_to_bare)} of bare)`, `≥ 80 % of argon2 ${r.targets?.[0]?.met ? '✓' : '✗'}`],
    [METRICS[3], n(sleutel.server_cpu_ms_per_login), n(bare.server_cpu_ms_per_login), `argon2 is ${pct(r.logins.argon2_share_of_server_cpu)} of it; driver ${sleutel.driver_cpu_ms_per_login} ms`, ''],
    [METRICS[4], lat(sleutel.steps.authorize), lat(bare.steps.authorize), '', 'bare: authorize → callback'],
    [METRICS[5], lat(sleutel.steps.password), '', '', ''],
    [METRICS[6], lat(sleutel.steps.code), '', '', ''],
    [METRICS[7], lat(sleutel.steps.exchange), lat(bare.steps.exchange), '', ''],
    [METRICS[8], lat(sleutel.steps.login), lat(bare.steps.login), '', ''],
    [METRICS[9], lat(half.steps.code), '', `at ${half.rate}/s`, met(r, 'p99 of the code step')],
    [METRICS[10], lat(half.steps.code_submit), '', '', ''],
    [METRICS[11], n(e.client_credentials.ours.perSecond), n(e.client_credentials.bare.perSecond), endpointRatio(e.client_credentials), met(r, 'client_credentials')],
    [METRICS[12], lat(e.client_credentials.ours) + cpu(e.client_credentials.ours), lat(e.client_credentials.bare) + cpu(e.client_credentials.bare), '', ''],
    [METRICS[13], n(e.refresh_token.ours.perSecond), n(e.refresh_token.bare.perSecond), endpointRatio(e.refresh_token), met(r, 'refresh_token')],
    [METRICS[14], lat(e.refresh_token.ours) + cpu(e.refresh_token.ours), lat(e.refresh_token.bare) + cpu(e.refresh_token.bare), '', ''],
    [METRICS[15], n(e.userinfo.ours.perSecond), n(e.userinfo.bare.perSecond), endpointRatio(e.userinfo), met(r, 'userinfo')],
    [METRICS[16], lat(e.userinfo.ours) + cpu(e.userinfo.ours), lat(e.userinfo.bare) + cpu(e.userinfo.bare), '', ''],
    [METRICS[17], n(r.rss.sleutelMb), n(r.rss.bareMb), `${r.rss.sessions.toLocaleString('en').replace(/,/g, ' ')} sessions, after the whole load; V8 heap ${n(r.rss.heapUsedMb)} of ${n(r.rss.heapTotalMb)} MB in use`, met(r, 'RSS')],
    [METRICS[18], n(r.rss.sleutelAfterLoadMb), '', `at rest after start and warm-up: ${n(r.rss.sleutelAtRestMb)}`, ''],
    [METRICS[19], n(r.rss.sleutelPeakMb), '', 'sampled every 0.1 s from the logins to the end (garbage V8 has not yet collected included)', ''],
    [METRICS[20], n(r.ready.npm_start_embedded_median_ms), '', `runs: ${r.ready.runs_ms.join(', ')}`, met(r, 'ready')],
  ];
  const header: [string, string, string, string, string] = ['metric', 'Sleutel', 'bare oidc-provider', 'ratio', 'target'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const failures = [sleutel, bare, half].reduce((s, x) => s + x.failed, 0) + Object.values(e).reduce((s, x) => s + x.ours.failed + x.bare.failed, 0);
  return [
    `Sleutel benchmark${r.smoke ? ' (smoke run: tiny load, numbers mean nothing)' : ''} — ${r.started_at.slice(0, 16).replace('T', ' ')} UTC, ${r.machine.cores} cores (${r.machine.cpu}), Node ${r.machine.node}, load average at start ${r.machine.load_average_at_start.join(' ')}, Sleutel's node options: ${r.machine.sleutel_node_options || 'none'}, argon2 at most ${r.machine.sleutel_password_hashing_concurrency} at once`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `failed requests or logins: ${failures}`,
  ].join('\n');
}
