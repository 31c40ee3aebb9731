// Opens qcs's report.html pages in headless Chromium (Debian's, driven by playwright-core) and
// checks them as a reader would; run by crates/qcs/tests/html.rs.
//
//   node check.cjs PLAN.json
//
// PLAN: { "playwright": dir of playwright-core, "chromium": executable, "args": Chromium's
// flags (qcs_test_support::chromium::FLAGS), "out": dir for screenshots, "pages": [{ "name", "file", "verdict", "why": [texts], "pwned": bool,
// "literal": text, "timing": bool }] }. Prints one line per check; exits 1 on the first failure.
'use strict';
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { chromium } = require(plan.playwright);

function check(ok, what) {
  if (!ok) { throw new Error('check failed: ' + what); }
  console.log('ok: ' + what);
}

const FINDINGS = '.qtable[data-kind=findings]';
const ROWS = FINDINGS + ' tbody tr.row';

async function qids(page) {
  return page.$$eval(ROWS, (rows) => rows.map((r) => Number(r.getAttribute('data-qid'))));
}

// A fresh page for `p.file`, recording console errors and warnings and every request.
async function open(browser, p, height) {
  const url = pathToFileURL(p.file).href;
  const context = await browser.newContext({ viewport: { width: 1400, height } });
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') { errors.push(m.type() + ': ' + m.text()); } });
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  page.on('request', (r) => requests.push(r.url()));
  return { url, context, page, errors, requests };
}

// Ends a page's checks: nothing was logged as an error and nothing but the page was requested.
async function close(p, { url, context, errors, requests }) {
  check(errors.length === 0, p.name + ': no console errors ' + JSON.stringify(errors));
  check(requests.includes(url), p.name + ': the request listener saw the page itself');
  const other = requests.filter((r) => r !== url);
  check(other.length === 0, p.name + ': no request but the page itself ' + JSON.stringify(other.slice(0, 5)));
  await context.close();
}

