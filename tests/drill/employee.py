#!/usr/bin/env python3
"""The drill end-to-end test's employees, outside the browser.

  employee.py fetch IMAP_HOST SMTP_HOST WORK PLAN.json BROWSER.json
      every employee of the plan logs in over IMAP, fetches the drill mail,
      keeps its HTML part and attachment as files for the browser (BROWSER.json
      lists them), and those who report by mail forward it to the report
      address: inline (the text with its link), as an attached message
      (message/rfc822), or as an attachment in base64.
  employee.py check PLAN.json REPORT.json
      the counts of the report equal what the plan made the employees do,
      in total and by department (people, not scanners).
"""
import email, imaplib, json, os, smtplib, sys
from email import policy
from email.message import EmailMessage

PASSWORD = 'employee-pw'
KINDS = ['opened', 'clicked', 'attachment', 'submitted', 'reported']


def did(p):
    a = set(p['actions'])
    out = {
        'clicked': 'click' in a,
        'attachment': 'attach' in a,
        'submitted': 'submit' in a,
        'reported': 'report_link' in a or bool(p.get('forward')),
    }
    # opened: the image loaded, or anything done that needs the mail open
    out['opened'] = (('open' in a or 'click' in a) and not p.get('no_images')) or \
        out['clicked'] or out['attachment'] or out['submitted']
    return out


def fetch(imap_host, smtp_host, work, plan_path, browser_path):
    plan = json.load(open(plan_path))
    browser = []
    for user, p in sorted(plan['people'].items()):
        m = imaplib.IMAP4(imap_host, 143)
        m.login(user, PASSWORD)
        m.select('INBOX')
        typ, data = m.search(None, 'ALL')
        ids = data[0].split()
        if len(ids) != 1:
            sys.exit(f'{user}: {len(ids)} mails in the inbox, expected the one drill mail')
        typ, data = m.fetch(ids[0], '(BODY.PEEK[])')
        raw = data[0][1]
        m.logout()
        msg = email.message_from_bytes(raw, policy=policy.default)
        html = msg.get_body(preferencelist=('html',)).get_content()
        hp = os.path.join(work, f'{user}.html')
        open(hp, 'w', encoding='utf-8').write(html)
        att = None
        for part in msg.iter_attachments():
            if part.get_content_type() == 'text/html':
                att = os.path.join(work, f'{user}-attachment.html')
                open(att, 'wb').write(part.get_payload(decode=True))
        if 'attach' in p['actions'] and not att:
            sys.exit(f'{user}: the drill mail has no HTML attachment')
        if [x for x in p['actions'] if x != 'none']:
            browser.append({'user': user, 'html': hp, 'attachment': att,
                            'actions': p['actions'], 'no_images': p.get('no_images', False)})
        fwd = p.get('forward')
        if fwd:
            f = EmailMessage()
            f['From'] = f'{user}@example.jp'
            f['To'] = 'report@example.jp'
            f['Subject'] = 'Fwd: ' + str(msg['Subject'])
            if fwd == 'inline':
                # what a mail client quotes: the text, with the link in it
                f.set_content('怪しいメールが届きました。\n\n---------- 転送メッセージ ----------\n' +
                              msg.get_body(preferencelist=('plain',)).get_content())
            elif fwd == 'rfc822':
                f.set_content('怪しいメールです。添付します。')
                f.add_attachment(email.message_from_bytes(raw, policy=policy.default))
            else:
                f.set_content('怪しいメールです。')
                f.add_attachment(raw, maintype='application', subtype='octet-stream',
                                 filename='suspicious.eml')
            with smtplib.SMTP(smtp_host, 25) as s:
                s.send_message(f)
    json.dump(browser, open(browser_path, 'w'), ensure_ascii=False, indent=1)


def check(plan_path, report_path):
    plan = json.load(open(plan_path))
    rep = json.load(open(report_path))
    bad = 0

    def eq(what, got, want):
        nonlocal bad
        ok = got == want
        bad += not ok
        print(f"{'ok' if ok else 'FAIL'} - {what}: report {got}, employees {want}")

    people = plan['people']
    groups = plan['groups']  # department -> label in the report (merging)
    want_tot = {k: 0 for k in KINDS}
    want_grp = {}
    for user, p in people.items():
        d = did(p)
        g = groups[p['dept']]
        want_grp.setdefault(g, {k: 0 for k in KINDS + ['recipients']})
        want_grp[g]['recipients'] += 1
        for k in KINDS:
            want_tot[k] += d[k]
            want_grp[g][k] += d[k]
    eq('recipients', rep['totals']['recipients'], len(people))
    for k in KINDS:
        eq(f'total {k}', rep['totals'][k], want_tot[k])
    got = {c['label']: c for c in rep['by_department']}
    eq('departments', sorted(got), sorted(want_grp))
    for g, w in sorted(want_grp.items()):
        c = got.get(g, {})
        for k in KINDS + ['recipients']:
            eq(f'{g} {k}', c.get(k), w[k])
    for k, v in plan.get('scanner', {}).items():
        eq(f'scanner {k}', rep['totals']['scanner'][k], v)
    eq('opened within 5 minutes', rep['time_to_open']['lt_5m'], want_tot['opened'])
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    if sys.argv[1] == 'fetch':
        fetch(*sys.argv[2:7])
    elif sys.argv[1] == 'check':
        check(*sys.argv[2:4])
    else:
        sys.exit('usage: employee.py fetch|check ...')
