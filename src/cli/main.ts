import { parseArgs } from 'node:util';
import { loadConfig } from '../config/environment.js';
import { ConfigError } from '../errors.js';
import { DataDirInUse, lockDataDir } from '../stores/data-dir-lock.js';
import { openStores } from '../stores/open.js';
import { commands, type Invocation } from './commands.js';
import { CliFailure } from './output.js';

const USAGE = `usage: sleutel <command> [options] [--json]

  migrate
  tenant add <slug> --name <name>
  client add --tenant <slug> --pool staff|portal --id <client_id> --redirect-uri <uri>… [--secret <s> | --public]
             [--post-logout-redirect-uri <uri>] [--backchannel-logout-uri <uri>]
  service-client add --tenant <slug> --id <client_id> --secret <s>
  user add --tenant <slug> --pool staff|portal --email <e> [--name <n>] [--role key_user|coop_admin]…   (password from stdin)
  keys rotate
  keys reencrypt
  import econobis --tenant <slug> --file <export.json> [--app-key base64:…] [--dry-run]

Configuration comes from the environment, as for the server (DATABASE_URL, DATA_DIR, ENCRYPTION_KEYS, …);
import econobis reads Econobis's APP_KEY from ECONOBIS_APP_KEY when --app-key is not given.`;

const options = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  name: { type: 'string' },
  tenant: { type: 'string' },
  pool: { type: 'string' },
  id: { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  'backchannel-logout-uri': { type: 'string' },
  secret: { type: 'string' },
  public: { type: 'boolean' },
  email: { type: 'string' },
  role: { type: 'string', multiple: true },
  file: { type: 'string' },
  'app-key': { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function run(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const fail = (message: string, code: number) => {
    process.stderr.write(json ? `${JSON.stringify({ error: message })}\n` : `sleutel: ${message}\n`);
    return code;
  };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    return fail(`${(error as Error).message} (sleutel --help lists the options)`, 2);
  }
  const { positionals, values } = parsed;
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const known = (n: string) => Object.hasOwn(commands, n);
  const name = known(positionals[0]!) ? positionals[0]! : `${positionals[0]} ${positionals[1] ?? ''}`.trim();
  if (!known(name)) return fail(`unknown command "${positionals.join(' ')}" (sleutel --help lists the commands)`, 2);
  const command = commands[name]!;

  try {
    const config = loadConfig();
    // embedded mode: hold DATA_DIR while the command runs, so a server cannot open it meanwhile
    const unlock = config.databaseUrl ? () => {} : lockDataDir(config.dataDir);
    const stores = await openStores(config).catch((error: unknown) => {
      unlock();
      throw error;
    });
    try {
      const call: Invocation = { positionals: positionals.slice(name.split(' ').length), values, json, readStdin };
      await command(stores, call);
    } finally {
      await stores.kv.close();
      await stores.db.destroy();
      unlock();
    }
    return 0;
  } catch (error) {
    if (error instanceof CliFailure) return fail(error.message, error.exitCode);
    if (error instanceof ConfigError) return fail(`configuration error: ${error.message}`, 1);
    if (error instanceof DataDirInUse) return fail(error.message, 1);
    return fail(`failed: ${(error as Error).message}`, 1);
  }
}

process.exitCode = await run(process.argv.slice(2));
