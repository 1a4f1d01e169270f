// End-to-end tests of celltrail's staff pages in headless Chromium.
//
// Starts the real binary (`serve --demo`) on a fresh database, then, as the
// lab, the pharmacist, the nurse and the quality officer would: signs in,
// scans a vial by typing its payload and Enter and stores it, walks a dose
// from the worksheet to the signature, records an infusion after a
// deliberate wristband mismatch, and opens a lot's trace. Checks that no
// request leaves the server, that pages stay under 100 KB, and saves
// screenshots of the key pages to ../artefacts/screenshots/.
//
//   node run.mjs                          # SQLite in a temporary directory
//   DATABASE_URL=postgres://… node run.mjs
//   CELLTRAIL_BIN=../target/release/celltrail node run.mjs
//
// Chromium: Debian's `chromium` package at /usr/bin/chromium (CHROMIUM to
// override).

import { join } from 'node:path';
import { harness } from './lib.mjs';

const h = await harness({
  args: ['serve', '--demo'],
  env: { CELLTRAIL_ADMIN_PASSWORD: 'admin-password-for-web-tests' },
  ready: 'Sign in as',
  shots: process.env.SHOTS_LABEL ?? 'sqlite',
});
const { base, shots, check, api, token } = h;
const newPage = (width, height) => h.newPage(width, height);

