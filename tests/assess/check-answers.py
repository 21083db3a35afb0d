#!/usr/bin/env python3
"""check-answers.py SELFCHECK.txt POLICY.txt ja.po: every one of the bakery's
25 answers is in the documents read back with pdftotext (newlines removed).

The weakest answer per question, worked out by hand from
data/assess/examples/bakery.yaml (shop / office):
  1 y/y  2 y/y  3 p/y  4 p/y  5 n/p  6 y/y  7 y/p  8 n/p  9 p/y 10 p/p
 11 n/p 12 y/y 13 p/y 14 n/p 15 y/y 16 y/y 17 y/y 18 p/y 19 y/y 20 n/p
 21 u/n 22 n/p 23 u/p 24 n/n 25 n/n   (unknown -1 is weaker than no 0)
The self-check shows "N. question [answer]"; the policy shows the rule of
each question as in place (yes) or to start with the answer."""
import re
import sys

W = "yyppnypnppnypnyyypynununn"
assert len(W) == 25
# pdftotext turns the space where a line wraps into a line break, and the
# caller removed the breaks: compare without any white space
def flat(t):
    return re.sub(r'\s+', '', t)


sc = flat(open(sys.argv[1], encoding='utf-8').read())
pol = flat(open(sys.argv[2], encoding='utf-8').read())
po = {}
key = None
for line in open(sys.argv[3], encoding='utf-8'):
    if line.startswith('msgid "'):
        key = line[7:-2]
    elif line.startswith('msgstr "') and key:
        po[key] = line[8:-2]
label = {'y': po['assess.answer.yes'], 'p': po['assess.answer.partly'],
         'n': po['assess.answer.no'], 'u': po['assess.answer.unknown']}
fails = 0
for q in range(1, 26):
    a = W[q - 1]
    text = po['assess.q.%d.text' % q]
    want = '%d. %s [%s]' % (q, text, label[a])
    if flat(want) not in sc:
        print('FAIL: self-check document lacks: ' + want)
        fails += 1
    rule = po['assess.rule.%d' % q]
    if a == 'y':
        want = po['assess.policy.in_place'].replace('%s', rule)
    else:
        want = po['assess.policy.to_start'].replace('%s', rule, 1).replace('%s', label[a], 1)
    if flat(want) not in pol:
        print('FAIL: policy lacks: ' + want)
        fails += 1
sys.exit(1 if fails else 0)
