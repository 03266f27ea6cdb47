import { Writable } from 'node:stream';
import pino from 'pino';
import { renderMail, type MailMessage } from '../../src/modules/mail/mail.messages';
import { createMailTransport } from '../../src/modules/mail/mail.transport';

const HOSTILE = `<script>alert("x")</script> & 'Bob'`;
const LINK = 'https://posture.example/verify-email?token=abc_DEF-123';

/** The emails to an account holder, greeted by name in English. */
type NamedTemplate = Exclude<MailMessage['template'], 'lead-login-link' | 'login-link'>;

const messages: Record<NamedTemplate, Extract<MailMessage, { template: NamedTemplate }>> = {
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
  'email-change-confirm': {
    template: 'email-change-confirm',
    to: 'a@example.com',
    name: 'Ada',
    confirmUrl: 'https://posture.example/confirm-email-change?token=tok_1',
    expiresInHours: 24,
  },
  'email-change-notice': {
    template: 'email-change-notice',
    to: 'a@example.com',
    name: 'Ada',
    newEmail: 'new@example.com',
    resetUrl: 'https://posture.example/forgot-password',
  },
  'email-change-address-taken': {
    template: 'email-change-address-taken',
    to: 'a@example.com',
    name: 'Ada',
    logInUrl: 'https://posture.example/log-in',
    resetUrl: 'https://posture.example/forgot-password',
  },
  invitation: {
    template: 'invitation',
    to: 'a@example.com',
    name: 'Ada',
    username: 'ada',
    inviteUrl: 'https://posture.example/accept-invitation?token=tok_2',
    expiresInDays: 7,
  },
  'totp-enabled': {
    template: 'totp-enabled',
    to: 'a@example.com',
    name: 'Ada',
    enabledAt: '2026-11-29T10:00:00.000Z',
    resetUrl: 'https://posture.example/forgot-password',
  },
  'totp-disabled': {
    template: 'totp-disabled',
    to: 'a@example.com',
    name: 'Ada',
    disabledAt: '2026-11-29T10:00:00.000Z',
    byStaff: false,
    resetUrl: 'https://posture.example/forgot-password',
  },
  'second-step-failed': {
    template: 'second-step-failed',
    to: 'a@example.com',
    name: 'Ada',
    at: '2026-11-29T10:00:00.000Z',
    via: 'password',
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

  it('says who turned two-factor sign-in off, and when', () => {
    const own = renderMail(messages['totp-disabled']);
    const staff = renderMail({ ...messages['totp-disabled'], byStaff: true } as MailMessage);
    expect(own.text).toContain('2026-11-29T10:00:00.000Z');
    expect(own.text).not.toMatch(/administrator/);
    expect(staff.text).toMatch(/An administrator turned off two-factor sign-in/);
    expect(staff.text).toMatch(/Every session/);
  });

  it('says which first step a sign-in that died at the second step got past, and when', () => {
    const byWay = (via: string) => renderMail({ ...messages['second-step-failed'], via } as MailMessage).text;
    expect(byWay('password')).toMatch(/2026-11-29T10:00:00.000Z .*\(your password\)/s);
    expect(byWay('link')).toMatch(/\(a login link sent to your address\)/);
    expect(byWay('oidc')).toMatch(/\(a provider login linked to the account\)/);
  });

  it('escapes quotes in a link so it cannot leave its href attribute', () => {
    const mail = renderMail({ ...messages['verify-email'], verifyUrl: 'https://x.example/?a="><img src=x onerror=alert(1)>&b=1' } as MailMessage);
    expect(mail.html).not.toContain('"><img');
    expect(mail.html).toContain('href="https://x.example/?a=&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;b=1"');
  });
});

