// A real OpenID Provider (node-oidc-provider) on loopback, used as the upstream
// IdP in authserver's integration tests. Driven by tests/support/upstream_idp.py.
//
// Configuration (environment variables; argv `--name=value` overrides, e.g. --port=4000):
//   PORT           TCP port on 127.0.0.1 (required, or --port)
//   ISSUER         issuer identifier (default http://127.0.0.1:PORT)
//   CLIENTS        JSON list of client metadata (client_id, client_secret, redirect_uris, ...)
//                  passed to oidc-provider as-is (default: chat-web and other-app)
//   KEYS_FILE      path of a JWKS with private keys; generated (RS256 + ES256) if absent
//   ACCOUNTS       JSON object {accountId: {claim: value}} overriding derived claims
//   ID_TOKEN_TTL, ACCESS_TOKEN_TTL   seconds (default 3600)
//   DEBUG_HTTP=1   log each request to stderr
//
// Login is plain HTTP, no HTML: GET /interaction/:uid answers JSON naming the prompt
// ("login" or "consent"); POST /interaction/:uid with form field `login=<name>` completes
// either prompt (consent grants everything requested); `deny=1` aborts with access_denied.
//
// Control surface (tests only):
//   GET  /__control/health        -> {"issuer", "kids"}
//   POST /__control/rotate-keys   -> writes a fresh key set to KEYS_FILE and swaps in a new
//                                    provider instance; body {"keep_previous": true} keeps the
//                                    old keys published (after the new ones, so not used to sign)
//   POST /__control/accounts      -> body {accountId: {claim: value}} merges claim overrides
// Prints "READY <issuer>" on stdout once listening.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider, { errors } from 'oidc-provider';

function argvOptions() {
  const out = {};
  for (const arg of process.argv.slice(2)) {
    const match = /^--([a-z0-9-]+)=(.*)$/s.exec(arg);
    if (!match) throw new Error(`unrecognised argument ${arg} (expected --name=value)`);
    out[match[1].toUpperCase().replaceAll('-', '_')] = match[2];
  }
  return out;
}

const options = { ...process.env, ...argvOptions() };
const PORT = Number(options.PORT);
if (!Number.isInteger(PORT) || PORT <= 0) throw new Error('PORT (or --port=N) is required');
const ISSUER = options.ISSUER || `http://127.0.0.1:${PORT}`;
const KEYS_FILE = options.KEYS_FILE;
if (!KEYS_FILE) throw new Error('KEYS_FILE (or --keys-file=PATH) is required');

const DEFAULT_CLIENTS = [
  {
    client_id: 'chat-web',
    client_secret: 'chat-web-secret-0123456789abcdef0123456789abcdef',
    redirect_uris: ['https://chat-web.example.test/callback'],
  },
  {
    client_id: 'other-app',
    client_secret: 'other-app-secret-0123456789abcdef0123456789abcdef',
    redirect_uris: ['https://other-app.example.test/callback'],
  },
];
const CLIENTS = options.CLIENTS ? JSON.parse(options.CLIENTS) : DEFAULT_CLIENTS;
const accountOverrides = options.ACCOUNTS ? JSON.parse(options.ACCOUNTS) : {};

// ---------------------------------------------------------------- keys

function newKid() {
  return randomBytes(12).toString('base64url');
}

function generateKeySet() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [
    { ...rsa, kid: newKid(), alg: 'RS256', use: 'sig' },
    { ...ec, kid: newKid(), alg: 'ES256', use: 'sig' },
  ];
}

function writeKeys(keys) {
  const tmp = `${KEYS_FILE}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, KEYS_FILE);
}

function loadOrCreateKeys() {
  if (existsSync(KEYS_FILE)) return JSON.parse(readFileSync(KEYS_FILE, 'utf8')).keys;
  const keys = generateKeySet();
  writeKeys(keys);
  return keys;
}

// ---------------------------------------------------------------- accounts

function capitalise(word) {
  return word ? word[0].toUpperCase() + word.slice(1) : word;
}

function derivedClaims(accountId) {
  const local = accountId.split('@')[0];
  const [first, ...rest] = local.split(/[._-]+/).filter(Boolean);
  const givenName = capitalise(first || local);
  const familyName = rest.length ? rest.map(capitalise).join(' ') : 'Example';
  return {
    sub: accountId,
    email: accountId.includes('@') ? accountId : `${accountId}@example.test`,
    email_verified: true,
    name: `${givenName} ${familyName}`,
    given_name: givenName,
    family_name: familyName,
    preferred_username: accountId,
  };
}

async function findAccount(_ctx, accountId) {
  return {
    accountId,
    async claims() {
      return { ...derivedClaims(accountId), ...(accountOverrides[accountId] || {}), sub: accountId };
    },
  };
}

// ---------------------------------------------------------------- provider

function buildProvider(keys) {
  const provider = new Provider(ISSUER, {
    clients: CLIENTS,
    jwks: { keys },
    findAccount,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    },
    // Put scope-derived claims (email, profile) in the ID token too, like most real IdPs.
    conformIdTokenClaims: false,
    cookies: { keys: ['upstream-idp-test-cookie-key'] },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: {
      AccessToken: Number(options.ACCESS_TOKEN_TTL) || 3600,
      AuthorizationCode: 60,
      Grant: 3600,
      IdToken: Number(options.ID_TOKEN_TTL) || 3600,
      Interaction: 600,
      Session: 3600,
    },
  });
  // Plain http on loopback: no proxy headers to trust; cookies stay non-Secure because
  // ctx.secure is false, so they work over http.
  provider.proxy = false;
  return provider;
}

let keys = loadOrCreateKeys();
let provider = buildProvider(keys);
let handler = provider.callback();

function rotateKeys(keepPrevious) {
  const fresh = generateKeySet();
  const next = keepPrevious ? [...fresh, ...keys] : fresh;
  const nextProvider = buildProvider(next); // throws before anything is swapped
  writeKeys(next);
  keys = next;
  provider = nextProvider;
  handler = provider.callback();
}

function publicKids() {
  return keys.map((k) => k.kid);
}

// ---------------------------------------------------------------- tiny HTTP helpers

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function readParams(req) {
  const raw = await readBody(req);
  if ((req.headers['content-type'] || '').includes('application/json')) {
    return raw ? JSON.parse(raw) : {};
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

// ---------------------------------------------------------------- interactions

// A browser (Accept: text/html) gets a form to fill in: the login name, or a consent button.
function interactionPage(uid, prompt, params) {
  const field = prompt.name === 'login'
    ? '<label for="login">Username</label> <input id="login" name="login" autocomplete="username" required>'
    : `<p>${String(params.client_id).replace(/[^\w.-]/g, '')} asks for: ${String(params.scope).replace(/[^\w .:-]/g, '')}</p>`;
  const button = prompt.name === 'login' ? 'Sign in' : 'Allow';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Upstream IdP: ${prompt.name}</title></head>
<body><h1>Upstream IdP</h1><form method="post" action="/interaction/${uid}">${field}
<button type="submit" id="submit">${button}</button></form></body></html>`;
}

