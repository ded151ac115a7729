import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  raw: string;
  /** the text with quoted-printable soft breaks and escapes undone */
  text: string;
  subject: string;
}

function decodeQuotedPrintable(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** A real SMTP server on loopback that keeps what it receives (Sleutel sends to it over SMTP_URL). */
export class Mailbox {
  readonly mails: ReceivedMail[] = [];
  private readonly server: SMTPServer;
  private waiters: (() => void)[] = [];

  private constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const decoded = decodeQuotedPrintable(raw);
          const subject = /^Subject: (.*)$/m.exec(raw)?.[1] ?? '';
          this.mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw, text: Buffer.from(decoded, 'latin1').toString('utf8'), subject });
          for (const wake of this.waiters.splice(0)) wake();
          callback();
        });
      },
    });
  }

  static async start(): Promise<Mailbox> {
    const box = new Mailbox();
    await new Promise<void>((resolve) => box.server.listen(0, '127.0.0.1', resolve));
    return box;
  }

  get url(): string {
    return `smtp://127.0.0.1:${(this.server.server.address() as AddressInfo).port}`;
  }

  /** The first mail (received from now on or already) to `to` that `match` accepts; waits up to 10 s. */
  async waitFor(to: string, match: (mail: ReceivedMail) => boolean = () => true): Promise<ReceivedMail> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = this.mails.find((m) => m.to.includes(to) && match(m));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no mail to ${to}; got ${this.mails.map((m) => `${m.to} ${m.subject}`).join('; ')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200).unref();
      });
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The first link to `path` in a mail's text. */
export function linkIn(mail: ReceivedMail, path: string): string {
  const match = new RegExp(`https?://[^\\s"<>]*${path.replace(/[/?]/g, '\\$&')}[^\\s"<>]*`).exec(mail.text);
  if (!match) throw new Error(`no ${path} link in: ${mail.text.slice(0, 800)}`);
  return match[0].replace(/&amp;/g, '&');
}
