import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvCell, csvLine } from '../../admin/export/csv.js';
import { counterView } from '../../admin/stats/view.js';

test('csv cells: quoting, formula guard, numbers and nulls', () => {
  const cases: [string | number | null, string][] = [
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=SUM(A1)', "'=SUM(A1)"],
    ['+1', "'+1"],
    ['-x', "'-x"],
    ['@cmd', "'@cmd"],
    ['=a,b', `"'=a,b"`],
    [550, '550'],
    [null, ''],
  ];
  for (const [input, want] of cases) assert.equal(csvCell(input), want, String(input));
  assert.equal(csvLine(['a', 1, null]), 'a,1,\r\n');
});

test('counter view: states summed over categories, percentages of recipients and of delivered, progress', () => {
  const v = counterView({
    campaignId: 1,
    counts: [
      { status: 'delivered', category: null, count: 6 },
      { status: 'bounced', category: 'invalid-recipient', count: 1 },
      { status: 'bounced', category: 'policy', count: 1 },
      { status: 'deferred', category: 'greylisted', count: 1 },
      { status: 'queued', category: null, count: 1 },
    ],
    recipients: 10,
    invalid: 2,
    opens: 9,
    uniqueOpens: 3,
    clicks: 1,
    uniqueClicks: 1,
    unsubscribes: 0,
    complaints: 0,
  });
  assert.equal(v.byState.bounced, 2);
  assert.equal(v.byState.expired, 0);
  assert.equal(v.percent.delivered, 60);
  assert.equal(v.percent.bounced, 20);
  assert.equal(v.percent.uniqueOpens, 50, 'opens are a share of delivered');
  assert.equal(v.progress, 80, 'queued and deferred are not done');
  const empty = counterView({ campaignId: 2, counts: [], recipients: 0, invalid: 0, opens: 0, uniqueOpens: 0, clicks: 0, uniqueClicks: 0, unsubscribes: 0, complaints: 0 });
  assert.equal(empty.progress, 0);
  assert.equal(empty.percent.uniqueOpens, 0);
});
