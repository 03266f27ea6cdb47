import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from '../../logger';
import type { RenderedMail } from './mail.messages';

export interface MailTransport {
  send(to: string, mail: RenderedMail): Promise<void>;
  close(): void;
}

/** SMTP when a URL is given; otherwise each message is printed to the log (development). */
export function createMailTransport(smtpUrl: string | undefined, from: string, logger: Logger): MailTransport {
  if (!smtpUrl) {
    return {
      async send(to, mail) {
        logger.info({ mail: { to, subject: mail.subject } }, `email (no SMTP_URL, printed instead)\n${mail.text}`);
      },
      close() {},
    };
  }
  const transporter: Transporter = nodemailer.createTransport({
    url: smtpUrl,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    async send(to, mail) {
      await transporter.sendMail({ from, to, subject: mail.subject, text: mail.text, html: mail.html });
    },
    close() {
      transporter.close();
    },
  };
}
