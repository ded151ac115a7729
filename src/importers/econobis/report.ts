import type { Pool } from '../../policy/tenant-policy.js';
import type { AccountPlan, PolicyPlan } from './plan.js';
import type { Refusal } from './rows.js';

type Counts = { create: number; update: number; unchanged: number; refused: number };

/** What an import did (or, in a dry run, would do): the --json output. */
export interface ImportReport {
  tenant: string;
  dry_run: boolean;
  counts: Record<Pool, Counts>;
  policy: { require_two_factor_for_all_staff: { from: boolean; to: boolean } } | null;
  accounts: { pool: Pool; econobis_id: string | number | null; email: string; action: AccountPlan['action']; changes: string[]; notes: string[] }[];
  refused: { pool: Pool; econobis_id: string | number | null; email: string | null; row: number; reason: string }[];
}

export function buildReport(tenant: string, dryRun: boolean, plans: AccountPlan[], policy: PolicyPlan | undefined, refusals: Refusal[]): ImportReport {
  const counts: Record<Pool, Counts> = { staff: { create: 0, update: 0, unchanged: 0, refused: 0 }, portal: { create: 0, update: 0, unchanged: 0, refused: 0 } };
  for (const p of plans) counts[p.candidate.pool][p.action] += 1;
  for (const r of refusals) counts[r.pool].refused += 1;
  return {
    tenant,
    dry_run: dryRun,
    counts,
    policy: policy && policy.from !== policy.to ? { require_two_factor_for_all_staff: { from: policy.from, to: policy.to } } : null,
    accounts: plans.map((p) => ({ pool: p.candidate.pool, econobis_id: p.candidate.econobisId, email: p.candidate.email, action: p.action, changes: p.changes, notes: p.notes })),
    refused: refusals.map((r) => ({ pool: r.pool, econobis_id: r.econobisId, email: r.email, row: r.index, reason: r.reason })),
  };
}

/** The report for a person: a summary, then every account that changes, every note and every refusal. */
export function describeReport(report: ImportReport): string {
  const dry = report.dry_run;
  const lines = [`Econobis import into ${report.tenant}${dry ? ' (dry run: nothing written)' : ''}`];
  for (const pool of ['staff', 'portal'] as const) {
    const c = report.counts[pool];
    lines.push(`  ${pool}: ${c.create} ${dry ? 'to create' : 'created'}, ${c.update} ${dry ? 'to update' : 'updated'}, ${c.unchanged} unchanged, ${c.refused} refused`);
  }
  const policy = report.policy?.require_two_factor_for_all_staff;
  if (policy) lines.push(`  policy: require_two_factor_for_all_staff ${policy.from} → ${policy.to}`);
  for (const a of report.accounts) {
    if (a.action !== 'unchanged') lines.push(`  ${a.action} ${a.pool} ${a.email} (#${a.econobis_id}): ${a.changes.join(', ')}`);
    for (const note of a.notes) lines.push(`  note ${a.pool} ${a.email} (#${a.econobis_id}): ${note}`);
  }
  for (const r of report.refused) lines.push(`  refused ${r.pool} ${r.email ?? '(no e-mail)'} (#${r.econobis_id ?? `row ${r.row}`}): ${r.reason}`);
  if (report.refused.length) lines.push(`  ${dry ? 'These rows would not be imported' : 'These rows were not imported'}; fix them in Econobis or the export and run the import again.`);
  return lines.join('\n');
}
