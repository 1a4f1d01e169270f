## celltrail's pages in English. Every key here is in zh-CN/ too (a test
## checks). Codes, numbers and times are arguments: never translated.

## The page shell
nav-home = Home
nav-scan = Scan
nav-lots = Lots
nav-vials = Vials
nav-storage = Storage
nav-donors = Donors
nav-patients = Patients
nav-doses = Doses
nav-api = API
sign-out = Sign out
find-placeholder = Find a code, DIN or subject
find-label = Find a code, DIN or subject code
demo-notice = DEMO — NOT FOR CLINICAL USE
demo-banner = This server holds the demo trial: its donors, products, patients and labels are made up.
language-label = Language
language-changed = The pages are now in English.
home-link = Home
page-cannot-show = Cannot show this
page-not-for-role = Not for your role

## Signing in
sign-in-title = Sign in
sign-in-username = Username
sign-in-password = Password
sign-in-button = Sign in
session-ended = Your session had ended. Sign in again to return to the page you were on.
session-ended-sent = Your session had ended, so what you sent was not saved. Sign in again: you will return to the page you were on, with what you typed put back for you to check and send.

## Statuses (lots, vials, doses, donors, infusions)
status-in_process = in process
status-quarantine = quarantine
status-released = released
status-rejected = rejected
status-recalled = recalled
status-available = available
status-reserved = reserved
status-thawed = thawed
status-infused = infused
status-discarded = discarded
status-in_transit = in transit
status-on_hold = on hold
status-count_failed = count failed
status-verified = verified
status-infusing = infusing
status-cancelled = cancelled
status-pending = pending
status-eligible = eligible
status-ineligible = ineligible
status-started = started
status-completed = completed

## Lists
lots-title = Lots
vials-title = Vials
doses-title = Doses
patients-title = Patients
donors-title = Donors
lot-title = Lot { $code }
search-lots = Lot code or DIN
search-vials = Vial or lot code, DIN, or scan a label
search-doses = Dose or subject code, or scan a bag label
search-patients = Subject code, or scan a wristband
search-donors = Donor code or a donation's DIN
filter-status = Status
filter-any = Any
filter-expiring = Expiring
filter-any-time = Any time
filter-within-days = within { $days } days
filter-show = Show
filter-clear = Clear
filter-bad-status = Choose a status from the list.
filter-bad-days = Choose how many days ahead to look.
filter-bad-link = This link is damaged; open the list again.
next-page = Next page
nothing-matches = Nothing matches.
col-lot = Lot
col-din = DIN
col-status = Status
col-expires = Expires
col-available = Available
col-vials = Vials
col-qc = QC
qc-complete = complete
qc-open = { $count } open
col-vial = Vial
col-where = Where
col-cells = Cells
not-in-storage = not in storage
lot-link = lot
col-dose = Dose
col-patient = Patient
col-infusion = Infusion
infusion-of = { $number } of { $total }
col-target-cells = Target cells
col-ordered = Ordered
col-subject = Subject
col-enrolled = Enrolled
col-infusions = Infusions
col-latest-weight = Latest weight
weight-kg-on = { $kg } kg · { $date }
none-yet = none
col-donor = Donor
col-eligibility = Eligibility
col-consent = Consent
col-donations = Donations (their lots)

## Search
search-title = Search
search-box = Code, DIN or subject code — type it or scan a label
search-find = Find
col-what = What
col-code = Code
kind-lot = Lot
kind-vial = Vial
kind-dose = Dose
kind-patient = Patient
kind-donor = Donor
kind-box = Box
kind-shipment = Shipment
kind-shipper = Shipper
search-nothing = Nothing has a code, DIN or subject code that starts with { $typed }.
search-more = Only the first { $count } of each kind are shown. Every match:
more-lots = lots
more-vials = vials
more-doses = doses
more-patients = patients
more-donors = donors