describe('sign-in link emails', () => {
  // An ampersand, so the HTML must carry it escaped.
  const LOGIN = 'https://posture.example/auth/link?token=tok_ABC-123&next=%2Fresults';
  type LeadMessage = Extract<MailMessage, { template: 'lead-login-link' }>;
  type LoginMessage = Extract<MailMessage, { template: 'login-link' }>;
  type LinkMessage = LeadMessage | LoginMessage;
  const locales = ['en', 'nb'] as const;
  const cases: LinkMessage[] = locales.flatMap((locale): LinkMessage[] => [
    { template: 'lead-login-link', to: 'v@example.com', locale, loginUrl: LOGIN, expiresInMinutes: 30 },
    {
      template: 'lead-login-link',
      to: 'v@example.com',
      locale,
      loginUrl: LOGIN,
      expiresInMinutes: 30,
      templateName: 'Small business baseline',
    },
    { template: 'login-link', to: 'a@example.com', locale, name: 'Ada', loginUrl: LOGIN, expiresInMinutes: 15 },
    { template: 'login-link', to: 'a@example.com', locale, loginUrl: LOGIN, expiresInMinutes: 15 },
  ]);
  const IGNORE = {
    en: { 'lead-login-link': 'If you did not start an assessment, ignore this email', 'login-link': 'you can ignore this email' },
    nb: { 'lead-login-link': 'kan du se bort fra denne e-posten', 'login-link': 'kan du se bort fra denne e-posten' },
  };

  it.each(cases)('renders $template in $locale with a subject, text and HTML', (message) => {
    const mail = renderMail(message);
    expect(mail.subject.trim()).not.toBe('');
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.html).toMatch(/^<!doctype html>/i);
    expect(mail.text).toContain(IGNORE[message.locale][message.template]);
    expect(mail.html).toContain(IGNORE[message.locale][message.template]);
    expect(mail.text).toContain(String(message.expiresInMinutes));
  });

  it.each(cases)('puts the link of $template ($locale) in the text and, escaped, in the HTML', (message) => {
    const mail = renderMail(message);
    expect(mail.text).toContain(LOGIN);
    expect(mail.html).toContain('href="https://posture.example/auth/link?token=tok_ABC-123&amp;next=%2Fresults"');
    expect(mail.html).not.toContain(LOGIN);
  });

  it('greets a lead neutrally and says that ignoring the email creates nothing', () => {
    const en = renderMail(cases[0]!);
    expect(en.text).toMatch(/^Hello,$/m);
    expect(en.text).toContain('Someone, probably you, started a security self-assessment on Posture with this email address.');
    expect(en.text).toContain('save your results and open your account');
    expect(en.text).toContain('The link works once and expires in 30 minutes.');
    expect(en.text).toContain('nothing happens and no account is created');

    const nb = renderMail(cases[4]!);
    expect(nb.subject).toBe('Lagre resultatene dine fra Posture');
    expect(nb.text).toMatch(/^Hei,$/m);
    expect(nb.text).toContain('med denne e-postadressen');
    expect(nb.text).toContain('utløper om 30 minutter');
    expect(nb.text).toContain('ingen konto blir opprettet');
    expect(nb.text.replace(LOGIN, '')).not.toMatch(/\b(the|you|link|expires|ignore)\b/i);
  });

  it('names the assessment a lead started, when it is known', () => {
    expect(renderMail(cases[1]!).text).toContain('started the security self-assessment “Small business baseline” on Posture');
    expect(renderMail(cases[5]!).text).toContain('startet egenvurderingen «Small business baseline» på Posture');
  });

  it('asks an account holder to sign in, greeting them by name when it is known', () => {
    const en = renderMail(cases[2]!);
    expect(en.subject).toBe('Sign in to Posture');
    expect(en.text).toMatch(/^Hello Ada,$/m);
    expect(en.text).toContain('Use this link to sign in to Posture');
    expect(en.text).toContain('The link works once and expires in 15 minutes.');
    expect(renderMail(cases[3]!).text).toMatch(/^Hello,$/m);

    const nb = renderMail(cases[6]!);
    expect(nb.subject).toBe('Logg inn på Posture');
    expect(nb.text).toMatch(/^Hei Ada,$/m);
    expect(nb.text).toContain('logge inn på Posture');
    expect(nb.text).toContain('utløper om 15 minutter');
    expect(nb.text.replace(LOGIN, '')).not.toMatch(/\b(the|you|link|expires|ignore)\b/i);
    expect(renderMail(cases[7]!).text).toMatch(/^Hei,$/m);
  });

  it('says "1 minute" in the singular', () => {
    expect(renderMail({ ...cases[2]!, expiresInMinutes: 1 }).text).toContain('expires in 1 minute.');
    expect(renderMail({ ...cases[6]!, expiresInMinutes: 1 }).text).toContain('utløper om 1 minutt.');
  });

  it('leaves nothing unescaped in the HTML', () => {
    const hostileLink = 'https://x.example/?a="><img src=x onerror=alert(1)>&b=1';
    for (const locale of locales) {
      const lead = renderMail({ ...(cases[1] as LeadMessage), locale, templateName: HOSTILE, loginUrl: hostileLink });
      const login = renderMail({ ...(cases[2] as LoginMessage), locale, name: HOSTILE, loginUrl: hostileLink });
      for (const mail of [lead, login]) {
        expect(mail.html).not.toContain('<script>');
        expect(mail.html).not.toContain('"><img');
        expect(mail.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Bob&#39;');
        expect(mail.html).toContain('href="https://x.example/?a=&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;b=1"');
        expect(mail.text).toContain(HOSTILE);
        // every tag in the HTML is one of the layout's own
        for (const tag of mail.html.match(/<\/?([a-z!]+)/gi) ?? []) expect(tag.toLowerCase()).toMatch(/^<\/?(!doctype|html|body|p|a)$/);
      }
    }
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
