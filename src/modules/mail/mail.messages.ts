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
  | { template: 'password-changed'; to: string; name: string; changedAt: string; resetUrl: string };

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

/** The one place where emails get their words. */
export function renderMail(message: MailMessage): RenderedMail {
  const hello = `Hello ${message.name},`;
  switch (message.template) {
    case 'verify-email':
      return layout('Confirm your email address', hello, [
        { p: 'Confirm your email address to finish creating your Posture account.' },
        { link: { href: message.verifyUrl, label: 'Confirm email address' } },
        { p: `The link expires in ${message.expiresInHours} hours. ${IGNORE}` },
      ]);
    case 'sign-up-attempt':
      return layout('Someone tried to sign up with your email', hello, [
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
      return layout('Reset your password', hello, [
        { p: 'We received a request to reset your Posture password. Use the link:' },
        { link: { href: message.resetUrl, label: 'Reset password' } },
        { p: `or enter this code (valid for ${message.codeExpiresInMinutes} minutes):` },
        { code: message.code },
        { p: `The link expires in ${message.expiresInMinutes} minutes and works once. ${IGNORE}` },
      ]);
    case 'password-changed':
      return layout('Your password was changed', hello, [
        { p: `The password of your Posture account was changed at ${message.changedAt}, and your other sessions were signed out.` },
        { p: 'If you did not do this, reset your password now:' },
        { link: { href: message.resetUrl, label: 'Reset password' } },
      ]);
  }
}
