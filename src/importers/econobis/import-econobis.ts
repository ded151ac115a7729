import { AccountStore } from '../../stores/accounts.js';
import { AuditLog } from '../../stores/audit-events.js';
import { ImportMarkStore } from '../../stores/import-marks.js';
import type { Stores } from '../../stores/open.js';
import { SecondFactorStore } from '../../stores/second-factors.js';
import { TenantStore } from '../../stores/tenants.js';
import { applyPlan } from './apply.js';
import { exportFileSchema, ImportFailure } from './export-file.js';
import { laravelDecrypt, LaravelDecryptError, parseAppKey } from './laravel-decrypt.js';
import { planAccounts, planPolicy } from './plan.js';
import { buildReport, type ImportReport } from './report.js';
import { readRows, type Decrypt } from './rows.js';

export { ImportFailure, type ImportReport };

export interface ImportRequest {
  tenantSlug: string;
  /** the parsed export file */
  file: unknown;
  /** Econobis's APP_KEY (`base64:…`); needed when the export holds 2FA secrets */
  appKey?: string;
  dryRun: boolean;
  /** who the audit events name */
  actor?: string;
}

/**
 * `sleutel import econobis`: reads the export, plans every account against what is stored, and —
 * unless it is a dry run — writes the plan in one transaction. Rows that cannot be taken are
 * reported with the reason; an ImportFailure (no export, wrong APP_KEY) stops before any write.
 */
export async function importEconobis(stores: Pick<Stores, 'db' | 'box'>, request: ImportRequest): Promise<ImportReport> {
  const parsed = exportFileSchema.safeParse(request.file);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ImportFailure(`not an Econobis export: ${issue.path.join('.') || 'the file'}: ${issue.message} (docs/econobis-export.md describes it)`);
  }
  const exported = parsed.data;
  const decrypt = decrypter(request.appKey);
  const staff = readRows('staff', exported.users, decrypt);
  const portal = readRows('portal', exported.portal_users, decrypt);
  const macs = { verified: staff.macs.verified + portal.macs.verified, failed: staff.macs.failed + portal.macs.failed };
  if (macs.failed > 0 && macs.verified === 0) {
    throw new ImportFailure(`the APP_KEY does not fit this export: none of the ${macs.failed} encrypted values tried verified (is it this cooperation's Econobis APP_KEY?)`);
  }
  const candidates = [...staff.candidates, ...portal.candidates];
  const refusals = [...staff.refusals, ...portal.refusals];

  return stores.db.transaction(async (trx) => {
    const tenants = new TenantStore(trx);
    const tenant = await tenants.findBySlug(request.tenantSlug);
    if (!tenant) throw new ImportFailure(`tenant "${request.tenantSlug}" does not exist`);
    const s = { accounts: new AccountStore(trx), secondFactors: new SecondFactorStore(trx, stores.box), marks: new ImportMarkStore(trx, 'econobis'), tenants, audit: new AuditLog(trx) };
    const plans = await planAccounts(s, tenant, candidates);
    const policy = await planPolicy(s.marks, tenant, exported.cooperation?.require_two_factor_authentication);
    if (!request.dryRun) await applyPlan(s, tenant, plans, policy, request.actor ?? 'cli');
    return buildReport(tenant.slug, request.dryRun, plans, policy, refusals);
  });
}

function decrypter(appKey: string | undefined): Decrypt | undefined {
  if (!appKey) return undefined;
  try {
    const key = parseAppKey(appKey);
    return (encrypted) => laravelDecrypt(encrypted, key);
  } catch (error) {
    if (error instanceof LaravelDecryptError) throw new ImportFailure(error.message);
    throw error;
  }
}
