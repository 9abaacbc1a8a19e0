// The app's side of a browser login, played by libraries authserver did not write:
// panva's openid-client v6 (a certified Relying Party) builds every request and validates every
// answer (state; `iss` per RFC 9207, since discovery advertises
// authorization_response_iss_parameter_supported; the ID token's signature against the JWKS,
// iss, aud, nonce, auth_time with max_age), and playwright-core drives a real headless Chromium
// through authserver's login page and the upstream IdP's pages (tests/support/oidc_provider).
//
//   node rp_login.mjs '<json config>'      or      node rp_login.mjs < config.json
//
// prints one JSON line: {"steps": {name: result}, "pages": [...] (screenshots), "documents": [...]
// (authserver's answers to the browser's navigations, with their framing headers), "console": [...]
// (CSP violations, failed sub-resources), "error"}.
//
// config:
//   issuer          authserver's realm issuer, e.g. http://127.0.0.1:PORT/realms/default
//   app_origin      http://127.0.0.1:PORT: the app's redirect URIs are served there (loopback)
//   upstream        {origin, username, password?}: who signs in on the upstream's pages
//   clients         {name: {client_id, client_secret?, auth_method?, redirect_uri}}
//   audience, scope defaults for login steps
//   screenshots     folder for a PNG of every page the browser stops on
//   chromium        the browser binary (default /usr/bin/chromium)
//   steps           list, run in order, each {do, name?, ...}:
//     login     client, context ("main"), audience, scope, idp_hint, choose_idp, use_par,
//               response_mode (query|form_post), prompt, max_age, login_hint, username (upstream),
//               extra (more request parameters)
//               -> seen (pages: authserver-login, upstream-login, upstream-consent, ...),
//                  response {method, params}, tokens, id_token_claims; or error
//     refresh   of (a login step's name): rotation, then the old token again (reuse), then the
//               new one (its family must be revoked by then) -> rotated, tokens, reuse_error,
//               family_error
//     userinfo  of -> claims (openid-client checks sub against the ID token's)
//     logout    of, post_logout_redirect_uri, state, context -> returned (the URL), seen
//   Without `steps`, the top-level client_id, client_secret, redirect_uri, idp_hint, use_par,
//   response_mode, prompt, max_age, login_hint make one login step.
//
// A step that fails records {error: {name, message, code, error, error_description, status}}
// and the next steps still run; `error` at the top is the harness's own failure.
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import * as client from 'openid-client';
import { chromium } from 'playwright-core';

const LOGIN_OPTIONS = ['client_id', 'client_secret', 'auth_method', 'redirect_uri', 'idp_hint', 'use_par',
  'response_mode', 'prompt', 'max_age', 'login_hint', 'choose_idp'];
const STEP_TIMEOUT_MS = 20000;

function readConfig() {
  const raw = process.argv[2] ?? readFileSync(0, 'utf8');
  const config = JSON.parse(raw);
  if (!config.steps) {
    const { client_id: clientId, client_secret: secret, auth_method: method, redirect_uri: redirectUri, ...rest } = config;
    config.clients = { app: { client_id: clientId, client_secret: secret, auth_method: method, redirect_uri: redirectUri } };
    const options = Object.fromEntries(LOGIN_OPTIONS.filter((k) => k in rest).map((k) => [k, rest[k]]));
    config.steps = [{ do: 'login', name: 'login', client: 'app', ...options }];
  }
  config.chromium ||= '/usr/bin/chromium';
  config.authserver_origin = new URL(config.issuer).origin;
  return config;
}

const config = readConfig();
const report = { steps: {}, pages: [], documents: [], console: [], error: null };
mkdirSync(config.screenshots, { recursive: true });

// ---------------------------------------------------------------- the app's redirect URIs

const arrivals = []; // every request the app received: {method, url, body}
const app = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    arrivals.push({ method: req.method, url: new URL(req.url, config.app_origin).href,
                    body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="en"><title>The app</title><h1>Back at the app</h1></html>');
  });
});

// ---------------------------------------------------------------- the browser

let shot = 0;
async function snapshot(page, label) {
  shot += 1;
  const file = `${config.screenshots}/${String(shot).padStart(2, '0')}-${label}.png`;
  await page.screenshot({ path: file, fullPage: true });
  report.pages.push({ name: label, url: page.url().split('?')[0], title: await page.title(), file });
}

const contexts = new Map();
async function contextNamed(browser, name) {
  if (!contexts.has(name)) contexts.set(name, await browser.newContext());
  return contexts.get(name);
}

