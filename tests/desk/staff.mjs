// The desk's staff in headless Chromium (playwright-core, /usr/bin/chromium):
// log in, open the company's ticket that the gateway opened, read the
// suggestion, and press a button of the ticket (isolate or release); or
// check that the ticket shows a command confirmed by the gateway.
//   node staff.mjs URL quarantine|release|confirmed TITLE_PART SHOTS_DIR
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [url, what, title, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
let failed = 0;
const ok = (name, cond) => { console.log(`${cond ? 'ok' : 'FAIL'} - ${name}`); if (!cond) failed = 1; };
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
const page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
page.setDefaultTimeout(60000);
const errors = [];
page.on('pageerror', e => errors.push(String(e)));
await page.goto(`${url}/?lang=en`);
await page.fill('input[name=user]', 'staff');
await page.fill('input[name=password]', 'staff-password-1');
await Promise.all([page.waitForNavigation(), page.click('form.login button')]);
await page.goto(`${url}/desk`);
ok('the desk queue lists the ticket', (await page.textContent('main')).includes(title));
await Promise.all([page.waitForNavigation(), page.click(`table.tickets tr:has-text("${title}") a`)]);
const main = await page.textContent('main');
ok('the ticket page opened', page.url().includes('/desk/'));
if (what === 'quarantine') {
  ok('the suggestion from the gateway events is "attack"', main.includes('Suggested judgement: Attack'));
  ok('the device is named', main.includes('10.20.1.2'));
  await page.screenshot({ path: `${shots}/ticket.png`, fullPage: true });
  await Promise.all([page.waitForNavigation(), page.click('#do-quarantine')]);
  ok('the isolation is queued', (await page.textContent('table.commands')).includes('Isolate'));
} else if (what === 'release') {
  await Promise.all([page.waitForNavigation(), page.click('#do-release')]);
  ok('the release is queued', (await page.textContent('table.commands')).includes('Release'));
} else {
  const cmds = await page.textContent('table.commands');
  ok('the gateway confirmed the isolation', cmds.includes('Done (confirmed by the gateway)'));
  await page.screenshot({ path: `${shots}/ticket-done.png`, fullPage: true });
}
ok('no script errors', errors.length === 0);
await browser.close();
process.exit(failed);