async function interactionShow(req, res) {
  const { uid, prompt, params } = await provider.interactionDetails(req, res);
  if ((req.headers.accept || '').includes('text/html')) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(interactionPage(uid, prompt, params));
    return;
  }
  sendJson(res, 200, {
    uid,
    prompt: prompt.name,
    reasons: prompt.reasons,
    details: prompt.details,
    client_id: params.client_id,
    scope: params.scope,
    submit: `/interaction/${uid}`,
  });
}

async function consentGrant(details, session, params, grantId) {
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scope] of Object.entries(details.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scope.join(' '));
  }
  return grant.save();
}

async function interactionSubmit(req, res) {
  const body = await readParams(req);
  const {
    prompt, session, params, grantId,
  } = await provider.interactionDetails(req, res);
  if (body.deny) {
    await provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'End-User denied the request',
    }, { mergeWithLastSubmission: false });
    return;
  }
  if (prompt.name === 'login') {
    if (!body.login) {
      sendJson(res, 400, { error: 'login_required', error_description: 'form field "login" is required' });
      return;
    }
    await provider.interactionFinished(req, res, {
      login: { accountId: String(body.login) },
    }, { mergeWithLastSubmission: false });
    return;
  }
  if (prompt.name === 'consent') {
    const newGrantId = await consentGrant(prompt.details, session, params, grantId);
    await provider.interactionFinished(req, res, {
      consent: { grantId: newGrantId },
    }, { mergeWithLastSubmission: true });
    return;
  }
  sendJson(res, 501, { error: 'unsupported_prompt', prompt: prompt.name });
}

// ---------------------------------------------------------------- control surface

async function control(req, res, path) {
  if (req.method === 'GET' && path === '/__control/health') {
    sendJson(res, 200, { issuer: ISSUER, kids: publicKids() });
  } else if (req.method === 'POST' && path === '/__control/rotate-keys') {
    const body = await readParams(req);
    rotateKeys(Boolean(body.keep_previous));
    sendJson(res, 200, { issuer: ISSUER, kids: publicKids() });
  } else if (req.method === 'POST' && path === '/__control/accounts') {
    const body = await readParams(req);
    for (const [accountId, claims] of Object.entries(body)) {
      accountOverrides[accountId] = { ...(accountOverrides[accountId] || {}), ...claims };
    }
    sendJson(res, 200, { accounts: Object.keys(accountOverrides) });
  } else {
    sendJson(res, 404, { error: 'not_found' });
  }
}

// ---------------------------------------------------------------- server

const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]+)$/;

async function route(req, res) {
  const path = new URL(req.url, ISSUER).pathname;
  if (options.DEBUG_HTTP) process.stderr.write(`${req.method} ${req.url}\n`);
  if (path.startsWith('/__control/')) return control(req, res, path);
  if (INTERACTION.test(path)) {
    if (req.method === 'GET') return interactionShow(req, res);
    if (req.method === 'POST') return interactionSubmit(req, res);
  }
  return handler(req, res);
}

const server = createServer((req, res) => {
  route(req, res).catch((err) => {
    process.stderr.write(`request ${req.method} ${req.url} failed: ${err.stack || err}\n`);
    if (res.headersSent) {
      res.destroy();
    } else if (err instanceof errors.SessionNotFound) {
      sendJson(res, 400, { error: err.error, error_description: err.error_description });
    } else {
      sendJson(res, 500, { error: 'server_error', error_description: String(err.message || err) });
    }
  });
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// Do not outlive a test runner that was killed without stopping us.
const parentPid = process.ppid;
setInterval(() => { if (process.ppid !== parentPid) shutdown(); }, 500).unref();

// oidc-provider validates static clients lazily; load each now so bad metadata fails start-up.
for (const { client_id: clientId } of CLIENTS) {
  if (!await provider.Client.find(clientId)) throw new Error(`client ${clientId} failed to load`);
}

server.listen(PORT, '127.0.0.1', () => {
  process.stdout.write(`READY ${ISSUER}\n`);
});