## A record's history
history-title = History
history-empty = Nothing recorded yet.
col-when = When
col-what-happened = What
col-who = Who
col-signed = Signed, reasons, where
history-correction = correction
history-signed = Signed by { $name } ({ $username }), meaning “{ $meaning }”
history-reason = Reason:
history-event = ledger event { $seq }
action-donor-registered = Registered with consent
action-donor-screening-recorded = Screening result recorded
action-donor-screening-invalidated = Screening result invalidated
action-donor-eligibility-decided = Eligibility decided
action-donor-found-ineligible = Found ineligible
action-donation-received = Donation received
action-lot-created = Lot created
action-lot-qc-recorded = QC result recorded
action-lot-qc-investigated = QC failure investigated
action-lot-frozen = Frozen into vials
action-lot-labels-issued = Labels issued
action-lot-released = Released
action-lot-rejected = Rejected
action-lot-recalled = Recalled
action-vial-frozen = Frozen
action-vial-labels-issued = Label issued
action-vial-released = Released with its lot
action-vial-stored = Stored
action-vial-moved = Moved
action-vial-reserved = Reserved for a dose
action-vial-unreserved = Returned to stock
action-vial-thawed = Thawed
action-vial-infused = Infused
action-vial-discarded = Discarded
action-vial-recalled = Recalled with its lot
action-vial-packed = Packed into a shipment
action-vial-unpacked = Taken out of a shipment
action-vial-received = Scanned in at the receiving site
action-vial-arrived = Received under the signed receipt
action-vial-lost = Did not arrive: discarded
action-shipment-created = Shipment started
action-shipment-sealed = Sealed for shipping
action-shipment-cancelled = Shipment cancelled
action-shipment-picked-up = Picked up by the courier
action-shipment-handed-over = Handed to another courier
action-shipment-arrived = Arrived
action-shipment-discrepancy-noted = Scanned at receipt, not on the packing list
action-shipment-received = Receipt signed
action-container-created = Shipping container added
action-container-labels-issued = Shipper label issued
action-storage-box-label-issued = Box label issued
action-site-created = Site added
action-site-configured = Site's facility code or time zone changed
action-user-site-granted = Given access to a site
action-user-site-revoked = Access to a site ended
action-demo-loaded = Demo data loaded
action-import-uploaded = Bank file uploaded for import, awaiting quality's acceptance
action-import-accepted = Bank file accepted for import (signed; the signature under the imported eligibility decisions)
action-import-resumed = Interrupted import resumed (signed)
action-import-finished = Bank file imported
action-import-stopped = Import stopped before the end (what was written stays; it can be resumed)
action-vial-held = Put on hold (a temperature excursion or the donor's consent withdrawn)
action-vial-hold-released = Released from hold
action-hold-opened = Hold opened after a temperature excursion
action-hold-extended = Hold extended: the excursion went on
action-hold-released = Hold released
action-hold-discarded = Held vials discarded
action-donor-consent-withdrawn = Consent withdrawn: every lot and vial not yet infused put on hold
action-lot-withdrawal-held = Consent withdrawn: on hold until quality decides
action-lot-withdrawal-released = Released from the consent-withdrawal hold
action-lot-withdrawal-discarded = Discarded after the donor withdrew consent
action-patient-withdrawn = Withdrawn from the trial; open doses cancelled
action-temperature-recorded = Temperature readings recorded
action-temperature-limits-set = Temperature limits set
action-patient-enrolled = Enrolled
action-patient-coi-assigned = Chain of Identity identifier given
action-patient-weight-recorded = Weight recorded
action-patient-weight-voided = Weight voided
action-patient-assessed = Assessed
action-donor-corrected = Donor's details corrected
action-donation-corrected = Donation's times corrected
action-lot-corrected = Lot's details corrected
action-lot-qc-corrected = QC result corrected
action-vial-corrected = Vial's contents corrected
action-patient-corrected = Patient's details corrected
action-patient-assessment-corrected = Assessment answer corrected
action-dose-ordered = Ordered, vials reserved
action-dose-thawed = Thawed and counted
action-dose-count-failed = Count failed
action-dose-count-corrected = Count corrected
action-dose-vial-replaced = Vial replaced
action-dose-verified = Verified
action-dose-cancelled = Cancelled
action-dose-identity-mismatch = Identity mismatch at the bedside: nothing infused
action-dose-infusion-started = Infusion started
action-infusion-started = Infusion started
action-infusion-completed = Infusion completed
action-storage-created = Storage unit set up
action-protocol-seeded = Protocol recorded
action-protocol-amended = Protocol amended
action-user-created = Account created
action-user-locked = Account locked
action-user-unlocked = Account unlocked
action-user-deactivated = Account deactivated
action-user-reactivated = Account reactivated
action-user-password-changed = Password changed
action-user-password-reset = Password reset

## Boxes
box-occupied = { $used } of { $total } positions occupied.
box-list-them = List them
box-title = Box of { $rows } × { $cols }: { $vials } vials, { $empty } empty
box-title-next = Box of { $rows } × { $cols }: { $vials } vials, { $empty } empty, next free { $position }
box-empty = empty
box-next = next
box-next-free = next free position
box-next-free-at = next free position: { $position }
shade-available = available
shade-reserved = reserved for a dose
shade-quarantine = quarantine: not released
shade-recalled = recalled: do not use
shade-on-hold = on hold after a temperature excursion: do not use until quality decides
shade-expired = expired: do not use
shade-other = other (see the vial)
shade-empty = empty

## Refusals and signatures
refused-form-expired-title = This form has expired
refused-form-expired = The page was open too long or came from elsewhere. Go back, reload it and try again.
refused-sent-twice-title = This form was sent already
refused-sent-twice = The same form arrived a second time (a double click, or sent again after a slow answer). It was done once and not again. Open the page again to see what the first sending did; to do it again, fill in the page's form afresh.
keep-restored = Your session had ended, so this was not saved. What you typed is back in the form: check it, then send it again.
refused-role = A { $role } may not do this; it is for: { $admitted }.
refused-administrator = The administrator manages accounts only; products, patients and traces are for the staff who work with them.
signature-legend = Electronic signature
signature-password = Your password
signature-meaning = Meaning

## Storage and the sign-in page
storage-none = No storage units yet.
storage-unit = Unit
storage-kind = Kind
storage-kind-tank = tank
storage-kind-rack = rack
storage-kind-box = box
sign-in-tagline = Chain of identity and custody for cell-therapy products.

## The trace picture
trace-dose-chip = Dose { $code }: infusion { $number }, { $vials ->
    [one] one vial
   *[other] { $vials } vials
 }, { $status }
trace-unused-vials = { $count ->
    [one] One vial
   *[other] { $count } vials
 } { $status }, given to nobody
trace-doses-and-vials = Doses and vials, by recipient
trace-recipient-summary = { $subject }: { $doses ->
    [one] one dose
   *[other] { $doses } doses
 }, { $vials ->
    [one] one vial
   *[other] { $vials } vials
 }
trace-patient-page = The patient's page

## A lot's outcomes
outcomes-title = Outcomes of { $code }
outcomes-heading = Outcomes of lot
outcomes-trace = Trace
outcomes-summary = { $recipients ->
    [one] One recipient
   *[other] { $recipients } recipients
 }, { $infusions ->
    [one] one infusion
   *[other] { $infusions } infusions
 } from this lot; { $followed } with a PASI after baseline, of whom { $reached } reached PASI 75.
outcomes-rate = PASI 75 rate: { $rate } %.
outcomes-waterfall = PASI change from baseline, by recipient
outcomes-waterfall-legend = Each bar is one recipient's latest PASI against their baseline, worst on the left. Green: PASI 75 reached (at least 75 % better). Red: worse than at baseline. The dashed line is −75 %.
outcomes-no-follow-up = No recipient has a PASI after their baseline yet.
outcomes-ae-by-grade = Adverse events by grade
outcomes-grade = Grade { $grade }
outcomes-by-recipient = By recipient
outcomes-col-infusions = Infusions (this lot / all)
outcomes-col-baseline = PASI at baseline
outcomes-col-latest = PASI latest
outcomes-col-change = Change
outcomes-reached = reached
outcomes-ae = { $term } (grade { $grade })

## Stock against expiry
stock-title = Stock by expiry
stock-explain = Each released lot, the soonest to expire first: the bar is as long as its available vials. Lots that expired in the last 90 days stay here while they hold vials.
stock-none = No released lot holds vials.
stock-bar = { $vials ->
    [one] one vial
   *[other] { $vials } vials
 } · expires { $date } (in { $days ->
    [one] one day
   *[other] { $days } days
 })
stock-bar-today = { $vials ->
    [one] one vial
   *[other] { $vials } vials
 } · expires today, { $date }
stock-bar-expired = { $vials ->
    [one] one vial
   *[other] { $vials } vials
 } · EXPIRED { $date }: discard
stock-legend = Red: expires within 30 days, or has expired. Amber: within 90 days. Blue: later.
nav-stock = Stock
scan-open-donation = Open donation

## A recall notice
notice-title = Recall notice: { $code }
notice-heading = Recall notice: lot
notice-not-recalled = This lot has not been recalled: there is no notice to give.
notice-print = Print this notice
notice-recalled = Recalled { $when } by { $who }, under electronic signature.
notice-reason = Reason:
notice-product = Product { $product }, DIN { $din }, expiry { $expires }.
notice-running = An infusion from this lot is still running for { $subjects }: stop it now and record the volume given.
notice-recipients = { $count ->
    [one] One recipient to notify
   *[other] { $count } recipients to notify
 }
notice-nobody = Nobody received this lot: no patient needs to be told.
notice-infusion = Infusion { $number }, started { $when }
notice-still-running = still running
notice-tell = What to tell them
notice-tell-text = The cells you were given on { $dates } came from a batch that has since been recalled (reason: { $reason }). This does not by itself mean harm was done. Your study doctor will check on you; tell us at once about any fever, chills, rash, breathlessness or feeling unwell. Any further infusions will come from another batch.
notice-stock = Stock
notice-held = { $count ->
    [one] One vial of this lot is held as recalled: never to be used.
   *[other] { $count } vials of this lot are held as recalled: never to be used.
 }
notice-cancelled = Doses cancelled by the recall: { $doses }.
notice-destroy = Thawed vials to destroy: { $vials }.
site-choice = Site
site-choice-none = Choose the site it belongs to
lab-storage-site-hint = A tank is at the site you choose; a rack or box is at its tank's site.

# The sponsor's SDTM export (`/exports`)
nav-exports = Export
exports-title = Export for the sponsor
exports-intro = The trial's data as SDTM datasets (IG 3.4), one CSV file each, for the sponsor's data managers: the patients of your sites, with times on each site's clock. The README describes every column.
exports-ex = Exposure: every infusion given, with the cells given, the cells per kilogram, the lot, and when it started and ended.
exports-ae = Adverse events: each event once, at its current values, with its CTCAE grade, its onset and the lot of the infusion it follows.
exports-qs = Questionnaires: every PASI and DLQI, item by item and its total, by visit, with the baseline flagged.
exports-ds = Disposition: each patient withdrawn from the trial, when and why, as recorded.
exports-download = Download { $domain } (CSV)

# signed corrections of typed fields (issue 16)
corrections-section = Corrections
corrections-title = Corrections of a { $what }
corrections-field = Field
corrections-current = Now
corrections-correct = Correct
corrections-history = Every earlier value
corrections-none = Nothing has been corrected.
corrections-change = Was → is
corrections-old-new = { $old } → { $new }
corrections-by = { $name } ({ $username }), signed “{ $meaning }”
corrections-why = Why
corrections-new-value = New value
corrections-reason = Why the recorded value was wrong
corrections-sign = Sign the correction
corrections-done = { $field } corrected: { $old } → { $new }.
corrections-reprint = Labels that print it are now wrong: reprint them (label issue with a reason): { $labels }.
corrections-reserved = Reserved doses use the new value when they are thawed: { $doses }.
corrections-hint = A correction never edits: the earlier value stays in the history and in the custody ledger. A value a dose already prepared or given was made from cannot be corrected.
corrections-back = Back to the record
corrections-assessments = Correct an answer of an assessment:
corrections-qc = Correct the value of a QC result (before the lot is released):
corrections-kind-donor = donor
corrections-kind-donation = donation
corrections-kind-lot = lot
corrections-kind-vial = vial
corrections-kind-patient = patient
corrections-kind-assessment = assessment
corrections-kind-qc_result = QC result

# the words for each correctable field (corrections pages)
corrections-field-code = Donor code
corrections-field-consent-at = Consent given
corrections-field-collected-at = Collected
corrections-field-received-at = Received
corrections-field-expires-at = Expiry
corrections-field-manufactured-at = Manufactured
corrections-field-passage = Passage
corrections-field-product-code = Product code
corrections-field-volume-ul = Volume (µL)
corrections-field-cells-per-vial = Cells in the vial
corrections-field-value = Result
corrections-field-birth-date = Birth date
corrections-field-sex = Sex
corrections-field-height-cm = Height (cm)
corrections-field-baseline-pasi = Baseline PASI
corrections-field-dlqi-answer = DLQI question { $number }
corrections-field-pasi-score = PASI { $region }: { $part }

## Imports (issue 16)
nav-imports = Import
imp-title = Import a bank
imp-problems = The file has { $count } problems; nothing was stored
imp-problems-hint = Correct them in the spreadsheet (rows numbered as the spreadsheet numbers them: the header is row 1) and choose the file again.
imp-col-row = Row
imp-col-column = Column
imp-col-problem = Problem
imp-upload = Bring in a bank's file
imp-upload-hint = One row per vial, as in docs/import/template.csv. The file is checked row by row first; a quality officer then accepts it with their signature.
imp-file = CSV file
imp-content = Or paste the file's text
imp-check = Check and store
imp-col-file = File
imp-col-rows = Rows imported
imp-col-created = Uploaded
imp-none = No import yet.
imp-status-pending = awaiting quality's acceptance
imp-status-running = being imported
imp-status-finished = imported
imp-flash-uploaded = The file has no problem; it awaits a quality officer's acceptance.
imp-progress = { $done } of { $total } vials imported
imp-summary = Created { $donors } donors, { $donations } donations, { $lots } lots, { $vials } vials and { $units } storage units.
imp-accept = Accept the import
imp-accept-hint = Your signature is the one under the imported donors' eligibility decisions. Lots arrive in quarantine unless you release them here: each must then pass the release rule.
imp-release = Release every lot in the same signed act
imp-awaiting = A quality officer accepts this import with their signature.
imp-resume = Resume the import
imp-stopped = The import stopped before the end: { $why }. What was written stays; resume it below once the cause is fixed.
imp-resume-hint = Only if the bar above has stopped moving (the server was restarted while it wrote): the import goes on after the last part written, with the same choice about release, and nothing is written twice. An import still being written is not disturbed.
imp-flash-accepted = Accepted: the file is being imported.
