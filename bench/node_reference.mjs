// The reference of bench/token_endpoint.py: node-oidc-provider issuing client-credentials
// ES256 JWT access tokens (RFC 9068) for one resource indicator (RFC 8707), the closest
// thing it does to authserver's token endpoint.
//
// Loaded from the npm package the tests install (tests/support/oidc_provider), so nothing
// else is installed for the benchmark. Environment:
//   PORT            TCP port on 127.0.0.1 (required)
//   CLIENT_ID, CLIENT_SECRET   the confidential client (client_secret_post)
//   RESOURCE        the resource indicator (an absolute URI)
// Prints "READY" on stdout once listening.

import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const PACKAGE = resolve(HERE, '../tests/support/oidc_provider/node_modules/oidc-provider/lib/index.js');
const { default: Provider } = await import(pathToFileURL(PACKAGE).href);

const { PORT, CLIENT_ID, CLIENT_SECRET, RESOURCE } = process.env;
const SCOPE = 'chat:read';

const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

const provider = new Provider(`http://127.0.0.1:${PORT}`, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_post',
    scope: SCOPE,
    id_token_signed_response_alg: 'ES256',
  }],
  jwks: { keys: [{ ...signing, kid: 'bench', alg: 'ES256', use: 'sig' }] },
  scopes: [SCOPE],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== RESOURCE) throw new Error('unknown resource');
        return {
          scope: SCOPE,
          audience: RESOURCE,
          accessTokenTTL: 900,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  ttl: { ClientCredentials: 900 },
});
provider.proxy = false;

const server = createServer(provider.callback());
server.keepAliveTimeout = 65_000;
process.on('SIGTERM', () => { server.close(); server.closeAllConnections(); process.exit(0); });
server.listen(Number(PORT), '127.0.0.1', () => process.stdout.write('READY\n'));
