// A real OpenID provider for the tests (npm oidc-provider 8.x), on loopback only.
//
// Usage: node oidc_provider.mjs '<json config>' where the config is
//   { port, clients: [{client_id, client_secret, redirect_uris}], accounts: [{sub, email, email_verified, name}],
//     forge_signatures: bool }
// Logins use the built-in development pages: any password, the login is the account's sub.
// With forge_signatures, /jwks publishes a different key under the signing key's id, so every id_token
// this provider issues fails signature verification at the client.

import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2]);
const issuer = `http://127.0.0.1:${config.port}`;

function rsaJwk(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

const signingKey = rsaJwk('test-key');
const accounts = new Map(config.accounts.map((account) => [account.sub, account]));

const provider = new Provider(issuer, {
  clients: config.clients.map((client) => ({
    ...client,
    grant_types: ['authorization_code'],
    response_types: ['code'],
  })),
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  pkce: { methods: ['S256'], required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return { accountId: sub, async claims() { return { ...account }; } };
  },
});

if (config.forge_signatures) {
  const { d, p, q, dp, dq, qi, ...forgedPublicKey } = rsaJwk('test-key');
  provider.use(async (ctx, next) => {
    if (ctx.path === '/jwks') {
      ctx.type = 'application/jwk-set+json';
      ctx.body = { keys: [forgedPublicKey] };
      return;
    }
    await next();
  });
}

const server = provider.listen(config.port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
