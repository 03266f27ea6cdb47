// A real OpenID provider (oidc-provider 9) on loopback, for the OIDC tests. It runs in its own
// process, because oidc-provider is ESM-only and jest runs the tests as CommonJS.
//
//   node tests/oidc/provider.mjs '{"clients":[{ "client_id", "client_secret", "redirect_uris", "token_endpoint_auth_method" }]}'
//
// prints `PORT <n>` once it listens. Its issuer is http://127.0.0.1:<n>. A small control API on the
// same server lets a test choose who logs in next and how the next token response is bent:
//   POST /test/next-login   { sub, email, email_verified, name }: the account the next authorization logs in as
//   POST /test/next-token   { mode: 'tamper' | 'nonce' | 'expired' }: rewrites the next ID token
// Interactions finish on their own (login as the chosen account, grant openid email profile).
import http from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import Provider from 'oidc-provider';

const settings = JSON.parse(process.argv[2] ?? '{}');
const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };

const accounts = new Map();
let nextLogin = null;
let nextToken = null;

const readJson = (req) =>
  new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      try {
        resolve(body ? JSON.parse(body) : {});
      } catch (err) {
        reject(err);
      }
    });
  });

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: settings.clients ?? [],
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The claims go into the ID token itself, as Google's do.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  async findAccount(_ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        const claims = { sub };
        if (account.email !== undefined) claims.email = account.email;
        if (account.email_verified !== undefined) claims.email_verified = account.email_verified;
        if (account.name !== undefined) claims.name = account.name;
        return claims;
      },
    };
  },
});
provider.on('server_error', (_ctx, err) => console.error('provider server_error', err));

// Bends the next token response's ID token: a flipped signature byte, or a payload re-signed with
// the provider's own key carrying another nonce or a past expiry.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/token' || !nextToken || !ctx.body || typeof ctx.body.id_token !== 'string') return;
  const mode = nextToken.mode;
  nextToken = null;
  const idToken = ctx.body.id_token;
  if (mode === 'tamper') {
    const [h, p, s] = idToken.split('.');
    const sig = Buffer.from(s, 'base64url');
    sig[sig.length - 1] ^= 0x01;
    ctx.body = { ...ctx.body, id_token: `${h}.${p}.${sig.toString('base64url')}` };
    return;
  }
  const header = decodeProtectedHeader(idToken);
  const payload = decodeJwt(idToken);
  if (mode === 'nonce') payload.nonce = 'not-the-nonce-that-was-sent';
  if (mode === 'expired') {
    const now = Math.floor(Date.now() / 1000);
    payload.iat = now - 7200;
    payload.exp = now - 3600;
  }
  const resigned = await new SignJWT(payload).setProtectedHeader({ alg: header.alg, kid: header.kid, typ: header.typ }).sign(privateKey);
  ctx.body = { ...ctx.body, id_token: resigned };
});

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    if (!nextLogin) {
      res.statusCode = 400;
      res.end('no next login set');
      return;
    }
    const accountId = nextLogin.sub;
    nextLogin = null;
    await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  grant.addOIDCScope('openid email profile');
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
server.on('request', async (req, res) => {
  try {
    if (req.method === 'POST' && req.url === '/test/next-login') {
      const body = await readJson(req);
      accounts.set(body.sub, body);
      nextLogin = body;
      res.end('{}');
      return;
    }
    if (req.method === 'POST' && req.url === '/test/next-token') {
      nextToken = await readJson(req);
      res.end('{}');
      return;
    }
    if (req.url.startsWith('/interaction/')) {
      await interaction(req, res);
      return;
    }
    callback(req, res);
  } catch (err) {
    console.error('provider test route failed', err);
    res.statusCode = 500;
    res.end(String(err?.message ?? err));
  }
});

process.stdout.write(`PORT ${port}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