async function signIn(page, username) {
  await page.goto(`${base}/`);
  await page.fill('#username', username);
  await page.fill('#password', `demo-${username.split('.')[0]}-password`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('h1:has-text("What needs doing")');
}

/// Bytes of the HTML document and everything it loaded.
async function pageWeight(page, url) {
  let bytes = 0;
  const count = async (response) => {
    try { bytes += (await response.body()).length; } catch { /* redirects have none */ }
  };
  page.on('response', count);
  const started = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  const ms = Date.now() - started;
  await page.waitForTimeout(100);
  page.off('response', count);
  return { bytes, ms };
}

async function main() {

  // What the pages need from the API: a vial to store, a new patient to dose.
  const lab = await token('lab.demo', 'demo-lab-password');
  const { items: [vial] } = await api('/vials?status=available&limit=1', lab);
  const units = await api('/storage', lab);
  const emptyBox = units.filter((u) => u.kind === 'box').at(-1);
  const nurse = await token('clinician.demo', 'demo-clinician-password');
  const protocol = await api('/protocol', nurse);
  const criteria = Object.fromEntries(protocol.criteria.map((c) => [c.key, c.kind === 'inclusion']));
  const now = new Date();
  const patient = await api('/patients', nurse, {
    subject_code: 'PV-031', birth_date: '1975-03-14', sex: 'female',
    enrolled_at: new Date(now - 86400e3).toISOString(), baseline_pasi: 18.4, criteria,
  });
  await api(`/patients/${patient.id}/weights`, nurse, {
    value: 68.2, unit: 'kg', measured_at: new Date(now - 3600e3).toISOString(),
  });

  console.log('sign-in and home (lab)');
  const labPage = await newPage();
  await labPage.goto(`${base}/`);
  check(await labPage.isVisible('form[action="/sign-in"]'), 'signed out, / shows the sign-in form');
  await labPage.fill('#username', 'lab.demo');
  await labPage.fill('#password', 'not-the-password');
  await labPage.keyboard.press('Enter');
  await labPage.waitForSelector('.msg.bad');
  check((await labPage.textContent('.msg.bad')).toLowerCase().includes('wrong username or password'), 'a wrong password is refused with a message');
  await signIn(labPage, 'lab.demo');
  check(await labPage.isVisible('text=Vials that need the lab'), 'the lab home lists vials that need the lab');
  check(/to store\s*[1-9]/.test(await labPage.textContent('main')), 'the demo leaves frozen vials to store on the lab home');
  const cookies = await labPage.context().cookies();
  const session = cookies.find((c) => c.name === 'celltrail_session');
  check(session && session.httpOnly && session.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');
  await labPage.screenshot({ path: join(shots, 'home-lab.png'), fullPage: true });

  console.log('scan station: type the payload and Enter, then store');
  const weight = await pageWeight(labPage, `${base}/scan`);
  check(weight.bytes < 100_000, `the scan station weighs ${weight.bytes} bytes (< 100 KB), loaded in ${weight.ms} ms`);
  check(await labPage.evaluate(() => document.activeElement?.id === 'q'), 'the scan box has the focus');
  await labPage.keyboard.type(vial.scan_payload);
  await labPage.keyboard.press('Enter');
  await labPage.waitForSelector('#scan-result');
  check((await labPage.textContent('#scan-result')).includes(vial.code), 'the scanned vial is shown at once');
  check(await labPage.isVisible('#scan-next'), 'a stored, available vial asks for the box it goes into');
  check(await labPage.evaluate(() => document.activeElement?.id === 'q'), 'the scan box has the focus for the box');
  await labPage.screenshot({ path: join(shots, 'scan-result.png'), fullPage: true });
  await labPage.keyboard.type(`CT1:B:${emptyBox.id.toUpperCase()}`);
  await labPage.keyboard.press('Enter');
  await labPage.waitForSelector('#placing');
  check(await labPage.evaluate(() => document.activeElement?.value === 'A1'), 'the box grid comes up with its next free position focused');
  await labPage.screenshot({ path: join(shots, 'scan-placing.png'), fullPage: true });
  await labPage.keyboard.press('Enter');
  await labPage.waitForSelector('.msg.ok');
  check((await labPage.textContent('.msg.ok')).includes(`${emptyBox.name} › A1`), 'the vial moved, and the message says where');
  check(await labPage.evaluate(() => document.activeElement?.id === 'q'), 'after the action the scan box has the focus again');
  await labPage.keyboard.type('A9999 26 000001 Z');
  await labPage.keyboard.press('Enter');
  await labPage.waitForSelector('#scan-error');
  check((await labPage.textContent('#scan-error')).includes('check character'), 'a mistyped DIN check character is named');
  const tablet = await newPage(800, 1000);
  await signIn(tablet, 'lab.demo');
  await tablet.goto(`${base}/scan?q=${encodeURIComponent(vial.scan_payload)}`);
  await tablet.screenshot({ path: join(shots, 'scan-tablet-800.png'), fullPage: true });
  const overflow = await tablet.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  check(!overflow, 'the scan station fits an 800 px tablet without sideways scrolling');

  console.log('a 768 px tablet: everything fits, every control is at least 44 px');
  const small = await newPage(768, 1024);
  const tooSmallOn = (page) => page.evaluate(() => {
    const controls = [...document.querySelectorAll('button, a.button, input, select, header a, label:has(> input[type=checkbox]), .scroll td > a:first-child')];
    return controls
      .filter((el) => el.type !== 'hidden' && el.type !== 'checkbox' && el.type !== 'radio' && el.offsetParent !== null)
      .map((el) => [el, el.getBoundingClientRect()])
      .filter(([, r]) => r.width > 0 && (r.height < 44 || r.width < 44))
      .map(([el, r]) => `${el.tagName.toLowerCase()} "${(el.textContent || el.name || '').trim().slice(0, 20)}" ${Math.round(r.width)}×${Math.round(r.height)}`);
  });
  const fitsOn = (page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  const tooSmall = () => tooSmallOn(small);
  const fits = () => fitsOn(small);
  await signIn(small, 'pharmacist.demo');
  for (const [what, url] of [
    ['the scan station', `${base}/scan?q=${encodeURIComponent(vial.scan_payload)}`],
    ['the dose worksheet', `${base}/patients/${patient.id}/dose`],
    ['the patient page', `${base}/patients/${patient.id}`],
    ['the dose list', `${base}/doses`],
  ]) {
    await small.goto(url);
    const small_ones = await tooSmall();
    check(small_ones.length === 0, `${what} at 768 px: every control is at least 44 × 44 px${small_ones.length ? `: ${small_ones.join('; ')}` : ''}`);
    check(await fits(), `${what} fits 768 px without sideways scrolling`);
  }
  await small.screenshot({ path: join(shots, 'doses-tablet-768.png'), fullPage: true });

  console.log('dose worksheet: calculation, reserve, counts, volume, signature');
  const rx = await newPage();
  await signIn(rx, 'pharmacist.demo');
  const toPrepare = await rx.textContent('section:has-text("Doses to prepare or verify")');
  check(toPrepare.includes('thawed') && toPrepare.includes('reserved'), 'the demo leaves the pharmacist a dose to thaw and one to verify');
  check((await rx.textContent('#infusions-due')).includes('PV-027'), 'the pharmacist home lists the infusion due today');
  await rx.screenshot({ path: join(shots, 'home-pharmacist.png'), fullPage: true });
  const finished = (await api('/patients', nurse)).items.find((p) => p.subject_code === 'PV-001');
  await rx.goto(`${base}/patients/${finished.id}/dose`);
  check((await rx.textContent('#course-status')).includes('The course is finished: all 6 infusions were given'), 'a finished course\'s worksheet says it is finished');
  check(!(await rx.isVisible('button:has-text("Reserve vials")')) && !(await rx.content()).includes('weigh the patient again'), 'and offers nothing to weigh or order');
  await rx.goto(`${base}/patients/${patient.id}/dose`);
  check((await rx.textContent('ol.steps')).includes('68200 g'), 'the worksheet shows the weight and the calculation step by step');
  await rx.screenshot({ path: join(shots, 'worksheet-calculation.png'), fullPage: true });
  await rx.click('button:has-text("Reserve vials")');
  await rx.waitForSelector('form#thaw');
  const vials = await rx.$$('form#thaw fieldset');
  for (let i = 0; i < vials.length; i += 1) {
    await rx.fill(`input[name="cells_${i}"]`, '16000000');
    await rx.fill(`input[name="viability_${i}"]`, '91.5');
  }
  await rx.click('button:has-text("Record counts")');
  await rx.waitForSelector('#volume');
  const volume = await rx.textContent('#volume');
  check(/\d+(\.\d)? mL/.test(volume), `the volume to draw is shown large: ${volume}`);
  await rx.screenshot({ path: join(shots, 'worksheet-volume.png'), fullPage: true });
  check(await rx.isVisible('text=another pharmacist verifies it'), 'the pharmacist who counted is not offered the signature');
  const doseUrl = rx.url().split('?')[0];
  const doseId = doseUrl.split('/').pop();
  const rx2 = await newPage();
  await signIn(rx2, 'verifier.demo');
  await rx2.goto(doseUrl);
  check((await rx2.textContent('body')).includes('+08:00') || (await rx2.textContent('body')).match(/[+-]\d\d:\d\d/), 'times carry the site\'s offset');
  await rx2.fill('form[action$="/verify"] input[name="password"]', 'demo-verifier-password');
  await rx2.click('button:has-text("Sign and verify")');
  await rx2.waitForSelector('.msg.ok');
  check((await rx2.textContent('h1')).includes('verified'), 'a second pharmacist verifies the dose under signature');
  const dose = await api(`/doses/${doseId}`, nurse);

  console.log('weights: a slip is asked about in words');
  const nursePage = await newPage();
  await signIn(nursePage, 'clinician.demo');
  check((await nursePage.textContent('#follow-ups-due')).includes('PV-028'), 'the clinician home lists the follow-up due today');
  await nursePage.screenshot({ path: join(shots, 'home-clinician.png'), fullPage: true });
  await nursePage.goto(`${base}/patients/${patient.id}`);
  await nursePage.fill('#value', '150.4');
  await nursePage.keyboard.press('Enter');
  await nursePage.waitForSelector('#confirm-weight');
  const question = await nursePage.textContent('#confirm-weight');
  check(question.includes('was it typed in pounds?'), `a weight 120 % above the last one asks in words: ${question.trim().slice(0, 120)}`);
  check(!question.includes('confirm_change'), 'no field names on the page');
  await nursePage.screenshot({ path: join(shots, 'weight-confirm.png'), fullPage: true });
  await nursePage.click('a:has-text("No, enter it again")');
  await nursePage.waitForSelector('#value');

  console.log('bedside: a mismatch first, then the right wristband');
  // the bedside is a tablet on a trolley: 768 px wide
  const rn = await newPage(768, 1024);
  await signIn(rn, 'clinician.demo');
  await rn.goto(`${base}/doses/${doseId}/bedside`);
  const bedsideSmall = await tooSmallOn(rn);
  check(bedsideSmall.length === 0, `the bedside at 768 px: every control is at least 44 × 44 px${bedsideSmall.length ? `: ${bedsideSmall.join('; ')}` : ''}`);
  check(await fitsOn(rn), 'the bedside fits 768 px without sideways scrolling');
  await rn.keyboard.type('CT1:P:PV-001');
  await rn.keyboard.press('Enter');
  await rn.keyboard.type(dose.scan_payload);
  await rn.keyboard.press('Enter');
  await rn.waitForSelector('#mismatch');
  check((await rn.textContent('#mismatch')).toLowerCase().includes('identity check failed'), 'another patient\'s wristband is refused in red');
  await rn.screenshot({ path: join(shots, 'bedside-mismatch.png'), fullPage: true });
  await rn.fill('#patient_scan', patient.scan_payload);
  await rn.fill('#product_scan', dose.scan_payload);
  await rn.click('button:has-text("Check and start")');
  await rn.waitForSelector('.match.ok');
  check(true, 'the right wristband and bag match in green');
  await rn.screenshot({ path: join(shots, 'bedside-match.png'), fullPage: true });
  check(await rn.isVisible('text=Volume infused (mL, as on the bag)'), 'the bedside asks for the volume in mL, as on the bag');
  const recordSmall = await tooSmallOn(rn);
  check(recordSmall.length === 0, `the bedside's record form at 768 px: every control is at least 44 × 44 px${recordSmall.length ? `: ${recordSmall.join('; ')}` : ''}`);
  check(await fitsOn(rn), 'the bedside\'s record form fits 768 px');
  await rn.click('button:has-text("Record infusion")');
  await rn.waitForSelector('.msg.ok');
  check((await rn.textContent('.msg.ok')).includes('Infusion 1 recorded'), 'the infusion is recorded');
  const history = await api(`/audit?subject_kind=dose&subject_id=${doseId}`, lab);
  check(history.some((e) => e.action === 'dose.identity_mismatch'), 'the mismatch is in the ledger');

  console.log('trace');
  const qa = await newPage();
  await signIn(qa, 'quality.demo');
  check(await qa.isVisible('text=Custody ledger'), 'the quality home shows the ledger status');
  check(await qa.isVisible('section:has-text("Lots awaiting release") a.code'), 'the demo leaves quality a lot awaiting release');
  check((await qa.content()).includes('DEMO — NOT FOR CLINICAL USE'), 'a demo server says so on every page');
  const lots = await api('/scan', lab, { payload: 'CT1:L:A999926000005-L01' });
  await qa.goto(`${base}/trace/lots/${lots.id}`);
  check(await qa.isVisible('svg[role="img"]'), 'the trace is drawn as SVG');
  const traced = await qa.textContent('svg[role="img"]');
  check(traced.includes('✕') && /\d+ vials recalled/.test(traced), 'recalled vials are counted and crossed');
  await qa.screenshot({ path: join(shots, 'trace-recalled-lot.png'), fullPage: true });
  const csv = await qa.evaluate(async (url) => (await fetch(url)).text(), `${base}/api/v1/trace/lots/${lots.id}?format=csv`);
  check(csv.startsWith('demo,lot_code,'), 'the trace CSV downloads with the session');
  check(csv.split('\n')[1]?.startsWith('DEMO DATA - NOT FOR CLINICAL USE,'), 'each row of a demo CSV says it is demo data');
  await qa.goto(`${base}/lots/${lots.id}`);
  await qa.screenshot({ path: join(shots, 'lot-page.png'), fullPage: true });

  console.log('lists and the find box');
  await qa.goto(`${base}/lots?status=released`);
  check(await qa.isVisible('form.filters select[name="status"]'), 'the lot list has its filters');
  check((await qa.$$('main tbody tr')).length > 0, 'released demo lots are listed');
  await qa.screenshot({ path: join(shots, 'lots-list.png'), fullPage: true });
  await qa.fill('header form.find input[name="q"]', 'a9999 26');
  await qa.keyboard.press('Enter');
  await qa.waitForURL(/\/search\?q=/);
  check((await qa.$$('main tbody tr')).length > 1, 'a DIN prefix lists every lot, vial and donor it starts');
  await qa.screenshot({ path: join(shots, 'search-results.png'), fullPage: true });
  await qa.fill('header form.find input[name="q"]', vial.scan_payload);
  await qa.keyboard.press('Enter');
  await qa.waitForURL(new RegExp(`/vials/${vial.id}$`));
  check((await qa.textContent('main')).includes(vial.code), 'a scanned label in the find box opens its vial');

  console.log('Simplified Chinese, chosen in the header');
  await qa.goto(`${base}/lots?status=released`);
  await qa.click('header form.language button[value="zh-CN"]');
  await qa.waitForSelector('html[lang="zh-CN"]');
  check((await qa.textContent('h1')).trim() === '批次', 'the lot list comes back in Chinese');
  check((await qa.textContent('.msg.ok')).includes('页面已切换为简体中文'), 'and says so in Chinese');
  check((await qa.textContent('main')).includes('已放行'), 'statuses are in Chinese');
  check((await qa.textContent('main')).includes('A999926'), 'codes stay codes');
  await qa.screenshot({ path: join(shots, 'lots-list-zh.png'), fullPage: true });
  let fullBox = null;
  for (const unit of units.filter((u) => u.kind === 'box')) {
    if ((await api(`/vials?box_id=${unit.id}&limit=1`, lab)).items.length > 0) {
      fullBox = unit;
      break;
    }
  }
  check(fullBox !== null, 'the demo keeps vials in a box');
  await qa.goto(`${base}/storage/${fullBox.id}`);
  check(await qa.isVisible('svg.boxmap'), 'a box is drawn as its map');
  check((await qa.textContent('svg.boxmap')).includes('可用'), 'the map\'s legend is in Chinese');
  check((await qa.$$('svg.boxmap a[href^="/vials/"]')).length > 0, 'each full position links to its vial');
  await qa.screenshot({ path: join(shots, 'box-map-zh.png'), fullPage: true });
  await qa.goto(`${base}/`);
  check((await qa.textContent('main')).includes('待放行'), 'the quality home is in Chinese');
  await qa.screenshot({ path: join(shots, 'home-quality-zh.png'), fullPage: true });
  await qa.goto(`${base}/lots/${lots.id}`);
  check((await qa.textContent('#history')).includes('历史记录'), 'the lot\'s history is in Chinese');
  await qa.screenshot({ path: join(shots, 'lot-page-zh.png'), fullPage: true });
  const mine = await qa.evaluate(async () => (await fetch('/api/v1/users/me/preferences')).json());
  check(mine.language === 'zh-CN' && mine.chosen, 'the choice is kept with the account');
  await qa.click('header form.language button[value="en"]');
  await qa.waitForSelector('html[lang="en"]');

  console.log('a session that ends keeps what was typed and returns to the page');
  const ward = await newPage();
  await signIn(ward, 'clinician.demo');
  const endSession = async () => {
    const cookie = (await ward.context().cookies()).find((c) => c.name === 'celltrail_session');
    const out = await fetch(`${base}/api/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${cookie.value}` } });
    if (!out.ok) throw new Error(`logout: ${out.status}`);
  };
  const patientUrl = `${base}/patients/${patient.id}`;
  await ward.goto(patientUrl);
  await endSession();
  await ward.fill('#value', '68.4');
  const [sent] = await Promise.all([
    ward.waitForResponse((r) => r.request().method() === 'POST'),
    ward.keyboard.press('Enter'),
  ]);
  await ward.waitForSelector('[data-session-ended]');
  check(sent.status() === 401, `a form sent after the session ended is answered 401 with the sign-in form (${sent.status()})`);
  const ended = await ward.textContent('[data-session-ended]');
  check(ended.includes('Your session had ended, so what you sent was not saved'), `it says so in words: ${ended.trim().slice(0, 80)}`);
  await ward.screenshot({ path: join(shots, 'session-ended.png'), fullPage: true });
  await ward.fill('#username', 'clinician.demo');
  await ward.fill('#password', 'demo-clinician-password');
  await ward.keyboard.press('Enter');
  await ward.waitForSelector('#restored');
  check(ward.url() === patientUrl, `after signing in it is back on the page, not the form's route: ${ward.url()}`);
  check(await ward.inputValue('#value') === '68.4', 'what was typed is back in the form');
  check((await ward.textContent('#restored')).includes('check it, then send it again'), 'and the page says to check it and send it again');
  check(!(await ward.content()).includes('method_not_allowed'), 'no JSON 405 page');
  await ward.goto(patientUrl);
  check(!(await ward.isVisible('#restored')) && await ward.inputValue('#value') === '', 'put back once only');
  await endSession();
  await ward.goto(`${patientUrl}?from=list`);
  await ward.waitForSelector('form[action="/sign-in"]');
  check((await ward.textContent('.msg.bad')).includes('Your session had ended'), 'a page opened after the session ended says so');
  await ward.fill('#username', 'clinician.demo');
  await ward.fill('#password', 'demo-clinician-password');
  await ward.keyboard.press('Enter');
  await ward.waitForURL(`${patientUrl}?from=list`);
  check(true, 'and returns to that page after signing in');

  console.log('a shipment to the ward: packed, sealed, picked up, received with a vial missing');
  const shipLab = await newPage();
  await signIn(shipLab, 'lab.demo');
  const stock = (await api('/vials?status=available&limit=50', lab)).items;
  const [goes, stays] = stock.slice(-2);
  await shipLab.goto(`${base}/shipments`);
  await shipLab.selectOption('#to', { label: 'Ward 3 (demo) (B1234)' });
  await shipLab.selectOption('#container', { index: 0 });
  check((await shipLab.textContent('#container')).includes('DS-08'), 'the shipper at the cell lab is offered (DS-07 is at the ward)');
  await shipLab.click('form[action="/shipments"] button[type=submit]');
  await shipLab.waitForSelector('#pack-scan');
  const shipmentUrl = shipLab.url().split('?')[0];
  check((await shipLab.textContent('.msg.ok')).includes('Scan the vials into the shipper'), 'the shipment is started and asks for its vials');
  for (const v of [goes, stays]) {
    await shipLab.fill('#pack-scan', v.scan_payload);
    await shipLab.keyboard.press('Enter');
    await shipLab.waitForSelector('.msg.ok');
    check((await shipLab.textContent('.msg.ok')).includes(v.code), `scanning ${v.code} packs it`);
  }
  await shipLab.fill('#pack-scan', goes.scan_payload);
  await shipLab.keyboard.press('Enter');
  await shipLab.waitForSelector('.msg.ok');
  check((await shipLab.textContent('.msg.ok')).includes('Nothing was packed twice'), 'a vial scanned twice is packed once');
  await shipLab.fill('form[action$="/seal"] input[name=password]', 'demo-lab-password');
  await shipLab.click('form[action$="/seal"] button[type=submit]');
  await shipLab.waitForSelector('.msg.ok');
  check((await shipLab.textContent('.msg.ok')).includes('Sealed under your signature'), 'sealed under signature');
  const travelling = await api(`/vials/${goes.id}`, lab);
  check(travelling.status === 'in_transit', `a sealed vial is in transit (${travelling.status})`);
  await shipLab.fill('#party-pick_up', 'Liu Yang, SF Express');
  await shipLab.keyboard.press('Enter');
  await shipLab.waitForSelector('.msg.ok');
  check((await shipLab.textContent('.msg.ok')).includes('in transit'), 'the courier pick-up is recorded');
  await shipLab.screenshot({ path: join(shots, 'shipment-picked-up.png'), fullPage: true });

  const wardPage = await newPage();
  await signIn(wardPage, 'ward.demo');
  await wardPage.goto(shipmentUrl);
  await wardPage.fill('#party-arrival', 'Liu Yang, SF Express');
  await wardPage.keyboard.press('Enter');
  await wardPage.waitForSelector('#receipt-scan');
  const offered = await wardPage.inputValue('#receipt-position');
  check(offered === 'A7', `the next free position of the ward's box is offered (${offered})`);
  await wardPage.fill('#receipt-scan', goes.scan_payload);
  await wardPage.keyboard.press('Enter');
  await wardPage.waitForSelector('.msg.ok');
  check((await wardPage.textContent('.msg.ok')).includes('Box W1 › A7'), 'the vial is scanned into the box');
  check(await wardPage.inputValue('#receipt-position') === 'A8', 'and the next position is offered');
  const why = `#vial-${stays.id}`;
  check(await wardPage.isVisible(why), 'the vial not scanned in asks for a reason before the signature');
  await wardPage.fill(why, 'not in the shipper on opening');
  await wardPage.fill('form[action$="/receive"] input[name=password]', 'demo-ward-password');
  await wardPage.screenshot({ path: join(shots, 'shipment-receipt.png'), fullPage: true });
  await wardPage.click('form[action$="/receive"] button[type=submit]');
  await wardPage.waitForSelector('.msg.ok');
  check((await wardPage.textContent('.msg.ok')).includes('Receipt signed'), 'the receipt is signed');
  const arrived = await api(`/vials/${goes.id}`, lab);
  const lost = await api(`/vials/${stays.id}`, lab);
  check(arrived.status === 'available' && arrived.site_id !== travelling.site_id, `the vial that came is available at the ward (${arrived.status})`);
  check(lost.status === 'discarded', `the vial that did not come is available nowhere (${lost.status})`);

  console.log('the ward tank warmed for 40 minutes: quality releases the hold');
  const quality = await token('quality.demo', 'demo-quality-password');
  const wardTank = (await api('/storage', quality)).find((u) => u.name === 'Ward tank (demo)');
  const { items: openHolds } = await api('/holds?status=open', quality);
  check(openHolds.length === 1 && openHolds[0].vial_count === 6, `the excursion holds the six vials it reached (${openHolds.length} holds)`);
  const heldVial = (await api(`/holds/${openHolds[0].id}`, quality)).vials[0];
  const heldBefore = await api(`/vials/${heldVial.vial_id}`, quality);
  check(heldBefore.status === 'on_hold', `a held vial is on hold (${heldBefore.status})`);
  const qaWard = await newPage();
  await signIn(qaWard, 'quality.demo');
  await qaWard.goto(`${base}/storage/${wardTank.id}`);
  check(await qaWard.isVisible('svg[role="img"], svg.chart, section svg'), 'the tank page draws its temperature chart');
  await qaWard.screenshot({ path: join(shots, 'tank-chart-hold.png'), fullPage: true });
  const holdId = openHolds[0].id;
  await qaWard.click(`form[action="/holds/${holdId}/release"] >> xpath=.. >> summary`);
  await qaWard.fill(`#hold-release-reason-${holdId}`, 'probe in the lid; product stayed in vapour phase below -150 °C');
  await qaWard.fill(`form[action="/holds/${holdId}/release"] input[name=password]`, 'demo-quality-password');
  await qaWard.click(`form[action="/holds/${holdId}/release"] button[type=submit]`);
  await qaWard.waitForSelector('.msg.ok');
  check((await qaWard.textContent('.msg.ok')).includes('Released from hold'), 'the hold is released under signature');
  const heldAfter = await api(`/vials/${heldVial.vial_id}`, quality);
  check(heldAfter.status === 'available', `and the vial is available again (${heldAfter.status})`);

  const foreign = [labPage, tablet, small, rx, rx2, nursePage, rn, qa, ward, shipLab, wardPage, qaWard].flatMap((p) => p.foreign);
  check(foreign.length === 0, `no request to any other host${foreign.length ? `: ${foreign.join(', ')}` : ''}`);
}

try {
  await main();
} catch (error) {
  h.fail(error);
}
await h.finish();
