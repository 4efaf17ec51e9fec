import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BuildFailures } from '../../engine/scheduler/build-failures.js';

const cases: [name: string, events: string, pausesAt: number[]][] = [
  // f: a message of campaign 1 (revision 0) failed, b: one was built, g: one of campaign 2 failed,
  // e: one of campaign 1 at revision 1 (edited since) failed.
  ['three failures in a row pause', 'fff', [3]],
  ['a message built in between starts over', 'ffbff', []],
  ['another campaign does not count', 'fgfgf', [5]],
  ['after a pause the streak starts over', 'ffffff', [3, 6]],
  ['built with no failure is harmless', 'bbb', []],
  ['failures of the revision before an edit do not count', 'ffeef', []],
  ['the edited revision has a streak of its own', 'ffeee', [5]],
];
for (const [name, events, pausesAt] of cases) {
  test(`build failures: ${name}`, () => {
    const f = new BuildFailures(3);
    const paused: number[] = [];
    [...events].forEach((e, i) => {
      if (e === 'b') return f.clear(1);
      const [id, revision] = e === 'g' ? [2, 0] : [1, e === 'e' ? 1 : 0];
      if (f.failed(id, revision) && id === 1) paused.push(i + 1);
    });
    assert.deepEqual(paused, pausesAt);
  });
}

test('build failures: the limit must be a whole number ≥ 1', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => new BuildFailures(bad), RangeError);
  assert.equal(new BuildFailures(1).failed(7, 0), true);
});
