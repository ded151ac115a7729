import fs from 'node:fs';
import path from 'node:path';
import type { TestServer } from './server.js';

/** The .eml files of the server's outbox (mail without SMTP_URL) whose name ends in `{template}.eml`. */
export function outboxFiles(server: TestServer, template: string): string[] {
  const outbox = path.join(server.config.dataDir, 'outbox');
  if (!fs.existsSync(outbox)) return [];
  return fs.readdirSync(outbox).filter((f) => f.endsWith(`-${template}.eml`)).map((f) => path.join(outbox, f));
}
