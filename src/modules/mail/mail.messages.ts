/** Every email Posture sends, as data. Stored in the outbox and rendered only when delivered. */
export type MailMessage =
  | { template: 'verify-email'; to: string; name: string; verifyUrl: string; expiresInHours: number }
  | { template: 'sign-up-attempt'; to: string; name: string; logInUrl: string; resetUrl: string; verifyUrl?: string }
  | {
      template: 'password-reset';
      to: string;
      name: string;
      resetUrl: string;
      code: string;
      expiresInMinutes: number;
      codeExpiresInMinutes: number;
    }
  | { template: 'password-changed'; to: string; name: string; changedAt: string; resetUrl: string }
  | {
      template: 'lead-login-link';
      to: string;
      locale: MailLocale;
      loginUrl: string;
      expiresInMinutes: number;
      templateName?: string;
    }
  | { template: 'login-link'; to: string; locale: MailLocale; name?: string; loginUrl: string; expiresInMinutes: number }
  | { template: 'email-change-confirm'; to: string; name: string; confirmUrl: string; expiresInHours: number }
  | { template: 'email-change-notice'; to: string; name: string; newEmail: string; resetUrl: string }
  | { template: 'email-change-address-taken'; to: string; name: string; logInUrl: string; resetUrl: string }
  | { template: 'invitation'; to: string; name: string; username: string; inviteUrl: string; expiresInDays: number }
  | { template: 'totp-enabled'; to: string; name: string; enabledAt: string; resetUrl: string }
  /** `byStaff`: an administrator turned it off (adminDisableTotp), and every session ended. */
  | { template: 'totp-disabled'; to: string; name: string; disabledAt: string; byStaff: boolean; resetUrl: string }
  | { template: 'second-step-failed'; to: string; name: string; at: string; via: 'password' | 'link' | 'oidc'; resetUrl: string };

export type MailLocale = 'en' | 'nb';

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

type Block = { p: string } | { link: { href: string; label: string } } | { code: string };

function layout(subject: string, greeting: string, blocks: Block[]): RenderedMail {
  const text = [
    greeting,
    '',
    ...blocks.map((b) => ('p' in b ? b.p : 'link' in b ? `${b.link.label}: ${b.link.href}` : `    ${b.code}`)).flatMap((l) => [l, '']),
    '— Posture',
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#111">',
    `<p>${escapeHtml(greeting)}</p>`,
    ...blocks.map((b) =>
      'p' in b
        ? `<p>${escapeHtml(b.p)}</p>`
        : 'link' in b
          ? `<p><a href="${escapeHtml(b.link.href)}">${escapeHtml(b.link.label)}</a></p>`
          : `<p style="font-size:24px;letter-spacing:4px;font-weight:bold">${escapeHtml(b.code)}</p>`,
    ),
    '<p>— Posture</p></body></html>',
  ].join('\n');
  return { subject, text, html };
}

const IGNORE = 'If this was not you, you can ignore this email.';

/** The words of the sign-in link emails, which go out in the visitor's language. */
const LINK_WORDS = {
  en: {
    hello: (name?: string) => (name ? `Hello ${name},` : 'Hello,'),
    singleUse: (minutes: number) =>
      `The link works once and expires in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.`,
    lead: {
      subject: 'Save your Posture results',
      started: (templateName?: string) =>
        `Someone, probably you, started ${templateName ? `the security self-assessment “${templateName}”` : 'a security self-assessment'} on Posture with this email address.`,
      use: 'Use this link to save your results and open your account:',
      label: 'Save my results',
      ignore: 'If you did not start an assessment, ignore this email: nothing happens and no account is created.',
    },
    login: {
      subject: 'Sign in to Posture',
      use: 'Use this link to sign in to Posture:',
      label: 'Sign in',
      ignore: 'If you did not ask to sign in, you can ignore this email; nothing happens.',
    },
  },
  nb: {
    hello: (name?: string) => (name ? `Hei ${name},` : 'Hei,'),
    singleUse: (minutes: number) =>
      `Lenken kan bare brukes én gang og utløper om ${minutes} ${minutes === 1 ? 'minutt' : 'minutter'}.`,
    lead: {
      subject: 'Lagre resultatene dine fra Posture',
      started: (templateName?: string) =>
        `Noen, sannsynligvis du, startet ${templateName ? `egenvurderingen «${templateName}»` : 'en sikkerhetsvurdering'} på Posture med denne e-postadressen.`,
      use: 'Bruk denne lenken for å lagre resultatene og åpne kontoen din:',
      label: 'Lagre resultatene mine',
      ignore:
        'Hvis det ikke var du som startet vurderingen, kan du se bort fra denne e-posten: ingenting skjer, og ingen konto blir opprettet.',
    },
    login: {
      subject: 'Logg inn på Posture',
      use: 'Bruk denne lenken for å logge inn på Posture:',
      label: 'Logg inn',
      ignore: 'Hvis du ikke ba om å logge inn, kan du se bort fra denne e-posten; ingenting skjer.',
    },
  },
} satisfies Record<MailLocale, unknown>;

