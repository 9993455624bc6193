// A certified OpenID provider (panva's oidc-provider) on loopback, for the token tests only.
//
// Environment: PORT, JWKS_FILE (its signing keys, private parts included, so that a test can
// also sign the odd token itself), REDIRECT_URI (of the browser client), USERS (JSON: login
// name -> { name, groups }), TOKEN_TTL (seconds an access token of the script client lives).
// Prints "ready" once it listens.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const users = JSON.parse(process.env.USERS || '{}');
const tokenTtl = Number(process.env.TOKEN_TTL || 300);

const clients = [
  {
    client_id: 'happyface',
    client_secret: 'happyface-secret',
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  },
  {
    client_id: 'robot',
    client_secret: 'robot-secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  },
];

// the first-party dashboard needs no consent screen: its grant is made at login
async function loadExistingGrant(ctx) {
  const grantId = ctx.oidc.result?.consent?.grantId
    || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
  if (grantId) return ctx.oidc.provider.Grant.find(grantId);
  const grant = new ctx.oidc.provider.Grant({
    clientId: ctx.oidc.client.clientId,
    accountId: ctx.oidc.session.accountId,
  });
  grant.addOIDCScope('openid profile groups');
  await grant.save();
  return grant;
}

const provider = new Provider(issuer, {
  clients,
  jwks: JSON.parse(readFileSync(process.env.JWKS_FILE, 'utf8')),
  cookies: { keys: ['test-provider-cookie-key'] },
  // any login name is accepted by the development login form; known ones have groups
  async findAccount(ctx, id) {
    const user = users[id] || { name: id, groups: [] };
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: user.name, preferred_username: id, groups: user.groups };
      },
    };
  },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  scopes: ['openid', 'profile', 'groups', 'read'],
  // the ID token carries the granted claims (groups), not only userinfo
  conformIdTokenClaims: false,
  loadExistingGrant,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => undefined,
      useGrantedResource: async () => false,
      getResourceServerInfo: async (ctx, resource) => ({
        scope: 'read',
        audience: resource,
        accessTokenTTL: tokenTtl,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  // the script client's tokens carry WLCG groups, as WLCG IAM's do
  async extraTokenClaims(ctx, token) {
    return token.clientId === 'robot' ? { 'wlcg.groups': ['/cms/robots'] } : undefined;
  },
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write('ready\n');
});
