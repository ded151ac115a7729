import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Transporter } from 'nodemailer';
import type { Logger } from '../log.js';
import type { Views } from '../http/views.js';
import type { Locale } from '../locale.js';

export type MailTemplate =
  | 'two_factor_enabled'
  | 'two_factor_disabled'
  | 'passkey_added'
  | 'passkey_removed'
  | 'recovery_code_used'
  | 'two_factor_reset'
  | 'password_reset'
  | 'invitation'
  | 'password_changed'
  | 'account_locked'
  | 'account_created'
  | 'account_changed'
  | 'account_disabled'
  | 'account_enabled'
  | 'account_unblocked'
  | 'two_factor_required'
  | 'two_factor_not_required'
  | 'email_change_confirm'
  | 'email_change_requested'
  | 'email_changed';

export interface Mail {
  to: string;
  template: MailTemplate;
  locale: Locale;
  params?: Record<string, string>;
}

/**
 * Notification mail: over SMTP_URL with nodemailer, or — without it — written as .eml files to
 * DATA_DIR/outbox/ and logged, so a developer sees every mail. Texts come from the catalogues
 * (`mail.<template>.subject` / `.body`), HTML from interactions/templates/mail.eta.
 * Sending never fails the flow that triggered it: a notification is not worth a lost login.
 * nodemailer is loaded with the first mail, not at start (a few MB of heap most minutes never use).
 */
export class Mailer {
  private transport: Promise<Transporter> | undefined;

  constructor(
    private readonly options: { smtpUrl?: string; from: string; outboxDir: string; views: Views; log: Logger },
  ) {}

  private transporter(): Promise<Transporter> {
    this.transport ??= import('nodemailer').then(({ default: nodemailer }) =>
      this.options.smtpUrl
        ? nodemailer.createTransport(this.options.smtpUrl)
        : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' }),
    );
    return this.transport;
  }

  compose(mail: Mail): { subject: string; text: string; html: string } {
    const t = this.options.views.translator(mail.locale);
    const params = mail.params ?? {};
    const subject = t(`mail.${mail.template}.subject`, params);
    const paragraphs = [...t(`mail.${mail.template}.body`, params).split('\n\n'), t('mail.footer', params)];
    const html = this.options.views.render('mail', mail.locale, { subject, paragraphs });
    return { subject, text: paragraphs.join('\n\n'), html };
  }

  async send(mail: Mail): Promise<void> {
    const { subject, text, html } = this.compose(mail);
    try {
      const info = await (await this.transporter()).sendMail({ from: this.options.from, to: mail.to, subject, text, html });
      if (this.options.smtpUrl) {
        this.options.log.info({ template: mail.template }, 'mail sent');
        return;
      }
      fs.mkdirSync(this.options.outboxDir, { recursive: true });
      const file = path.join(this.options.outboxDir, `${Date.now()}-${randomBytes(4).toString('hex')}-${mail.template}.eml`);
      fs.writeFileSync(file, (info as unknown as { message: Buffer }).message);
      this.options.log.info({ template: mail.template, file }, 'mail written to the outbox (SMTP_URL not set)');
    } catch (error) {
      this.options.log.error({ template: mail.template, err: { message: (error as Error).message } }, 'mail could not be sent');
    }
  }

  close(): void {
    void this.transport?.then((transport) => transport.close(), () => {});
  }
}
