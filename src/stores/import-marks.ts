import type { Database } from './database.js';

export type ImportPart = 'profile' | 'password' | 'two_factor' | 'policy';

/** Fingerprints of what an import last took over, by subject and part (see the migration). */
export type ImportMarks = Map<string, Partial<Record<ImportPart, string>>>;

export class ImportMarkStore {
  constructor(
    private readonly db: Database,
    private readonly source: string,
  ) {}

  async forSubjects(tenantId: string, subjects: string[]): Promise<ImportMarks> {
    const marks: ImportMarks = new Map();
    if (subjects.length === 0) return marks;
    const rows = await this.db('import_marks').where({ tenant_id: tenantId, source: this.source }).whereIn('subject', subjects);
    for (const row of rows as { subject: string; part: ImportPart; fingerprint: string }[]) {
      marks.set(row.subject, { ...marks.get(row.subject), [row.part]: row.fingerprint });
    }
    return marks;
  }

  async put(tenantId: string, subject: string, part: ImportPart, fingerprint: string): Promise<void> {
    await this.db('import_marks')
      .insert({ tenant_id: tenantId, source: this.source, subject, part, fingerprint })
      .onConflict(['tenant_id', 'source', 'subject', 'part'])
      .merge({ fingerprint, imported_at: this.db.fn.now() });
  }
}
