/** Prints a command's result: a human sentence, or the data as JSON with --json. */
export class CliFailure extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export function print(json: boolean, data: Record<string, unknown>, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${human}\n`);
}
