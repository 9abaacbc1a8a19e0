// A person at the admin console, played by a real headless Chromium (Debian's `chromium`,
// driven by npm playwright-core): it follows a list of steps the Python test writes, the way
// someone would use the pages (links, labelled fields, buttons), and reports what it saw.
//
//   node console.mjs < config.json
//
// config: {chromium, screenshots (folder), authserver_origin, upstream: {origin, username},
//          steps: [{do, ...}]}; every step may carry `shot: "label"` (a PNG after it).
//   goto     url                      open a page
//   click    selector                 click a link or button and wait for the page it opens
//   fill     fields {selector: value}
//   select   selector, value
//   check    selector                 tick a checkbox
//   read     selector, as, attribute? the element's text, or its attribute (null when absent)
//                                     -> values[as]
//   count    selector, as             how many elements match -> values[as]
//   request  method, url, form?, as   an HTTP request with this browser's cookies (no page):
//                                     {status, text} -> values[as]; a form value "$name" is
//                                     values[name]
//   sign_in  url, until               a sign-in through the upstream IdP's pages, until the
//                                     browser is back at a URL starting with `until`
//   context  name                     continue in another browser profile (its own cookies)
//
// prints one JSON line: {values, pages (screenshots), documents (authserver's answers to the
// navigations, with their security headers), console (CSP violations, failed loads), error,
// failed_step}.
import { mkdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const config = JSON.parse(readFileSync(0, 'utf8'));
const report = { values: {}, pages: [], documents: [], console: [], error: null, failed_step: null };
mkdirSync(config.screenshots, { recursive: true });
const TIMEOUT_MS = 15000;
let shot = 0;

async function snapshot(page, label) {
  shot += 1;
  const file = `${config.screenshots}/${String(shot).padStart(2, '0')}-${label}.png`;
  await page.screenshot({ path: file, fullPage: true });
  report.pages.push({ name: label, url: page.url().split('?')[0], title: await page.title(), file });
}

function watch(page, label) {
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      report.console.push(`${label()}: ${message.text()}`);
    }
  });
  page.on('response', (response) => {
    const request = response.request();
    if (!request.isNavigationRequest() && response.status() >= 400 && !response.url().endsWith('/favicon.ico')) {
      report.console.push(`${label()}: ${response.status()} for ${request.resourceType()} ${response.url().split('?')[0]}`);
    }
    if (!request.isNavigationRequest() || new URL(response.url()).origin !== config.authserver_origin) return;
    const headers = response.headers();
    report.documents.push({ url: response.url().split('?')[0], status: response.status(),
                            csp: headers['content-security-policy'] || null,
                            x_frame_options: headers['x-frame-options'] || null,
                            cache_control: headers['cache-control'] || null });
  });
}

async function signIn(page, step) {
  const deadline = Date.now() + TIMEOUT_MS * 2;
  await page.goto(step.url);
  while (!page.url().startsWith(step.until)) {
    if (Date.now() > deadline) throw new Error(`sign-in never came back to ${step.until}; at ${page.url()}`);
    await page.waitForLoadState('load');
    const here = new URL(page.url());
    const submit = (locator) => Promise.all([page.waitForNavigation(), locator.click()]);
    if (here.origin === config.upstream.origin && await page.locator('#login').count()) {
      await page.fill('#login', step.username || config.upstream.username);
      await submit(page.locator('#submit'));
    } else if (here.origin === config.upstream.origin && await page.locator('#submit').count()) {
      await submit(page.locator('#submit'));
    } else if (await page.locator('button[name=idp]').count()) {
      await submit(page.locator('button[name=idp]').first());
    } else if (!page.url().startsWith(step.until)) {
      await page.waitForTimeout(100);
    }
  }
  await page.waitForLoadState('load');
}

const contexts = new Map();
let browser;
let page;
let current = 'main';
let stepLabel = 'start';

async function use(name) {
  if (!contexts.has(name)) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const opened = await context.newPage();
    watch(opened, () => stepLabel);
    contexts.set(name, { context, page: opened });
  }
  current = name;
  page = contexts.get(name).page;
}

async function run(step) {
  if (step.do === 'context') return use(step.name);
  if (step.do === 'goto') return page.goto(step.url);
  if (step.do === 'click') return Promise.all([page.waitForNavigation(), page.locator(step.selector).first().click()]);
  if (step.do === 'fill') {
    for (const [selector, value] of Object.entries(step.fields)) await page.fill(selector, value);
    return null;
  }
  if (step.do === 'select') return page.selectOption(step.selector, step.value);
  if (step.do === 'check') return page.check(step.selector);
  if (step.do === 'read') {
    const found = page.locator(step.selector);
    if (!await found.count()) report.values[step.as] = null;
    else if (step.attribute) report.values[step.as] = await found.first().getAttribute(step.attribute);
    else report.values[step.as] = (await found.first().innerText()).trim();
    return null;
  }
  if (step.do === 'count') {
    report.values[step.as] = await page.locator(step.selector).count();
    return null;
  }
  if (step.do === 'request') {
    const { request } = contexts.get(current).context;
    const form = step.form && Object.fromEntries(Object.entries(step.form).map(
      ([name, value]) => [name, String(value).startsWith('$') ? report.values[value.slice(1)] : value]));
    const response = await request.fetch(step.url, { method: step.method || 'GET', form,
                                                     maxRedirects: 0 });
    report.values[step.as] = { status: response.status(), text: (await response.text()).slice(0, 20000),
                               content_type: response.headers()['content-type'] || null };
    return null;
  }
  if (step.do === 'sign_in') return signIn(page, step);
  throw new Error(`unknown step ${step.do}`);
}

try {
  browser = await chromium.launch({ executablePath: config.chromium, args: ['--no-sandbox'] });
  await use('main');
  for (const [index, step] of config.steps.entries()) {
    stepLabel = step.shot || `${index + 1}-${step.do}`;
    try {
      await run(step);
      if (step.shot) await snapshot(page, step.shot);
    } catch (error) {
      report.failed_step = { index, step, url: page.url(),
                             text: (await page.locator('body').innerText().catch(() => '')).slice(0, 2000) };
      await snapshot(page, `stuck-${index + 1}`).catch(() => {});
      throw error;
    }
  }
} catch (error) {
  report.error = { name: error.name, message: error.message };
} finally {
  await browser?.close();
}
process.stdout.write(`${JSON.stringify(report)}\n`);
