// The whole trial in the browser, from an empty database, by the people who
// run it: the administrator opens accounts; the lab registers and screens a
// donor, the quality officer signs eligibility, the lab records the
// donation, starts a lot, enters QC, freezes it into vials, issues their
// labels, sets up storage and stores a vial; quality releases the lot; the
// clinician enrols a patient, the pharmacist doses, a second pharmacist
// verifies, the nurse infuses, the clinician scores PASI; quality recalls
// the lot and reads its outcomes. Every act is done on a page (the API is
// only read, to find what a scanner would scan).
//
// Forms are found by what they do (their action and field names), never by
// their words, so the same walk runs in either language:
//
//   node story.mjs                          # English, SQLite
//   STORY_LANGUAGE=zh-CN node story.mjs     # Simplified Chinese
//   DATABASE_URL=postgres://… node story.mjs
//
// Each step's page is saved to ../artefacts/screenshots/story-<language>-<label>/.

import { join } from 'node:path';
import { harness } from './lib.mjs';

const language = process.env.STORY_LANGUAGE ?? 'en';
const locale = language === 'zh-CN' ? 'zh-CN' : 'en-GB';
const ADMIN_PASSWORD = 'admin-password-for-the-story';
const PASSWORD = 'a-long-staff-password-42';
const h = await harness({
  args: ['serve'],
  env: { CELLTRAIL_ADMIN_PASSWORD: ADMIN_PASSWORD },
  shots: `story-${language}-${process.env.SHOTS_LABEL ?? 'sqlite'}`,
});
const { base, check } = h;
let shot = 0;

