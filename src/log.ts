import { pino, type Logger } from 'pino';

/**
 * JSON logs. Redaction is a second line of defence: the code never logs request bodies, but if a
 * field with one of these names ends up in a log object it is censored.
 */
const redactPaths = [
  'password', 'current_password', 'code', 'recovery_code', 'secret', 'token', 'access_token',
  'refresh_token', 'id_token', 'client_secret', 'cookie', 'authorization',
  '*.password', '*.current_password', '*.code', '*.recovery_code', '*.secret', '*.token',
  '*.client_secret', '*.cookie', '*.authorization',
  'req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: 'sleutel' }, redact: { paths: redactPaths, censor: '[redacted]' } }, destination);
}

export type { Logger };