async function run(browser, p) {
  const s = await open(browser, p, 1000);
  const { url, page } = s;

  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector(ROWS, { timeout: 60000 });
  const interactive = Date.now() - t0;
  check(await page.getAttribute('html', 'data-qcs-ready') === '1', p.name + ': the script ran');
  if (p.timing) { console.log('timing: ' + p.name + ' interactive after ' + interactive + ' ms'); }

  // the verdict and why
  const verdict = await page.textContent('.verdict');
  check(verdict.includes(p.verdict), p.name + ': verdict shows ' + p.verdict + ' (' + verdict.trim().replace(/\s+/g, ' ') + ')');
  if (p.why.length) {
    const why = await page.textContent('section.image .why');
    for (const w of p.why) { check(why.includes(w), p.name + ': why panel names ' + JSON.stringify(w)); }
  }

  // sorting by QID, both ways
  const total = (await page.$$eval(ROWS, (r) => r.length));
  check(total > 0, p.name + ': ' + total + ' rows on the first page');
  const qidButton = page.locator(FINDINGS + ' thead th button', { hasText: /^QID$/ });
  await qidButton.click();
  const asc = await qids(page);
  check(asc.every((q, i) => i === 0 || asc[i - 1] <= q), p.name + ': QID ascending after one click');
  check(await page.getAttribute(FINDINGS + ' thead th[aria-sort]', 'aria-sort') === 'ascending', p.name + ': aria-sort ascending');
  await qidButton.click();
  const desc = await qids(page);
  check(desc.every((q, i) => i === 0 || desc[i - 1] >= q), p.name + ': QID descending after two clicks');
  check(desc[0] !== asc[0] || asc.length === 1, p.name + ': sorting changed the first row');

  // search narrows the rows to those matching
  const target = desc[desc.length - 1];
  const search = page.locator(FINDINGS + ' input[type=search]');
  const ts = Date.now();
  await search.fill(String(target));
  await page.waitForFunction(([sel, q]) => {
    const rows = document.querySelectorAll(sel);
    return rows.length > 0 && Array.from(rows).every((r) => r.textContent.includes(q));
  }, [ROWS, String(target)], { timeout: 30000 });
  if (p.timing) { console.log('timing: ' + p.name + ' search answered after ' + (Date.now() - ts) + ' ms (120 ms of it debounce)'); }
  const found = await qids(page);
  check(found.includes(target), p.name + ': search for ' + target + ' shows it (' + found.length + ' rows)');
  await search.fill('no-such-thing-in-any-row');
  await page.waitForSelector(FINDINGS + ' tbody td.muted');
  check((await page.$$(ROWS)).length === 0, p.name + ': a search with no match shows no rows');
  await search.fill('');
  await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length === n, [ROWS, total]);

  // failing-only filter
  await page.check(FINDINGS + ' input[data-filter=failing]');
  const failing = await page.$$eval(ROWS, (rows) => rows.map((r) => r.classList.contains('failing')));
  check(failing.length > 0 && failing.every(Boolean), p.name + ': failing only shows ' + failing.length + ' failing rows');
  await page.uncheck(FINDINGS + ' input[data-filter=failing]');

  // the baseline column and filter, only when judged against a baseline
  const baseSelect = FINDINGS + ' select[data-filter=baseline]';
  check((await page.$$(baseSelect)).length === (p.baseline ? 1 : 0), p.name + (p.baseline ? ': a baseline filter' : ': no baseline filter'));
  if (p.baseline) {
    check((await page.$$(FINDINGS + ' thead th')).length === 14, p.name + ': a Baseline column');
    for (const state of ['new', 'unchanged']) {
      await page.selectOption(baseSelect, state);
      const shown = (await qids(page)).sort((a, b) => a - b);
      check(JSON.stringify(shown) === JSON.stringify(p.baseline[state]), p.name + ': ' + state + ' shows ' + JSON.stringify(shown));
      const marks = await page.$$eval(ROWS, (rows) => rows.map((r) => r.getAttribute('data-baseline')));
      check(marks.every((m) => m === state), p.name + ': every ' + state + ' row is marked ' + state);
    }
    await page.selectOption(baseSelect, 'all');
  }

  // the details row opens
  await page.locator(FINDINGS + ' button.expand').first().click();
  await page.waitForSelector(FINDINGS + ' tr.detail');
  check((await page.textContent(FINDINGS + ' tr.detail')).includes('CVSS v3'), p.name + ': a row expands to its CVSS details');

  if (p.literal) {
    await search.fill(p.literal_search);
    await page.waitForFunction(([sel, q]) => {
      const rows = document.querySelectorAll(sel);
      return rows.length > 0 && Array.from(rows).every((r) => r.textContent.toLowerCase().includes(q));
    }, [ROWS, p.literal_search]);
    const text = await page.textContent(ROWS + ' td.title');
    check(text.includes(p.literal), p.name + ': the title is shown as text: ' + JSON.stringify(text));
    await search.fill('');
  }
  if (p.pwned !== undefined) {
    const pwned = await page.evaluate(() => window.__pwned);
    check(pwned === undefined, p.name + ': no report text ran as script');
  }

  const shot = path.join(plan.out, p.name + '.png');
  await page.screenshot({ path: shot, fullPage: !p.timing });
  console.log('screenshot: ' + shot);

  await close(p, s);
}

