import fs from 'node:fs';
import path from 'node:path';

/**
 * Embedded mode is for one process: PGlite files opened by two processes would be corrupted.
 * The server holds DATA_DIR/sleutel.pid; anyone else opening the directory is refused plainly.
 */
export class DataDirInUse extends Error {
  constructor(readonly dataDir: string, readonly pid: number) {
    super(
      `DATA_DIR ${dataDir} is in use by a running Sleutel (pid ${pid}). Stop it first, or run against Postgres and Redis (DATABASE_URL, REDIS_URL).`,
    );
  }
}

function lockFile(dataDir: string) {
  return path.join(dataDir, 'sleutel.pid');
}

function holder(dataDir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(lockFile(dataDir), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
    process.kill(pid, 0); // throws when no such process
    return pid;
  } catch {
    return undefined;
  }
}

/** Throws DataDirInUse when another live process holds the directory. */
export function assertDataDirFree(dataDir: string): void {
  const pid = holder(dataDir);
  if (pid) throw new DataDirInUse(dataDir, pid);
}

/** Takes the directory for this process; the returned function gives it back. */
export function lockDataDir(dataDir: string): () => void {
  assertDataDirFree(dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(lockFile(dataDir), String(process.pid));
  return () => {
    try {
      if (fs.readFileSync(lockFile(dataDir), 'utf8').trim() === String(process.pid)) fs.unlinkSync(lockFile(dataDir));
    } catch {
      /* already gone */
    }
  };
}
