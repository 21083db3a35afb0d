// The console in headless Chromium (playwright-core, /usr/bin/chromium):
// log in, read the dashboard, open an event, download the PDF report and
// check its text with pdftotext, switch language, and check that a company
// user cannot reach another company's pages. Screenshots of every page in
// both languages go to SHOTS (not part of the repository).
//   node browser.mjs URL SHOTS_DIR
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const [url, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
let failed = 0;
const ok = (name, cond) => { console.log(`${cond ? 'ok' : 'FAIL'} - ${name}`); if (!cond) failed = 1; };

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'] });
const errors = [];
async function session(lang) {
  const ctx = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
  const page = await ctx.newPage();
  page.on('console', m => { if (m.type() === 'error' && !/status of 403/.test(m.text())) errors.push(m.text()); });
  page.on('pageerror', e => errors.push(String(e)));
  if (lang) await page.goto(`${url}/?lang=${lang}`);
  return { ctx, page };
}
async function login(page, user, pw) {
  await page.goto(`${url}/`);
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', pw);
  await Promise.all([page.waitForNavigation(), page.click('form.login button')]);
}
const shot = (page, name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });

// a company viewer, Japanese first
{
  const { ctx, page } = await session();
  await page.goto(`${url}/`);
  ok('login page is Japanese', (await page.textContent('h1')).includes('ログイン'));
  await shot(page, 'ja-login');
  await login(page, 'aview', 'aview-password-1');
  ok('company user lands on its dashboard', page.url().endsWith('/t/acme'));
  const body = await page.textContent('main');
  ok('dashboard says what happened this week', body.includes('この 7 日間'));
  ok('dashboard shows the monthly counts', body.includes('月の件数'));
  ok('unwatched areas are named', body.includes('見ていない分野'));
  await shot(page, 'ja-company-dashboard');
  await page.click('nav.tabs a[href="/t/acme/events"]');
  ok('event list has rows', (await page.locator('table.events tbody tr').count()) > 0);
  await shot(page, 'ja-events');
  await Promise.all([page.waitForNavigation(), page.locator('table.events tbody tr td').nth(1).click()]);
  ok('clicking a row opens the event (script from /static)', /\/t\/acme\/events\/\d+$/.test(page.url()));
  ok('event detail shows the raw EVE', (await page.textContent('pre.eve')).includes('"event_type"'));
  await shot(page, 'ja-event');
  await page.click('nav.tabs a[href="/t/acme/gateways"]');
  await shot(page, 'ja-gateways');
  await page.goto(`${url}/t/acme/report?month=${process.env.MONTH}`);
  await shot(page, 'ja-report');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('a[href*="report.pdf"]')]);
  const pdf = `${shots}/report-ja.pdf`;
  await dl.saveAs(pdf);
  const text = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' });
  ok('PDF report has its title and the scan count', text.includes('月次セキュリティレポート') && text.includes('19'));
  await page.goto(`${url}/t/acme/report.html?month=${process.env.MONTH}`);
  await shot(page, 'ja-report-html');
  // another company's pages, by any URL
  for (const p of ['/t/beta', '/t/beta/events', '/t/beta/report.pdf?month=2024-05', '/t/beta/events/1', '/dashboard', '/stats']) {
    const r = await page.goto(`${url}${p}`);
    const fine = p === '/dashboard' ? page.url().endsWith('/t/acme') : r.status() === 403;
    ok(`company user cannot reach ${p}`, fine);
  }
  await shot(page, 'ja-forbidden');
  // switch language
  await page.goto(`${url}/t/acme`);
  await Promise.all([page.waitForNavigation(), page.click('a.lang')]);
  ok('language switch to English', (await page.textContent('main')).includes('The last 7 days') &&
     (await page.getAttribute('html', 'lang')) === 'en');
  await shot(page, 'en-company-dashboard');
  await page.goto(`${url}/t/acme/events`);
  await shot(page, 'en-events');
  await page.locator('table.events tbody tr a').first().click();
  await shot(page, 'en-event');
  await page.goto(`${url}/t/acme/gateways`);
  await shot(page, 'en-gateways');
  await page.goto(`${url}/t/acme/report?month=${process.env.MONTH}`);
  await shot(page, 'en-report');
  const [dl2] = await Promise.all([page.waitForEvent('download'), page.click('a[href*="report.pdf"]')]);
  await dl2.saveAs(`${shots}/report-en.pdf`);
  const t2 = execFileSync('pdftotext', [`${shots}/report-en.pdf`, '-'], { encoding: 'utf8' });
  ok('English PDF report', t2.includes('Monthly security report'));
  await page.goto(`${url}/t/acme/report.html?month=${process.env.MONTH}`);
  await shot(page, 'en-report-html');
  await page.goto(`${url}/t/beta`);
  await shot(page, 'en-forbidden');
  await ctx.close();
}
// the provider, both languages
for (const lang of ['en', 'ja']) {
  const { ctx, page } = await session(lang);
  await page.goto(`${url}/`);
  await shot(page, `${lang}-login-page`);
  await login(page, 'padmin', 'padmin-password-1');
  ok(`${lang}: provider lands on the overview`, page.url().endsWith('/dashboard'));
  ok(`${lang}: overview lists the companies`, (await page.locator('table.tenants tbody tr').count()) >= 2);
  await shot(page, `${lang}-provider-dashboard`);
  await page.goto(`${url}/stats`);
  await shot(page, `${lang}-stats`);
  await page.goto(`${url}/t/beta`);
  ok(`${lang}: provider reads every company`, (await page.textContent('h1')).includes('Beta'));
  await shot(page, `${lang}-provider-beta`);
  await ctx.close();
}
ok('no script errors in the pages (CSP)', errors.length === 0 || (console.log(errors.join('\n')), false));
await browser.close();
process.exit(failed);