// A page of several images: the overview, navigation, each image's verdict, the error message,
// tables that start when scrolled to, dark and print media.
async function multi(browser, p) {
  const s = await open(browser, p, 900);
  const { url, page } = s;
  await page.goto(url, { waitUntil: 'load' });
  check(await page.getAttribute('html', 'data-qcs-ready') === '1', p.name + ': the script ran');

  const overview = await page.$$eval('nav.images tbody tr', (rows) => rows.map((r) => r.textContent));
  check(overview.length === p.outcomes.length, p.name + ': the overview lists ' + overview.length + ' images');
  const outcomes = await page.$$eval('main section.image', (s) => s.map((x) => x.className.replace('image outcome-', '')));
  check(JSON.stringify(outcomes) === JSON.stringify(p.outcomes), p.name + ': image verdicts ' + JSON.stringify(outcomes));
  const verdict = await page.textContent('.verdict');
  check(verdict.includes(p.verdict), p.name + ': run verdict ' + p.verdict);

  // navigation to the last image
  const last = p.outcomes.length;
  await page.click('nav.images tbody tr:last-child a');
  await page.waitForFunction((n) => location.hash === '#image-' + n, last);
  const top = await page.$eval('#image-' + last, (e) => e.getBoundingClientRect().top);
  check(top > -5 && top < 900, p.name + ': the link brought image ' + last + ' into view (top ' + Math.round(top) + ')');

  // the passed image has no why panel; the error image shows its message
  for (let i = 0; i < p.outcomes.length; i++) {
    const sel = '#image-' + (i + 1);
    const hasWhy = (await page.$(sel + ' .why')) !== null;
    check(hasWhy === (p.outcomes[i] === 'failed'), p.name + ': image ' + (i + 1) + (hasWhy ? ' has' : ' has no') + ' why panel');
    if (p.outcomes[i] === 'error') {
      const msg = await page.textContent(sel + ' .error-box');
      check(msg.includes(p.error), p.name + ': the error image says ' + JSON.stringify(msg.trim().replace(/\s+/g, ' ')));
    }
  }

  // every table starts when it comes into view
  const hosts = await page.$$('.qtable');
  check(hosts.length === p.tables, p.name + ': ' + hosts.length + ' tables');
  for (const h of hosts) {
    await h.scrollIntoViewIfNeeded();
    await page.waitForFunction((e) => e.querySelectorAll('tbody tr').length > 0, h);
  }
  check(true, p.name + ': every table drew its rows once scrolled to');

  await page.emulateMedia({ colorScheme: 'dark' });
  await page.evaluate(() => window.scrollTo(0, 0));
  const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  check(bg !== 'rgb(255, 255, 255)', p.name + ': dark mode changes the background (' + bg + ')');
  const shot = path.join(plan.out, p.name + '-dark.png');
  await page.screenshot({ path: shot });
  console.log('screenshot: ' + shot);
  await page.emulateMedia({ media: 'print', colorScheme: 'light' });
  const toolbar = await page.$eval('.toolbar', (e) => getComputedStyle(e).display);
  check(toolbar === 'none', p.name + ': printing hides the table controls');

  await close(p, s);
}

// A page with the trend across builds: the inline SVG chart has one stacked bar per build in
// order, each as tall as its total, the table the same numbers, and nothing is fetched.
async function trend(browser, p) {
  const s = await open(browser, p, 1000);
  const { url, page } = s;
  await page.goto(url, { waitUntil: 'load' });
  const chart = page.locator('#trend svg.trend-chart');
  check(await chart.isVisible(), p.name + ': the trend chart is shown');
  const box = await chart.boundingBox();
  check(box && box.width > 100 && box.height > 50, p.name + ': the chart has a size (' + JSON.stringify(box) + ')');
  const bars = await page.$$eval('#trend g.trend-bar', (gs) => gs.map((g) => ({
    label: g.getAttribute('data-label'),
    total: Number(g.getAttribute('data-total')),
    height: Array.from(g.querySelectorAll('rect')).reduce((h, r) => h + r.getBoundingClientRect().height, 0),
  })));
  check(JSON.stringify(bars.map((b) => b.label)) === JSON.stringify(p.trend.labels), p.name + ': bars in build order ' + JSON.stringify(bars.map((b) => b.label)));
  check(JSON.stringify(bars.map((b) => b.total)) === JSON.stringify(p.trend.totals), p.name + ': bar totals ' + JSON.stringify(bars.map((b) => b.total)));
  for (let i = 1; i < bars.length; i++) {
    const [a, b] = [bars[i - 1], bars[i]];
    if (a.total !== b.total) {
      check((a.total < b.total) === (a.height < b.height), p.name + ': a larger total draws a taller bar (' + a.label + ' ' + a.height.toFixed(1) + ', ' + b.label + ' ' + b.height.toFixed(1) + ')');
    }
  }
  const rows = await page.$$eval('#trend table.trend-table tbody tr', (rs) => rs.map((r) => r.querySelector('th').textContent.trim()));
  check(JSON.stringify(rows) === JSON.stringify(p.trend.labels), p.name + ': the table lists the builds in order');
  const title = await page.textContent('#trend svg title');
  check(title.includes(p.trend.labels.length + ' builds'), p.name + ': the chart has an accessible title');
  const shot = path.join(plan.out, p.name + '.png');
  await page.locator('#trend').screenshot({ path: shot });
  console.log('screenshot: ' + shot);
  await close(p, s);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: plan.chromium,
    headless: true,
    // qcs_test_support::chromium::FLAGS (playwright adds --headless and a fresh profile).
    args: plan.args,
  });
  try {
    for (const p of plan.pages) {
      await (p.trend ? trend(browser, p) : p.outcomes ? multi(browser, p) : run(browser, p));
    }
  } finally {
    await browser.close();
  }
  console.log('html pages: all checks passed');
})().catch((e) => { console.error(e && e.stack ? e.stack : String(e)); process.exit(1); });