async function snap(page, name) {
  shot += 1;
  await page.screenshot({ path: join(h.shots, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

/// Signs in on a new page in the story's language.
async function person(username, password = PASSWORD, width = 1280) {
  const page = await h.newPage(width, 900, locale);
  await page.goto(`${base}/`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.keyboard.press('Enter');
  await page.waitForSelector('form[action="/sign-out"]');
  return page;
}

/// Submits the form matched by `selector` and waits for the next page.
async function submit(page, selector) {
  await Promise.all([
    page.waitForLoadState('load'),
    page.waitForNavigation(),
    page.click(`${selector} button[type=submit]`),
  ]);
}

/// The page went where it should, with a message saying it was done.
async function done(page, what) {
  const bad = await page.$('.msg.bad');
  const ok = await page.$('.msg.ok');
  check(!bad && ok !== null, `${what}${bad ? `: ${(await bad.textContent()).trim()}` : ''}`);
  check(!(await page.content()).includes('"error"'), `${what}: a page, never JSON`);
}

/// The page says something in the story's language.
async function speaks(page, what) {
  const text = await page.textContent('main');
  const han = /[\u4e00-\u9fff]/.test(text);
  check(language === 'zh-CN' ? han : !han, `${what} is in ${language}`);
}

async function main() {
  console.log(`the administrator opens the accounts (${language})`);
  const admin = await person('admin', ADMIN_PASSWORD);
  await admin.goto(`${base}/accounts`);
  await snap(admin, 'accounts');
  for (const [username, role] of [
    ['lab.one', 'lab'], ['qa.one', 'quality'], ['rx.one', 'pharmacist'],
    ['rx.two', 'pharmacist'], ['rn.one', 'clinician'],
  ]) {
    await createAccount(admin, username, role);
  }
  await snap(admin, 'accounts-made');

  console.log('the lab registers and screens a donor');
  const lab = await person('lab.one');
  await lab.goto(`${base}/donors/new`);
  await speaks(lab, 'the registration form');
  await lab.fill('input[name="code"]', 'UCD-0001');
  await lab.check('input[name="consent_confirmed"]');
  await snap(lab, 'donor-register');
  await submit(lab, 'form[action="/donors/new"]');
  const donorUrl = lab.url().split('?')[0];
  check(/\/donors\/[0-9a-f-]{36}$/.test(donorUrl), `registered, on the donor's page: ${donorUrl}`);
  const required = await lab.$$eval('form[action$="/screening"] select[name="test"] option', (os) => os.length);
  // the form stays open while a required test has no result
  for (let i = 0; i < 8 && await lab.$('details[open] form[action$="/screening"]'); i += 1) {
    // the first test still missing is chosen for the person; negative
    await lab.selectOption('form[action$="/screening"] select[name="result"]', 'negative');
    await submit(lab, 'form[action$="/screening"]');
    await done(lab, `screening result ${i + 1} recorded`);
  }
  check(required > 0, 'the screening form offers the protocol\'s tests');
  await snap(lab, 'donor-screened');

  console.log('quality signs the donor eligible');
  const qa = await person('qa.one');
  await qa.goto(donorUrl);
  await qa.check('form[action$="/eligibility"] input[value="eligible"]');
  await qa.fill('form[action$="/eligibility"] input[name="password"]', PASSWORD);
  await submit(qa, 'form[action$="/eligibility"]');
  await done(qa, 'eligibility signed');
  await snap(qa, 'donor-eligible');

  console.log('the lab records the donation and starts a lot');
  await lab.goto(donorUrl);
  await submit(lab, 'form[action$="/donations"]');
  const donationUrl = lab.url().split('?')[0];
  check(/\/donations\/[0-9a-f-]{36}$/.test(donationUrl), `the donation's page: ${donationUrl}`);
  const din = (await lab.textContent('.big')).trim();
  check(/^[A-Z]\d{4}\s*\d{2}\s*\d{6}/.test(din), `its DIN is shown large: ${din}`);
  await snap(lab, 'donation');
  await lab.click('a[href^="/lots/new?donation="]');
  await lab.fill('input[name="passage"]', '3');
  await snap(lab, 'lot-new');
  await submit(lab, 'form[action="/lots/new"]');
  const lotUrl = lab.url().split('?')[0].split('#')[0];
  const lotId = lotUrl.split('/').pop();
  check(/\/lots\/[0-9a-f-]{36}$/.test(lotUrl), `the lot's page: ${lotUrl}`);

  console.log('QC, judged as typed and by the server');
  const passing = {
    sterility: 'negative', mycoplasma: 'negative', endotoxin: '0.1', viability: '92.5', cd73: '99.1',
    cd90: '98.7', cd105: '97.2', cd34: '0.4', cd45: '0.3', cd14: '0.2', cd19: '0.1', hla_dr: '0.5',
  };
  const tests = await lab.$$eval('form.qc-test input[name="test"]', (is) => is.map((i) => i.value));
  check(tests.length === 12, `one QC form per test of the specification (${tests.length})`);
  for (const test of tests) {
    const form = `form.qc-test:has(input[name="test"][value="${test}"])`;
    const field = `${form} [name="value"]`;
    if ((await lab.$eval(field, (el) => el.tagName)) === 'SELECT') {
      await lab.selectOption(field, passing[test]);
    } else {
      await lab.fill(field, passing[test]);
    }
    await submit(lab, form);
    await done(lab, `QC ${test} recorded`);
  }
  await snap(lab, 'lot-qc');

  console.log('freezing into vials, labels issued');
  await lab.fill('form[action$="/freeze"] input[name="vial_count"]', '20');
  await lab.fill('form[action$="/freeze"] input[name="cells_per_vial"]', '25000000');
  await lab.fill('form[action$="/freeze"] input[name="volume"]', '1.5');
  await lab.check('form[action$="/freeze"] input[name="volume_unit"][value="ml"]');
  await submit(lab, 'form[action$="/freeze"]');
  await done(lab, 'frozen into 20 vials');
  await submit(lab, 'form[action$="/label-issues"]');
  await done(lab, 'the label sheet is recorded as issued');
  check(await lab.$('a[href$="/labels.pdf"]') !== null, 'and its PDF is offered');
  await snap(lab, 'lot-frozen-labelled');

  console.log('storage set up, a vial stored by scanning');
  for (const [kind, name, parent] of [['tank', 'Tank 1', null], ['rack', 'Rack A', 'Tank 1'], ['box', 'Box 1', 'Rack A']]) {
    await lab.goto(`${base}/storage/new`);
    await lab.check(`input[name="kind"][value="${kind}"]`);
    if (parent) {
      const value = await lab.$eval('select[name="parent_id"]', (s, p) => [...s.options].find((o) => o.textContent.includes(p))?.value, parent);
      await lab.selectOption('select[name="parent_id"]', value);
    }
    await lab.fill('input[name="name"]', name);
    if (kind === 'box') {
      await lab.fill('input[name="rows"]', '9');
      await lab.fill('input[name="cols"]', '9');
    }
    await submit(lab, 'form[action="/storage/new"]');
    await done(lab, `${kind} ${name} created`);
  }
  await snap(lab, 'storage-box');
  const labToken = await h.token('lab.one', PASSWORD);
  const { items: vials } = await h.api(`/vials?lot_id=${lotId}&limit=20`, labToken);
  const boxes = (await h.api('/storage', labToken)).filter((u) => u.kind === 'box');
  await lab.goto(`${base}/scan?q=${encodeURIComponent(vials[0].scan_payload)}`);
  await lab.fill('#q', `CT1:B:${boxes[0].id.toUpperCase()}`);
  await lab.press('#q', 'Enter');
  await lab.waitForSelector('#placing');
  check(await lab.evaluate(() => document.activeElement?.value === 'A1'), 'the box scanned after the vial shows its grid, A1 focused');
  await snap(lab, 'vial-placing');
  await Promise.all([lab.waitForNavigation(), lab.keyboard.press('Enter')]);
  await done(lab, 'a vial scanned, then its box, and stored at A1');
  await snap(lab, 'vial-stored');

  console.log('quality releases the lot');
  await qa.goto(lotUrl);
  await qa.fill('form[action$="/release"] input[name="password"]', PASSWORD);
  await submit(qa, 'form[action$="/release"]');
  await done(qa, 'the lot is released under signature');
  await speaks(qa, 'the lot page');
  await snap(qa, 'lot-released');

  console.log('the clinician enrols a patient');
  const rn = await person('rn.one', PASSWORD, 768);
  const patientUrl = await enrol(rn);
  // the enrolment weight is the reference; a dose needs one measured
  await rn.fill('#value', '68.0');
  await submit(rn, `form[action$="/weights"]`);
  await done(rn, 'the weight for the dose is recorded');
  await snap(rn, 'patient-enrolled');

  console.log('the pharmacist doses, a second verifies');
  const rx = await person('rx.one');
  await rx.goto(`${patientUrl}/dose`);
  await snap(rx, 'worksheet');
  await submit(rx, `form[action$="/dose"]`);
  await rx.waitForSelector('form#thaw');
  const counted = (await rx.$$('form#thaw fieldset')).length;
  for (let i = 0; i < counted; i += 1) {
    await rx.fill(`input[name="cells_${i}"]`, '16000000');
    await rx.fill(`input[name="viability_${i}"]`, '91.5');
  }
  await submit(rx, 'form#thaw');
  await rx.waitForSelector('#volume');
  await snap(rx, 'dose-volume');
  const doseUrl = rx.url().split('?')[0];
  const rx2 = await person('rx.two');
  await rx2.goto(doseUrl);
  await rx2.fill('form[action$="/verify"] input[name="password"]', PASSWORD);
  await submit(rx2, 'form[action$="/verify"]');
  await done(rx2, 'a second pharmacist verifies the dose');

  console.log('the nurse infuses at the bedside');
  const rnToken = await h.token('rn.one', PASSWORD);
  const dose = await h.api(`/doses/${doseUrl.split('/').pop()}`, rnToken);
  const patient = await h.api(`/patients/${patientUrl.split('/').pop()}`, rnToken);
  await rn.goto(`${doseUrl}/bedside`);
  await rn.fill('#patient_scan', patient.scan_payload);
  await rn.fill('#product_scan', dose.scan_payload);
  await submit(rn, `form[action$="/bedside"]`);
  await rn.waitForSelector('.match.ok');
  await snap(rn, 'bedside-match');
  await submit(rn, 'form[action$="/complete"]');
  await done(rn, 'the infusion is recorded');

  console.log('the clinician scores PASI');
  await recordPasi(rn, patientUrl);
  await snap(rn, 'patient-pasi');

  console.log('quality recalls the lot and reads its outcomes');
  await qa.goto(lotUrl);
  await qa.click('details:has(form[action$="/recall"]) summary');
  await qa.fill('form[action$="/recall"] input[name="reason"]', 'Sterility retest positive');
  await qa.fill('form[action$="/recall"] input[name="password"]', PASSWORD);
  await submit(qa, 'form[action$="/recall"]');
  await done(qa, 'the lot is recalled under signature');
  check((await qa.content()).includes(patient.subject_code), 'the recall names the recipient to notify');
  await snap(qa, 'lot-recalled');
  await qa.goto(`${base}/trace/lots/${lotId}`);
  check((await qa.textContent('svg[role="img"]')).includes(patient.subject_code), 'the trace draws the recipient');
  await snap(qa, 'trace');
  await qa.goto(`${base}/lots/${lotId}/outcomes`);
  check(await qa.$('svg[role="img"]') !== null, 'the outcomes page draws its pictures');
  await speaks(qa, 'the outcomes page');
  await snap(qa, 'outcomes');

  const ledger = await h.api('/audit/verify', await h.token('qa.one', PASSWORD));
  check(ledger.ok === true, `the ledger verifies after the whole story (${ledger.events} events)`);
  const foreign = h.foreign();
  check(foreign.length === 0, `no request to any other host${foreign.length ? `: ${foreign.join(', ')}` : ''}`);
}

/// The administrator's form for a new account.
async function createAccount(admin, username, role) {
  await admin.goto(`${base}/accounts`);
  await admin.fill('form[action="/accounts"] input[name="username"]', username);
  await admin.fill('form[action="/accounts"] input[name="full_name"]', `Story ${username}`);
  await admin.selectOption('form[action="/accounts"] select[name="role"]', role);
  await admin.fill('form[action="/accounts"] input[name="password"]', PASSWORD);
  await submit(admin, 'form[action="/accounts"]');
  await done(admin, `account ${username} (${role}) opened`);
}

/// The enrolment form with its checklist: every inclusion criterion met,
/// no exclusion; the patient's page is where it ends.
async function enrol(rn) {
  const protocol = await h.api('/protocol', await h.token('rn.one', PASSWORD));
  await rn.goto(`${base}/patients/new`);
  await speaks(rn, 'the enrolment form');
  await rn.fill('input[name="subject_code"]', 'PV-001');
  await rn.fill('input[name="birth_date"]', '1980-05-17');
  await rn.check('input[name="sex"][value="female"]');
  await rn.fill('input[name="height_cm"]', '165');
  await rn.fill('input[name="weight_value"]', '68.2');
  await rn.selectOption('select[name="weight_unit"]', 'kg');
  await rn.fill('input[name="baseline_pasi"]', '20.0');
  for (const c of protocol.criteria ?? protocol.protocol?.criteria ?? []) {
    await rn.check(`input[name="c.${c.key}"][value="${c.kind === 'inclusion' ? 'yes' : 'no'}"]`);
  }
  await snap(rn, 'enrolment');
  await submit(rn, 'form[action="/patients/new"]');
  const url = rn.url().split('?')[0];
  check(/\/patients\/[0-9a-f-]{36}$/.test(url), `enrolled, on the patient's page: ${url}`);
  return url;
}

/// The PASI grid after the infusion: a little erythema and scaling on the
/// trunk, the score computed as it is chosen.
async function recordPasi(rn, patientUrl) {
  await rn.goto(patientUrl);
  await rn.click('details:has(#pasi-form) summary');
  for (const [field, value] of [['trunk.erythema', '1'], ['trunk.induration', '1'], ['trunk.area', '1']]) {
    await rn.selectOption(`#pasi-form select[name="${field}"]`, value);
  }
  // trunk weight 0.3 × (1 + 1 + 0) × area score 1 = 0.6
  check((await rn.textContent('#pasi-total')).trim() === '0.6', 'the PASI total is computed as the grid is filled');
  await submit(rn, '#pasi-form');
  await done(rn, 'PASI recorded');
}

try {
  await main();
} catch (error) {
  h.fail(error);
}
await h.finish();
