// The app's side of a browser login, played by libraries authserver did not write:
// panva's openid-client (a certified Relying Party) builds the requests and validates every
// answer (state, iss per RFC 9207, the ID token: signature, iss, aud, nonce, at_hash), and
// playwright-core drives a real Chromium (/usr/bin/chromium) through authserver's login page
// and the upstream IdP's pages. Screenshots of every page go to `screenshots`.
//
//   node rp_login.mjs '<json config>'   → one JSON line on stdout with what happened
//
// config: { issuer, clients: [{client_id, redirect_uri}], audience, scope, username,
//           upstream_origin, post_logout_redirect_uri, screenshots, chromium }
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import * as client from 'openid-client';
import { chromium } from 'playwright-core';

const config = JSON.parse(process.argv[2]);

// The app's redirect URIs, served for real on loopback (a browser follows redirects there).
const arrivals = [];
const app = createServer((req, res) => {
  arrivals.push(new URL(req.url, config.app_origin).href);
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><title>app</title>back at the app');
});
await new Promise((resolve) => { app.listen(Number(new URL(config.app_origin).port), '127.0.0.1', resolve); });
mkdirSync(config.screenshots, { recursive: true });
const report = { pages: [], steps: {} };
let shot = 0;

async function snapshot(page, name) {
  shot += 1;
  const file = `${config.screenshots}/${String(shot).padStart(2, '0')}-${name}.png`;
  await page.screenshot({ path: file, fullPage: true });
  report.pages.push({ name, url: page.url().split('?')[0], file });
}

async function discover(clientId) {
  return client.discovery(new URL(config.issuer), clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests], // loopback http in the test
  });
}

// Runs the front channel in `context` until the browser is sent to `redirectUri`; clicks
// through authserver's login page and the upstream's pages on the way. Returns that URL.
async function frontChannel(context, url, redirectUri, label) {
  const page = await context.newPage();
  const before = arrivals.length;
  let arrived = null;
  const check = () => {
    arrived = arrivals.slice(before).find((href) => href.startsWith(redirectUri)) || null;
    return arrived;
  };
  const seen = [];
  page.on('requestfailed', (request) => {
    if (!arrived) report.failed = [...(report.failed || []), `${request.url().split('?')[0]}: ${request.failure()?.errorText}`];
  });
  await page.goto(url.href);
  for (let i = 0; i < 40 && !check(); i += 1) {
    await page.waitForLoadState('domcontentloaded');
    if (check()) break;
    const here = new URL(page.url());
    if (here.origin === config.upstream_origin && await page.locator('#login').count()) {
      seen.push('upstream-login');
      await snapshot(page, `${label}-upstream-login`);
      await page.fill('#login', config.username);
      await Promise.all([page.waitForNavigation(), page.click('#submit')]);
    } else if (here.origin === config.upstream_origin && await page.locator('#submit').count()) {
      seen.push('upstream-consent');
      await snapshot(page, `${label}-upstream-consent`);
      await Promise.all([page.waitForNavigation(), page.click('#submit')]);
    } else if (await page.locator('ul.idps button').count()) {
      seen.push('authserver-login');
      await snapshot(page, `${label}-authserver-login`);
      report.frame_headers = await headersOf(context, page.url());
      await Promise.all([page.waitForNavigation(), page.locator('ul.idps button').first().click()]);
    } else {
      await page.waitForTimeout(100);
    }
  }
  if (!arrived) {
    await snapshot(page, `${label}-stuck`);
    report.stuck = await page.content();
  }
  await page.close();
  if (!arrived) throw new Error(`${label}: never returned to ${redirectUri}; pages: ${seen.join(', ')}`);
  return { url: new URL(arrived), seen };
}

async function headersOf(context, url) {
  const response = await context.request.get(url);
  const headers = response.headers();
  return { 'x-frame-options': headers['x-frame-options'], 'content-security-policy': headers['content-security-policy'] };
}

async function login(context, app, label, extra = {}) {
  const rp = await discover(app.client_id);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: app.redirect_uri, scope: config.scope, audience: config.audience, state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  });
  const { url: back, seen } = await frontChannel(context, url, app.redirect_uri, label);
  const tokens = await client.authorizationCodeGrant(rp, back, {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  });
  return { rp, tokens, claims: tokens.claims(), seen };
}

async function expectGrantError(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    return error.error || error.code || String(error);
  }
}

const browser = await chromium.launch({ executablePath: config.chromium, args: ['--no-sandbox'] });
try {
  const [first, second] = config.clients;
  const context = await browser.newContext();

  // 1. the login: openid-client validates the callback (state, iss) and the ID token
  const one = await login(context, first, 'first');
  report.steps.login = { seen: one.seen, id_token_claims: one.claims, access_token: one.tokens.access_token,
                         refresh_token: one.tokens.refresh_token, scope: one.tokens.scope };

  // 2. refresh rotates; the old refresh token, reused, revokes the family
  const refreshed = await client.refreshTokenGrant(one.rp, one.tokens.refresh_token);
  report.steps.refresh = {
    rotated: refreshed.refresh_token !== one.tokens.refresh_token,
    reuse_error: await expectGrantError(client.refreshTokenGrant(one.rp, one.tokens.refresh_token)),
    family_error: await expectGrantError(client.refreshTokenGrant(one.rp, refreshed.refresh_token)),
  };

  // 3. single sign-on: the second client, same browser, no upstream page
  const two = await login(context, second, 'second');
  report.steps.sso = { seen: two.seen, sub: two.claims.sub, aud: two.claims.aud };

  // 4. prompt=none in a browser without a session: login_required, with iss
  const fresh = await browser.newContext();
  const rp = await discover(first.client_id);
  const silent = client.buildAuthorizationUrl(rp, {
    redirect_uri: first.redirect_uri, scope: 'openid', prompt: 'none', state: 'silent',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  const quiet = await frontChannel(fresh, silent, first.redirect_uri, 'silent');
  report.steps.prompt_none = Object.fromEntries(quiet.url.searchParams);

  // 5. logout ends the session: the browser returns to the app, and prompt=none then needs a login
  const logoutUrl = client.buildEndSessionUrl(two.rp, {
    id_token_hint: two.tokens.id_token, post_logout_redirect_uri: config.post_logout_redirect_uri, state: 'bye',
  });
  const out = await frontChannel(context, logoutUrl, config.post_logout_redirect_uri, 'logout');
  const after = await frontChannel(context, client.buildAuthorizationUrl(rp, {
    redirect_uri: first.redirect_uri, scope: 'openid', prompt: 'none', state: 'after',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  }), first.redirect_uri, 'after-logout');
  report.steps.logout = { returned: out.url.href, after: Object.fromEntries(after.url.searchParams) };
} catch (error) {
  report.error = `${error.name}: ${error.message} ${error.error || ''} ${error.error_description || ''}`;
} finally {
  await browser.close();
  app.close();
}
process.stdout.write(`${JSON.stringify(report)}\n`);
