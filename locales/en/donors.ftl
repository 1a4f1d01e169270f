## donors
## Donors and donations: registering a donor, screening, eligibility,
## donations and their DIN labels.

donors-register = Register a donor

## Registering a donor
donor-new-title = Register a donor
donor-new-code = Donor code
donor-new-code-hint = A pseudonymous code of 3 to 32 capital letters, digits or “-”, such as UCD-0042. Never a name.
donor-new-consent-legend = Consent
donor-new-consent-at = Consent signed at (site time, { $zone })
donor-new-consent-confirm = I have seen the consent form signed by the donor’s mother, at the time above.
donor-new-consent-missing = The donor cannot be registered without consent: tick the box to confirm you have seen the signed consent form, and give the time it was signed.
donor-new-consent-time-unreadable = The time of consent could not be read; give its date and time.
donor-new-button = Register the donor
donor-new-registered = Donor { $code } is registered with consent.

## The donor's page
donor-title = Donor { $code }
donor-heading = Donor
donor-code = Code
donor-consent = Consent
donor-consent-given = Signed { $when }
donor-decided-at = Decided under signature { $when }
donor-found-at = Found by a reactive result { $when }
donor-registered = Registered

## Screening
donor-screening-heading = Screening results
donor-screening-none = No screening result is recorded yet.
donor-col-test = Test
donor-col-result = Result
donor-col-specimen = Specimen
donor-col-sampled = Specimen taken
donor-col-recorded = Recorded
donor-col-standing = Standing
donor-test-hiv = HIV-1/2
donor-test-hbv = Hepatitis B (HBV)
donor-test-hcv = Hepatitis C (HCV)
donor-test-syphilis = Syphilis
donor-test-htlv = HTLV-I/II
donor-test-cmv = Cytomegalovirus (CMV)
donor-test-not-required = (recorded, not required)
donor-result-negative = negative
donor-result-positive = positive
donor-result-indeterminate = indeterminate
donor-specimen-maternal = mother’s blood
donor-specimen-donor = cord blood
donor-invalidated = correction
donor-invalidated-at = invalidated { $when }:
donor-counts = counts
donor-invalidate = Invalidate this result
donor-invalidate-why = Why is this result invalid?
donor-invalidate-why-placeholder = e.g. documented specimen mix-up, report no. …
donor-invalidate-button = Sign the invalidation
donor-record-screening = Record a screening result
donor-sampled-at = Specimen taken at (site time, { $zone })
donor-sampled-at-unreadable = The time the specimen was taken could not be read; give its date and time.
donor-record-screening-button = Record the result
donor-screening-recorded = { $test }: { $result } is recorded.
donor-screening-invalidated = The result is invalidated. It stays on record and no longer counts.

## Eligibility
donor-eligibility-heading = Eligibility
donor-gaps-none = Every required test is negative, in the 7 days around each collection.
donor-gap-missing = Still missing a result: { $tests }.
donor-gap-reactive = Not negative: { $tests }. Such a donor cannot be declared eligible.
donor-gap-window = Specimen taken more than 7 days from a collection: { $tests }. Test a new specimen.
donor-decision = Decision
donor-decide-eligible = Eligible
donor-decide-ineligible = Ineligible
donor-decision-reason = Reason (needed for ineligible)
donor-decision-reason-placeholder = e.g. reactive HBV result
donor-decide-button = Sign the decision
donor-find-ineligible = Find this donor ineligible
donor-decision-missing = Choose eligible or ineligible before signing.
donor-declared-eligible = Donor { $code } is declared eligible.
donor-declared-ineligible = Donor { $code } is declared ineligible.

## Donations on the donor's page
donor-donations-heading = Donations
donor-no-donations = No donation is recorded for this donor.
donor-col-din = DIN
donor-col-collected = Collected
donor-col-received = Received
donor-record-donation = Record a received cord
donor-din-assigned = The donation is given the next DIN of this facility; print its label from the donation’s page.
donor-collected-at = Collected at (site time, { $zone })
donor-received-at = Received in the lab at (site time, { $zone })
donor-record-donation-button = Record the donation
donor-time-unreadable = A time could not be read; give the date and time of collection and of receipt.
donor-ineligible-no-donation = This donor is ineligible: no donation can be recorded.
donor-find-din = Open a donation by its DIN (typed or scanned, with its check character)
donor-find-din-button = Open the donation

## The donation's page
donation-title = Donation { $din }
donation-heading = Donation
donation-din-aria = DIN { $din }
donation-check-character = check character
donation-din-hint = The last character, set apart in its box, is the check character: type it too when the label cannot be scanned.
donation-donor = Donor
donation-label-heading = DIN label
donation-label-png = Label (PNG)
donation-label-svg = Label (SVG)
donation-label-zpl = Label for a Zebra printer (ZPL)
donation-lots-heading = Lots from this donation
donation-no-lots = No lot has been started from this donation.
donation-start-lot = Start a lot from this donation
donation-recorded = The donation is recorded with DIN { $din }.
donation-find-not-a-din = That is not a DIN: type the 13 characters of the DIN and its check character, as the label prints them.

## DIN labels issued on a label printer (src/web/donors/donation.rs)
action-donation-label-issued = DIN labels issued
donation-labels-issued = { $count ->
    [0] No DIN label has been printed on a label printer yet.
    [one] One DIN label has been printed on a label printer and recorded as issued (see the history below).
   *[other] { $count } DIN labels have been printed on a label printer and recorded as issued (see the history below).
 }
donation-labels-downloads = Labels printed from here are recorded as issued; the downloads above are not.