// What the browser shows now, and what a person would do there.
async function kindOf(page) {
  const here = new URL(page.url());
  if (here.origin === config.upstream.origin) {
    if (await page.locator('#login').count()) return 'upstream-login';
    if (await page.locator('#submit').count()) return 'upstream-consent';
    return 'upstream-other';
  }
  if (here.origin === config.authserver_origin) {
    if (await page.locator('form#response').count()) return 'authserver-form-post';
    if (await page.locator('button[name=idp]').count()) return 'authserver-login';
    if (await page.locator('input[name=csrf_token]').count()) return 'authserver-logout-confirm';
    if (await page.locator('[role=alert]').count()) return 'authserver-error';
  }
  return null;
}

async function act(page, kind, step) {
  const submit = (locator) => Promise.all([page.waitForNavigation({ timeout: 10000 }), locator.click()]);
  if (kind === 'upstream-login') {
    await page.fill('#login', step.username || config.upstream.username);
    if (config.upstream.password && await page.locator('#password').count()) {
      await page.fill('#password', config.upstream.password);
    }
    return submit(page.locator('#submit'));
  }
  if (kind === 'upstream-consent') return submit(page.locator('#submit'));
  if (kind === 'authserver-login') {
    const choice = step.choose_idp ? page.locator(`button[name=idp][value="${step.choose_idp}"]`)
      : page.locator('button[name=idp]').first();
    if (!await choice.count()) {
      const offered = await page.locator('button[name=idp]').evaluateAll((buttons) => buttons.map((b) => b.value));
      throw new Error(`the login page offers no ${step.choose_idp}, only: ${offered.join(', ')}`);
    }
    return submit(choice);
  }
  if (kind === 'authserver-logout-confirm') return submit(page.locator('form button[type=submit]'));
  return page.waitForTimeout(100); // the form_post page submits itself
}

// Runs the front channel in `context` from `url` until the browser reaches `target` (a URL
// prefix at the app); returns that arrival and the pages seen on the way.
async function frontChannel(context, url, target, label, step = {}) {
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('console', (message) => { // a CSP violation shows here; failed loads are listed below
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      report.console.push(`${label}: ${message.text()}`);
    }
  });
  page.on('response', (response) => {
    const request = response.request();
    if (!request.isNavigationRequest() && response.status() >= 400 && !response.url().endsWith('/favicon.ico')) {
      report.console.push(`${label}: ${response.status()} for ${request.resourceType()} ${response.url().split('?')[0]}`);
    }
    if (!request.isNavigationRequest() || request.frame() !== page.mainFrame()) return;
    if (new URL(response.url()).origin !== config.authserver_origin) return;
    const headers = response.headers();
    report.documents.push({ step: label, url: response.url().split('?')[0], status: response.status(),
                            content_type: headers['content-type'] || null,
                            x_frame_options: headers['x-frame-options'] || null,
                            csp: headers['content-security-policy'] || null });
  });
  const before = arrivals.length;
  const arrived = () => arrivals.slice(before).find((a) => a.url.startsWith(target));
  const seen = [];
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  try {
    await page.goto(url.href);
    while (!arrived() && Date.now() < deadline) {
      await page.waitForLoadState('load');
      if (arrived()) break;
      const kind = await kindOf(page);
      if (kind && seen.at(-1) !== kind) {
        seen.push(kind);
        await snapshot(page, `${label}-${kind}`);
      }
      if (kind === 'authserver-error') {
        throw new Error(`authserver shows an error page: ${(await page.locator('[role=alert]').innerText()).trim()}`);
      }
      await act(page, kind, step);
    }
    const arrival = arrived();
    if (!arrival) throw new Error(`never returned to ${target}; pages seen: ${seen.join(', ') || 'none'}`);
    await page.waitForLoadState('load');
    await snapshot(page, `${label}-app`);
    return { arrival, seen };
  } catch (error) {
    await snapshot(page, `${label}-stuck`).catch(() => {});
    error.seen = seen;
    error.page = { url: page.url().split('?')[0], text: (await page.locator('body').innerText().catch(() => '')).slice(0, 1000) };
    throw error;
  } finally {
    await page.close();
  }
}

// ---------------------------------------------------------------- the app (openid-client)

const relyingParties = new Map();
async function relyingParty(name) {
  if (!relyingParties.has(name)) {
    const app = config.clients[name];
    if (!app) throw new Error(`no client named ${name} in the config`);
    let auth = client.None();
    if (app.client_secret) {
      auth = app.auth_method === 'client_secret_post' ? client.ClientSecretPost(app.client_secret)
        : client.ClientSecretBasic(app.client_secret);
    }
    const rp = await client.discovery(new URL(config.issuer), app.client_id, undefined, auth, {
      execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks], // http loopback issuer
    });
    relyingParties.set(name, { rp, app });
  }
  return relyingParties.get(name);
}

function tokensOf(response) {
  const { access_token, id_token, refresh_token, expires_in, scope, token_type } = response;
  return { access_token, id_token, refresh_token, expires_in, scope, token_type };
}

