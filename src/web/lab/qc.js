// Judges each QC value as it is typed, by the rules the server applies
// (domain::qc): a guide only; the server judges again on submit and its
// judgement is the one recorded. Decimals are compared exactly (BigInt),
// never as floating point.
(function () {
  var box = document.getElementById('qc-entry');
  if (!box) return;
  var words = box.dataset;
  var TEN = BigInt(10);

  function decimal(text) {
    if (!/^\d{1,20}(\.\d{1,40})?$/.test(text)) return null;
    var parts = text.split('.');
    var fraction = parts[1] || '';
    return { n: BigInt(parts[0] + fraction), scale: fraction.length };
  }

  function compare(a, b) {
    var scale = Math.max(a.scale, b.scale);
    var x = a.n * TEN ** BigInt(scale - a.scale);
    var y = b.n * TEN ** BigInt(scale - b.scale);
    return x < y ? -1 : x > y ? 1 : 0;
  }

  // 'pass', 'fail', 'open' (a detection limit leaves it open) or
  // 'unreadable'; null for nothing typed
  function judge(raw, limitText, unit) {
    var value = raw.trim();
    if (value === '') return null;
    if (limitText === 'negative') {
      var word = value.toLowerCase();
      if (word === 'negative') return 'pass';
      if (word === 'positive' || word === 'indeterminate') return 'fail';
      return 'unreadable';
    }
    var below = value.charAt(0) === '<';
    var number = decimal(below ? value.slice(1).trim() : value);
    var op = limitText.split(' ')[0];
    var limit = decimal(limitText.slice(op.length).trim());
    if (!number || !limit) return 'unreadable';
    if (unit === '%' && compare(number, decimal('100')) > 0) return 'unreadable';
    var c = compare(number, limit);
    if (!below) {
      if (op === '<') return c < 0 ? 'pass' : 'fail';
      if (op === '≥') return c >= 0 ? 'pass' : 'fail';
      if (op === '≤') return c <= 0 ? 'pass' : 'fail';
      return 'unreadable';
    }
    if (op === '<' || op === '≤') return c <= 0 ? 'pass' : 'open';
    if (op === '≥') return c <= 0 ? 'fail' : 'open';
    return 'unreadable';
  }

  var looks = { pass: 'pill ok', fail: 'pill bad', open: 'pill warn', unreadable: 'pill bad' };
  box.querySelectorAll('[data-limit]').forEach(function (field) {
    var out = field.form.querySelector('output');
    function show() {
      var verdict = judge(field.value, field.dataset.limit, field.dataset.unit || '');
      out.textContent = verdict ? words[verdict] : '';
      out.className = verdict ? 'qc-judged ' + looks[verdict] : 'qc-judged';
    }
    field.addEventListener('input', show);
    field.addEventListener('change', show);
    show();
  });
})();