/** The one place where emails get their words. */
export function renderMail(message: MailMessage): RenderedMail {
  const hello = (name: string) => `Hello ${name},`;
  switch (message.template) {
    case 'verify-email':
      return layout('Confirm your email address', hello(message.name), [
        { p: 'Confirm your email address to finish creating your Posture account.' },
        { link: { href: message.verifyUrl, label: 'Confirm email address' } },
        { p: `The link expires in ${message.expiresInHours} hours. ${IGNORE}` },
      ]);
    case 'sign-up-attempt':
      return layout('Someone tried to sign up with your email', hello(message.name), [
        { p: 'Someone tried to create a Posture account with this email address, but you already have one.' },
        ...(message.verifyUrl
          ? [
              { p: 'Your address is not confirmed yet; confirm it here:' },
              { link: { href: message.verifyUrl, label: 'Confirm email address' } },
            ]
          : []),
        { link: { href: message.logInUrl, label: 'Log in' } },
        { p: 'Forgot your password? Reset it here:' },
        { link: { href: message.resetUrl, label: 'Reset password' } },
        { p: IGNORE },
      ]);
    case 'password-reset':
      return layout('Reset your password', hello(message.name), [
        { p: 'We received a request to reset your Posture password. Use the link:' },
        { link: { href: message.resetUrl, label: 'Reset password' } },
        { p: `or enter this code (valid for ${message.codeExpiresInMinutes} minutes):` },
        { code: message.code },
        { p: `The link expires in ${message.expiresInMinutes} minutes and works once. ${IGNORE}` },
      ]);
    case 'password-changed':
      return layout('Your password was changed', hello(message.name), [
        { p: `The password of your Posture account was changed at ${message.changedAt}, and your other sessions were signed out.` },
        { p: 'If you did not do this, reset your password now:' },
        { link: { href: message.resetUrl, label: 'Reset password' } },
      ]);
    case 'lead-login-link': {
      const words = LINK_WORDS[message.locale];
      return layout(words.lead.subject, words.hello(), [
        { p: words.lead.started(message.templateName) },
        { p: words.lead.use },
        { link: { href: message.loginUrl, label: words.lead.label } },
        { p: words.singleUse(message.expiresInMinutes) },
        { p: words.lead.ignore },
      ]);
    }
    case 'login-link': {
      const words = LINK_WORDS[message.locale];
      return layout(words.login.subject, words.hello(message.name), [
        { p: words.login.use },
        { link: { href: message.loginUrl, label: words.login.label } },
        { p: words.singleUse(message.expiresInMinutes) },
        { p: words.login.ignore },
      ]);
    }
    case 'email-change-confirm':
      return layout('Confirm your new email address', hello(message.name), [
        { p: 'You asked to use this address for your Posture account. Confirm it to make the change:' },
        { link: { href: message.confirmUrl, label: 'Confirm new email address' } },
        { p: `Until then your account keeps its old address. The link expires in ${message.expiresInHours} hours and works once. ${IGNORE}` },
      ]);
    case 'email-change-notice':
      return layout('A change of your email address was requested', hello(message.name), [
        { p: `Someone signed in to your Posture account asked to change its email address to ${message.newEmail}.` },
        { p: 'Nothing changes unless the link sent to that address is followed. If this was not you, reset your password now:' },
        { link: { href: message.resetUrl, label: 'Reset password' } },
      ]);
    case 'email-change-address-taken':
      return layout('Someone tried to move an account to your email address', hello(message.name), [
        { p: 'Someone asked to change the email address of a Posture account to this one, but this address already has an account. Nothing was changed.' },
        { link: { href: message.logInUrl, label: 'Log in' } },
        { p: 'Forgot your password? Reset it here:' },
        { link: { href: message.resetUrl, label: 'Reset password' } },
        { p: IGNORE },
      ]);
    case 'invitation': {
      const days = message.expiresInDays;
      return layout('You are invited to Posture', hello(message.name), [
        { p: `An administrator made a Posture account for you, with the username ${message.username}. Choose a password to open it:` },
        { link: { href: message.inviteUrl, label: 'Choose a password' } },
        { p: `The link confirms this email address, works once and expires in ${days} ${days === 1 ? 'day' : 'days'}. If you did not expect this, you can ignore this email.` },
      ]);
    }
    case 'totp-enabled':
      return layout('Two-factor sign-in is on', hello(message.name), [
        { p: `Two-factor sign-in was turned on for your Posture account at ${message.enabledAt}, and your other sessions were signed out. Signing in now asks for a code from your authenticator app, or one of your recovery codes.` },
        { p: 'If you did not do this, someone has your password: reset it now.' },
        { link: { href: message.resetUrl, label: 'Reset password' } },
      ]);
    case 'second-step-failed':
      return layout('A sign-in stopped at the second step', hello(message.name), [
        {
          p: `At ${message.at} someone got past the first step of signing in to your Posture account (${
            { password: 'your password', link: 'a login link sent to your address', oidc: 'a provider login linked to the account' }[message.via]
          }), then entered five wrong codes at the second step. Your account stayed closed.`,
        },
        { p: 'If this was not you, someone has that first step: reset your password now, and check the provider logins linked to your account.' },
        { link: { href: message.resetUrl, label: 'Reset password' } },
      ]);
    case 'totp-disabled':
      return layout('Two-factor sign-in is off', hello(message.name), [
        {
          p: message.byStaff
            ? `An administrator turned off two-factor sign-in for your Posture account at ${message.disabledAt}, as asked when the device and the recovery codes are lost. Every session of the account was signed out.`
            : `Two-factor sign-in was turned off for your Posture account at ${message.disabledAt}, and your other sessions were signed out. Signing in now needs only your password or a login link.`,
        },
        { p: 'If you did not ask for this, reset your password now, and turn two-factor sign-in back on.' },
        { link: { href: message.resetUrl, label: 'Reset password' } },
      ]);
  }
}
