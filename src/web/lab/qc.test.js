// Checks qc.js's live judgement against the server's rules (domain::qc)
// without a browser: `node src/web/lab/qc.test.js` (exits 1 on a mismatch).
// Not served; the server's judgement is the one recorded either way.
'use strict';
const fs = require('fs');
const path = require('path');
let source = fs.readFileSync(path.join(__dirname, 'qc.js'), 'utf8');
source = source.replace('var looks', 'globalThis.judgeQc = judge; var looks');
globalThis.document = {
  getElementById: () => ({ dataset: {}, querySelectorAll: () => [] }),
};
eval(source);
const cases = [
  ['92.5', '≥ 80', '%', 'pass'], ['79.99', '≥ 80', '%', 'fail'], ['80', '≥ 80', '%', 'pass'],
  ['80.000', '≥ 80', '%', 'pass'], ['0.5', '< 0.5', 'EU/mL', 'fail'], ['0.49', '< 0.5', 'EU/mL', 'pass'],
  ['<0.25', '< 0.5', 'EU/mL', 'pass'], ['<0.6', '< 0.5', 'EU/mL', 'open'], ['2', '≤ 2', '%', 'pass'],
  ['2.01', '≤ 2', '%', 'fail'], ['< 2', '≤ 2', '%', 'pass'], ['<3', '≤ 2', '%', 'open'],
  ['101', '≥ 95', '%', 'unreadable'], ['9O.5', '≥ 80', '%', 'unreadable'], ['.5', '≥ 80', '%', 'unreadable'],
  ['1,5', '≥ 80', '%', 'unreadable'], ['1.', '≥ 80', '%', 'unreadable'], ['<50', '≥ 95', '%', 'fail'],
  ['<99', '≥ 95', '%', 'open'], ['Negative', 'negative', '', 'pass'], ['positive', 'negative', '', 'fail'],
  ['maybe', 'negative', '', 'unreadable'], ['', '≥ 95', '%', null],
  // no floating point: 0.1 + 0.2 style sums never arise, and long decimals compare exactly
  ['94.99999999999999999', '≥ 95', '%', 'fail'], ['2.00000000000000001', '≤ 2', '%', 'fail'],
];
let wrong = 0;
for (const [value, limit, unit, want] of cases) {
  const got = globalThis.judgeQc(value, limit, unit);
  if (got !== want) {
    wrong += 1;
    console.log(`${JSON.stringify(value)} against ${limit} ${unit}: ${got}, not ${want}`);
  }
}
console.log(wrong ? `${wrong} of ${cases.length} wrong` : `all ${cases.length} judged as the server does`);
process.exit(wrong ? 1 : 0);
