// The employee's browser: headless Chromium (playwright-core, /usr/bin/chromium)
// doing what the plan says with the drill mails that employee.py fetched over
// IMAP: open the mail (its HTML, so the images load), click the link, click
// the report link on the page it leads to, open the attachment, fill in and
// send its sign-in form. A normal desktop user agent, as an employee's
// browser has; a pause before each link so that a person is not taken for a
// scanner fetching every link at once.
//   node employee.mjs PLAN.json
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) ' +
  'Chrome/120.0.0.0 Safari/537.36';
const pause = ms => new Promise(r => setTimeout(r, ms));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'] });
let failed = 0;
for (const p of plan) {
  const ctx = await browser.newContext({ userAgent: UA });
  const page = await ctx.newPage();
  try {
    if (p.no_images)
      await page.route(/\.gif$/, r => r.abort());
    const a = p.actions;
    if (a.includes('open') || a.includes('click')) {
      await page.goto('file://' + p.html, { waitUntil: 'networkidle' });
    }
    if (a.includes('click')) {
      await pause(2200);
      await Promise.all([page.waitForLoadState('networkidle'), page.click('a[href*="/t/c/"]')]);
      const body = await page.textContent('body');
      if (!/訓練|drill/.test(body)) throw new Error('the landing page does not say it was a drill');
      if (a.includes('report_link')) {
        await pause(2200);
        await Promise.all([page.waitForLoadState('networkidle'), page.click('a[href*="/t/r/"]')]);
      }
    }
    if (a.includes('attach')) {
      await pause(2200);
      await page.goto('file://' + p.attachment, { waitUntil: 'networkidle' });
      if (a.includes('submit')) {
        await page.fill('input[name=user]', p.user + '@example.jp');
        await page.fill('input[name=pass]', 'not-a-real-password');
        await Promise.all([page.waitForURL(/\/t\/l\//), page.click('#signin')]);
        const body = await page.textContent('body');
        if (!/訓練|drill/.test(body)) throw new Error('the form did not lead to the landing page');
      }
    }
    console.log(`ok - ${p.user}: ${a.join(' ')}`);
  } catch (e) {
    failed = 1;
    console.log(`FAIL - ${p.user}: ${e}`);
  }
  await ctx.close();
}
await browser.close();
process.exit(failed);
