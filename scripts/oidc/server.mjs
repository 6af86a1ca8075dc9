// A real OpenID Connect provider (panva's certified oidc-provider) for development and the
// end-to-end tests: authorization code flow, RS256 ID tokens signed with a key generated at
// start, a JWKS, userinfo and RP-initiated logout. Staff sign in on its login page with an
// account id; in development ANY password is accepted (there is no password store here).
//
// Configuration: a JSON file named by OIDC_DEV_CONFIG (or the first argument), with every
// field overridable by an environment variable:
//   {
//     "port": 8055,                                  OIDC_DEV_PORT
//     "issuer": "http://127.0.0.1:8055",             OIDC_DEV_ISSUER (default from the port)
//     "client": {
//       "client_id": "andes-backoffice",             OIDC_DEV_CLIENT_ID
//       "client_secret": "...",                      OIDC_DEV_CLIENT_SECRET
//       "redirect_uris": ["http://demo.localhost:8000/oidc/callback/"],
//                                                    OIDC_DEV_REDIRECT_URIS (comma-separated)
//       "post_logout_redirect_uris": ["http://demo.localhost:8000/backoffice/signed-out/"]
//                                                    OIDC_DEV_POST_LOGOUT_REDIRECT_URIS
//     },
//     "accounts": [{"sub": "demo-owner", "email": "owner@example.com", "name": "Olivia"}]
//   }
// It prints "oidc-provider listening on <issuer>" once it accepts connections.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider, { errors } from 'oidc-provider';

const configPath = process.env.OIDC_DEV_CONFIG || process.argv[2];
const file = configPath ? JSON.parse(readFileSync(configPath, 'utf8')) : {};
const list = (value) => (value ? value.split(',').map((item) => item.trim()).filter(Boolean) : null);

const port = Number(process.env.OIDC_DEV_PORT || file.port || 8055);
const issuer = process.env.OIDC_DEV_ISSUER || file.issuer || `http://127.0.0.1:${port}`;
const client = {
  client_id: process.env.OIDC_DEV_CLIENT_ID || file.client?.client_id || 'andes-backoffice',
  client_secret:
    process.env.OIDC_DEV_CLIENT_SECRET || file.client?.client_secret || 'development-only-secret',
  redirect_uris: list(process.env.OIDC_DEV_REDIRECT_URIS) || file.client?.redirect_uris || [],
  post_logout_redirect_uris:
    list(process.env.OIDC_DEV_POST_LOGOUT_REDIRECT_URIS)
    || file.client?.post_logout_redirect_uris
    || [],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_post',
  id_token_signed_response_alg: 'RS256',
};
const accounts = new Map((file.accounts || []).map((account) => [account.sub, account]));

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: randomBytes(8).toString('hex'),
  alg: 'RS256',
  use: 'sig',
};

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escape(title)}</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; margin: 3rem auto; max-width: 26rem; padding: 0 1rem; }
    label { display: block; margin-top: 1rem; font-weight: 600; }
    input { width: 100%; padding: .5rem; font-size: 1rem; box-sizing: border-box; }
    button { margin-top: 1.25rem; padding: .6rem 1.2rem; font-size: 1rem; }
    .error { color: #b91c1c; } .hint { color: #555; font-size: .9rem; }
  </style>
</head>
<body>
${body}
</body>
</html>`;
}

function loginPage({ uid, error = '', login = '' }) {
  const known = [...accounts.values()]
    .map((account) => `<li><code>${escape(account.sub)}</code> — ${escape(account.email)}</li>`)
    .join('');
  return page('Sign in', `
  <h1>Sign in</h1>
  <p class="hint">Development identity provider: sign in with an account id; any password works.</p>
  ${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
  <form method="post" action="/interaction/${escape(uid)}/login" autocomplete="off">
    <label for="login">Login</label>
    <input id="login" name="login" required autofocus value="${escape(login)}">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" required>
    <button type="submit">Sign in</button>
  </form>
  <p><a href="/interaction/${escape(uid)}/abort">Cancel</a></p>
  ${known ? `<details><summary>Accounts</summary><ul>${known}</ul></details>` : ''}`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const provider = new Provider(issuer, {
  clients: [client],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  scopes: ['openid', 'email', 'profile'],
  // Like Cognito, the ID token carries the profile and e-mail claims as well as userinfo.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // Like Cognito's /logout, sign out at once (the form posts itself); the button is the
      // fallback without JavaScript and what a scripted client submits.
      async logoutSource(ctx, form) {
        const confirmed = form.replace('</form>', '<input type="hidden" name="logout" value="yes"></form>');
        ctx.body = page('Sign out', `
  <h1>Signing out…</h1>
  ${confirmed}
  <button type="submit" form="op.logoutForm">Sign out</button>
  <script>document.getElementById('op.logoutForm').submit();</script>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Signed out', '<h1>Signed out</h1><p>You have signed out.</p>');
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, email: account.email, email_verified: true, name: account.name || '' };
      },
    };
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    const details = Object.entries(out)
      .map(([key, value]) => `<dt>${escape(key)}</dt><dd>${escape(value)}</dd>`)
      .join('');
    ctx.body = page('Sign-in error', `<h1>Sign-in error</h1><dl>${details}</dl>`);
  },
  ttl: { Interaction: 600, Session: 8 * 3600, Grant: 8 * 3600, IdToken: 3600, AccessToken: 3600, AuthorizationCode: 60 },
});

// The staff's own login and consent steps (oidc-provider's "interactions"): a login page with
// labelled fields, and consent granted at once to the one first-party client.
provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([\w-]+)(?:\/(login|abort))?$/);
  if (!match) return next();
  const [, uid, action] = match;
  ctx.set('Cache-Control', 'no-store');
  try {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) ctx.throw(400, 'interaction mismatch');
    const { prompt, params, session } = details;

    if (action === 'abort') {
      const result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
      ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
      return undefined;
    }
    if (prompt.name === 'login') {
      if (action === 'login' && ctx.method === 'POST') {
        const form = await readForm(ctx.req);
        const login = (form.get('login') || '').trim();
        if (!accounts.has(login)) {
          ctx.status = 400;
          ctx.type = 'html';
          ctx.body = loginPage({ uid, login, error: `There is no account "${login}".` });
          return undefined;
        }
        const result = { login: { accountId: login } };
        ctx.status = 303;
        ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
        return undefined;
      }
      ctx.type = 'html';
      ctx.body = loginPage({ uid, login: params.login_hint || '' });
      return undefined;
    }
    if (prompt.name === 'consent') {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      const result = { consent: { grantId: await grant.save() } };
      ctx.status = 303;
      ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true }));
      return undefined;
    }
    ctx.throw(501, `prompt ${prompt.name} is not implemented`);
  } catch (error) {
    if (error instanceof errors.SessionNotFound) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = page('Sign-in expired', '<h1>Sign-in expired</h1><p>Go back to the site and sign in again.</p>');
      return undefined;
    }
    throw error;
  }
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
