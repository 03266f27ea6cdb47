import { Writable } from 'node:stream';
import pino from 'pino';
import { renderMail, type MailMessage } from '../../src/modules/mail/mail.messages';
import { createMailTransport } from '../../src/modules/mail/mail.transport';

const HOSTILE = `<script>alert("x")</script> & 'Bob'`;
const LINK = 'https://posture.example/verify-email?token=abc_DEF-123';

const messages: Record<MailMessage['template'], MailMessage> = {
  'verify-email': { template: 'verify-email', to: 'a@example.com', name: 'Ada', verifyUrl: LINK, expiresInHours: 24 },
  'sign-up-attempt': {
    template: 'sign-up-attempt',
    to: 'a@example.com',
    name: 'Ada',
    logInUrl: 'https://posture.example/log-in',
    resetUrl: 'https://posture.example/forgot-password',
    verifyUrl: LINK,
  },
  'password-reset': {
    template: 'password-reset',
    to: 'a@example.com',
    name: 'Ada',
    resetUrl: 'https://posture.example/reset-password?token=tok_123',
    code: '042917',
    expiresInMinutes: 60,
    codeExpiresInMinutes: 10,
  },
  'password-changed': {
    template: 'password-changed',
    to: 'a@example.com',
    name: 'Ada',
    changedAt: '2026-11-22T10:00:00.000Z',
    resetUrl: 'https://posture.example/forgot-password',
  },
};

/** Every URL a message carries. */
const linksOf = (m: MailMessage) =>
  Object.entries(m)
    .filter(([key, value]) => key.endsWith('Url') && typeof value === 'string')
    .map(([, value]) => value as string);

describe('renderMail', () => {
  it.each(Object.values(messages))('renders $template with a subject, text and HTML greeting the recipient', (message) => {
    const mail = renderMail(message);
    expect(mail.subject.trim()).not.toBe('');
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.text).toContain('Hello Ada,');
    expect(mail.html).toMatch(/^<!doctype html>/i);
    expect(mail.html).toContain('Hello Ada,');
  });

  it.each(Object.values(messages))('puts every link of $template in both text and HTML', (message) => {
    const mail = renderMail(message);
    const links = linksOf(message);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      expect(mail.text).toContain(link);
      expect(mail.html).toContain(`href="${link}"`);
    }
  });

  it('puts the reset code in both text and HTML, on a line of its own in the text', () => {
    const mail = renderMail(messages['password-reset']);
    expect(mail.text).toMatch(/^\s*042917\s*$/m);
    expect(mail.html).toContain('>042917<');
    expect(mail.text).toMatch(/10 minutes/);
    expect(mail.text).toMatch(/60 minutes/);
  });

  it('mentions the verification link in a sign-up attempt only when the address is unconfirmed', () => {
    const { verifyUrl: _verifyUrl, ...confirmed } = messages['sign-up-attempt'] as Extract<MailMessage, { template: 'sign-up-attempt' }>;
    const mail = renderMail(confirmed);
    expect(mail.text).not.toContain('verify-email');
    expect(mail.html).not.toContain('verify-email');
    expect(mail.text).toContain('https://posture.example/log-in');
  });

  it.each(Object.values(messages))('escapes a hostile name in the HTML of $template and keeps it verbatim in the text', (message) => {
    const mail = renderMail({ ...message, name: HOSTILE });
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Bob&#39;');
    expect(mail.text).toContain(`Hello ${HOSTILE},`);
  });

  it('escapes quotes in a link so it cannot leave its href attribute', () => {
    const mail = renderMail({ ...messages['verify-email'], verifyUrl: 'https://x.example/?a="><img src=x onerror=alert(1)>&b=1' } as MailMessage);
    expect(mail.html).not.toContain('"><img');
    expect(mail.html).toContain('href="https://x.example/?a=&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;b=1"');
  });
});

describe('mail transport without SMTP_URL', () => {
  it('prints each message, recipient, subject and body, to the log instead of sending it', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const logger = pino({ level: 'info', base: undefined }, stream);
    const transport = createMailTransport(undefined, 'Posture <no-reply@posture.test>', logger);

    await transport.send('ada@example.com', renderMail(messages['verify-email']));
    transport.close();

    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry.mail).toEqual({ to: 'ada@example.com', subject: 'Confirm your email address' });
    expect(entry.msg).toContain('no SMTP_URL');
    expect(entry.msg).toContain(LINK);
    expect(entry.msg).toContain('Hello Ada,');
  });
});