function asRequest(arrival) {
  if (arrival.method === 'GET') return new URL(arrival.url);
  return new Request(arrival.url, { method: arrival.method, body: arrival.body,
                                    headers: { 'content-type': 'application/x-www-form-urlencoded' } });
}

function responseParams(arrival) {
  const source = arrival.method === 'GET' ? new URL(arrival.url).searchParams : new URLSearchParams(arrival.body);
  return Object.fromEntries(source);
}

const logins = new Map(); // step name -> {rp, tokens, claims}

async function login(browser, step, label) {
  const { rp, app } = await relyingParty(step.client);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const params = {
    redirect_uri: app.redirect_uri, scope: step.scope ?? config.scope ?? 'openid', state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  };
  for (const name of ['idp_hint', 'response_mode', 'prompt', 'login_hint']) {
    if (step[name]) params[name] = step[name];
  }
  if (step.max_age !== undefined) params.max_age = String(step.max_age);
  Object.assign(params, step.extra || {}); // e.g. a device session's session_token (pushed only)
  const audience = step.audience ?? config.audience;
  if (audience) params.audience = audience;
  const url = step.use_par ? await client.buildAuthorizationUrlWithPAR(rp, params) : client.buildAuthorizationUrl(rp, params);
  const result = { request: { url: url.href.split('?')[0], params: Object.fromEntries(url.searchParams) } };
  try {
    const context = await contextNamed(browser, step.context || 'main');
    const { arrival, seen } = await frontChannel(context, url, app.redirect_uri, label, step);
    Object.assign(result, { seen, response: { method: arrival.method, params: responseParams(arrival) } });
    const tokens = await client.authorizationCodeGrant(rp, asRequest(arrival), {
      pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
      ...(step.max_age !== undefined ? { maxAge: Number(step.max_age) } : {}),
    });
    logins.set(label, { rp, tokens, claims: tokens.claims() });
    return { ...result, tokens: tokensOf(tokens), id_token_claims: tokens.claims() };
  } catch (error) {
    error.partial = result;
    throw error;
  }
}

function loginNamed(name) {
  const done = logins.get(name);
  if (!done) throw new Error(`step ${name} has no tokens to use`);
  return done;
}

async function refusal(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    return error.error || error.code || String(error);
  }
}

async function refresh(step) {
  const { rp, tokens } = loginNamed(step.of);
  const next = await client.refreshTokenGrant(rp, tokens.refresh_token);
  return {
    rotated: Boolean(next.refresh_token) && next.refresh_token !== tokens.refresh_token,
    tokens: tokensOf(next),
    reuse_error: await refusal(client.refreshTokenGrant(rp, tokens.refresh_token)),
    family_error: next.refresh_token ? await refusal(client.refreshTokenGrant(rp, next.refresh_token)) : null,
  };
}

async function userinfo(step) {
  const { rp, tokens, claims } = loginNamed(step.of);
  return { claims: await client.fetchUserInfo(rp, tokens.access_token, claims.sub) };
}

async function logout(browser, step, label) {
  const { rp, tokens } = loginNamed(step.of);
  const url = client.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token,
    post_logout_redirect_uri: step.post_logout_redirect_uri, state: step.state || 'bye' });
  const context = await contextNamed(browser, step.context || 'main');
  const { arrival, seen } = await frontChannel(context, url, step.post_logout_redirect_uri, label, step);
  return { returned: arrival.url, seen };
}

function describe(error) {
  return { name: error.name, message: error.message, code: error.code ?? null, error: error.error ?? null,
           error_description: error.error_description ?? null, status: error.status ?? null,
           seen: error.seen ?? null, page: error.page ?? null };
}

// ---------------------------------------------------------------- run

let browser;
try {
  await new Promise((resolve, reject) => {
    app.once('error', reject);
    app.listen(Number(new URL(config.app_origin).port), '127.0.0.1', resolve);
  });
  browser = await chromium.launch({ executablePath: config.chromium, args: ['--no-sandbox'] });
  for (const [index, step] of config.steps.entries()) {
    const label = step.name || `${index + 1}-${step.do}`;
    try {
      if (step.do === 'login') report.steps[label] = await login(browser, step, label);
      else if (step.do === 'refresh') report.steps[label] = await refresh(step);
      else if (step.do === 'userinfo') report.steps[label] = await userinfo(step);
      else if (step.do === 'logout') report.steps[label] = await logout(browser, step, label);
      else throw new Error(`unknown step ${step.do}`);
    } catch (error) {
      report.steps[label] = { ...(error.partial || {}), error: describe(error) };
    }
  }
} catch (error) {
  report.error = describe(error);
} finally {
  await browser?.close();
  app.close();
}
process.stdout.write(`${JSON.stringify(report)}\n`);
