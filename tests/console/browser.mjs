// The console in headless Chromium (playwright-core, /usr/bin/chromium):
// log in, read the dashboard, open an event, download the PDF report and
// check its text with pdftotext, switch language, and check that a company
// user cannot reach another company's pages. Screenshots of every page in
// both languages go to SHOTS (not part of the repository).
//   node browser.mjs URL SHOTS_DIR
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';

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
  // a dialog would be markup from the data running as script (XSS)
  page.on('dialog', d => { errors.push(`dialog: ${d.message()}`); d.dismiss(); });
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
  // the report module's own PDF: its weekly charts have titles
  ok('PDF report is the report module\'s (its weekly chart, Japanese)', text.includes('週ごとの件数'));
  await page.goto(`${url}/t/acme/report.html?month=${process.env.MONTH}`);
  await shot(page, 'ja-report-html');
  // another company's pages, by any URL
  for (const p of ['/t/beta', '/t/beta/events', '/t/beta/report.pdf?month=2024-05', '/t/beta/events/1', '/dashboard', '/stats']) {
    const r = await page.goto(`${url}${p}`);
    const fine = p === '/dashboard' ? page.url().endsWith('/t/acme') : r.status() === 403;
    ok(`company user cannot reach ${p}`, fine);
  }
  // nor the provider's pages and files (statistics, every company's reports)
  for (const p of ['/stats.csv?month=2024-05', '/stats.xlsx?month=2024-05', '/reports',
                   '/reports/2024-05-en', '/reports/2024-05-en/acme.pdf']) {
    const r = await page.goto(`${url}${p}`).catch(() => null);
    ok(`company user cannot reach ${p}`, r !== null && r.status() === 403);
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
  ok('English PDF report', t2.includes('Monthly security report') && t2.includes('events per week, 2024-05'));
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
  // the programme statistics: the pilot's table, the downloads
  const T = lang === 'ja'
    ? { pilot: '全社（実証事業の表）', industry: '業種別', make: '全社のレポートを作る', title: '月次セキュリティレポート', done: '完了' }
    : { pilot: "All companies (the pilot's table)", industry: 'By industry', make: "Make every company's report", title: 'Monthly security report', done: 'Done' };
  await page.goto(`${url}/stats?month=${process.env.MONTH}`);
  const stats = await page.textContent('main');
  ok(`${lang}: statistics show the pilot's table and the groups`, stats.includes(T.pilot) && stats.includes(T.industry) &&
     (await page.locator('table.stats').count()) === 4);
  ok(`${lang}: statistics name no company`, !/acme|Acme|Stats <img|co-0/.test(stats));
  await shot(page, `${lang}-stats`);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('a[href^="/stats.csv"]')]);
  await csv.saveAs(`${shots}/stats-${lang}.csv`);
  const csvText = readFileSync(`${shots}/stats-${lang}.csv`, 'utf8');
  ok(`${lang}: statistics CSV download`, csvText.startsWith('dimension,group,companies,category') && csvText.includes('all,"all",'));
  const [xlsx] = await Promise.all([page.waitForEvent('download'), page.click('a[href^="/stats.xlsx"]')]);
  await xlsx.saveAs(`${shots}/stats-${lang}.xlsx`);
  ok(`${lang}: statistics XLSX download (a zip)`, readFileSync(`${shots}/stats-${lang}.xlsx`).subarray(0, 2).toString() === 'PK');
  // every company's report for the month in one action
  await page.click('nav.tabs a[href="/reports"]');
  await shot(page, `${lang}-reports`);
  await page.fill('input[name=month]', process.env.MONTH);
  await Promise.all([page.waitForNavigation(), page.click(`form[action="/reports"] button`)]);
  ok(`${lang}: the run's page`, page.url().endsWith(`/reports/${process.env.MONTH}-${lang}`));
  for (let i = 0; i < 240 && (await page.locator('p.banner.warn').count()) > 0; i++) {
    await page.waitForTimeout(500);
    await page.reload();
  }
  ok(`${lang}: the run is done`, (await page.textContent('p.banner')).includes(T.done));
  ok(`${lang}: company names on the run's page are text`, (await page.textContent('main')).includes('Stats <img src=x onerror=alert(s1)> s1'));
  await shot(page, `${lang}-run`);
  const [rep] = await Promise.all([page.waitForEvent('download'), page.click('a[href$="/acme.pdf"]')]);
  await rep.saveAs(`${shots}/all-acme-${lang}.pdf`);
  const repText = execFileSync('pdftotext', [`${shots}/all-acme-${lang}.pdf`, '-'], { encoding: 'utf8' });
  ok(`${lang}: a company's PDF from the run, in ${lang}`, repText.includes(T.title) && repText.includes('Acme'));
  await page.goto(`${url}/reports`);
  await shot(page, `${lang}-reports-list`);
  await page.goto(`${url}/t/beta`);
  ok(`${lang}: provider reads every company`, (await page.textContent('h1')).includes('Beta'));
  await shot(page, `${lang}-provider-beta`);
  await ctx.close();
}
ok('no script errors in the pages (CSP)', errors.length === 0 || (console.log(errors.join('\n')), false));
await browser.close();
process.exit(failed);
