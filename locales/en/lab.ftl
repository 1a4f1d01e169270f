## lab
## The cell lab's forms: a new lot, QC entry, freezing, the label sheet, storage set-up.

## Shared
lab-bad-time = The time could not be read; enter a date and time such as 2026-11-25 09:40.
lab-bad-date = The date could not be read; enter a date such as 2027-11-25.
lab-store-these = Store these vials (scan station)

## New lot
lab-new-lot-title = New lot
lab-new-lot-from = From donation { $din }, collected { $collected }.
lab-new-lot-din = Donation's DIN (scan or type it, with its check character)
lab-new-lot-product = Product code
lab-new-lot-passage = Passage (0 to 50)
lab-new-lot-manufactured = Manufactured at ({ $zone } time)
lab-new-lot-expires = Expires on ({ $zone } date; the lot expires as that day begins)
lab-new-lot-create = Create the lot
lab-new-lot-bad-passage = The passage could not be read; enter a whole number from 0 to 50.
lab-new-lot-created = Lot { $code } created. Enter its QC results below.
lab-new-lot-no-din = Scan or type the donation's DIN first.
lab-new-lot-not-a-din = { $code } is not a donation's DIN; scan the donation's label.

## QC entry
lab-qc-entry-heading = Enter QC results
lab-qc-entry-hint = Each result is judged as you type it; the server judges it again when it is recorded, and its judgement is the one kept. A result recorded by mistake stays in the history: record the retest, or ask quality to investigate.
lab-qc-limit = passes if { $limit } { $unit }
lab-qc-choose = choose…
lab-qc-negative = negative
lab-qc-positive = positive
lab-qc-indeterminate = indeterminate
lab-qc-number-placeholder = e.g. 97.5
lab-qc-record = Record
lab-qc-live-pass = passes
lab-qc-live-fail = fails
lab-qc-live-unreadable = cannot be read
lab-qc-live-open = cannot be judged: the detection limit is above the specification
lab-qc-refused = The { $test } result “{ $value }” was not recorded: { $why }
lab-qc-recorded-pass = Recorded: { $test } { $value } passes ({ $limit }).
lab-qc-recorded-fail = Recorded: { $test } { $value } FAILS the specification ({ $limit }).
lab-qc-retested = retested { $when }

## Freezing
lab-freeze-heading = Freeze into vials
lab-freeze-count = Number of vials
lab-freeze-cells = Labelled cells per vial (the whole count, not millions)
lab-freeze-cells-hint = For example 10000000 for 10 million cells.
lab-freeze-volume = Volume per vial
lab-freeze-volume-unit = The volume is in
lab-freeze-ml = millilitres (mL)
lab-freeze-ul = microlitres (µL)
lab-freeze-at = Frozen at ({ $zone } time)
lab-freeze-button = Freeze
lab-freeze-refused = The lot was not frozen: { $why }
lab-freeze-not-in-process = it is no longer in process (its status is { $status }), and a lot is frozen only once.
lab-freeze-bad-count = the number of vials could not be read; enter a whole number.
lab-freeze-bad-cells = the cells per vial could not be read; enter the whole count of cells, such as 10000000.
lab-freeze-no-unit = say whether the volume is in millilitres or microlitres.
lab-freeze-bad-volume = the volume could not be read; enter a number such as 1 or 1.5 for millilitres, or a whole number such as 1000 for microlitres.
lab-freeze-confirm-title = Check before freezing
lab-freeze-volume-question = Each vial would hold { $ul } µL ({ $ml }). A cryovial usually holds 0.1 mL to 5 mL: were millilitres and microlitres mixed up?
lab-freeze-cells-question = Each vial would hold { $cells } cells, fewer than a million: was the count typed in millions?
lab-freeze-confirm = Yes, freeze as entered
lab-freeze-correct = No, go back and correct it
lab-freeze-done = Lot { $code } frozen into { $count } vials of { $cells } cells ({ $millions }) in { $ml } ({ $ul } µL) each. Issue the label sheet next.

## Label sheet
lab-labels-heading = Labels
lab-labels-reconciled = { $vials } vials; { $labelled } of them have labels issued ({ $labels } labels in all).
lab-labels-missing = { $count } vials have no label yet.
lab-labels-open-pdf = Open the label sheet (PDF)
lab-labels-count = Labels per vial
lab-labels-reason = Why print again (a reprint needs a reason)
lab-labels-reason-placeholder = printer jammed; labels smudged
lab-labels-issue = Record the label issue
lab-labels-issue-line = { $when }: { $who } issued { $count } label(s) for each of { $vials } vials.
lab-labels-reprint-line = Reprint: { $reason }.
lab-labels-refused = No labels were issued: { $why }
lab-labels-bad-count = the number of labels per vial could not be read; enter a whole number from 1 to 10.
lab-labels-issued = Recorded: { $count } label(s) for each of { $vials } vials, issued by { $who } at { $when }. Open the label sheet to print them.

## Storage set-up
lab-storage-title = Add storage
lab-storage-add = Add a tank, rack or box
lab-storage-add-here = Add a rack or box here
lab-storage-kind = What it is
lab-storage-kind-tank = A tank
lab-storage-kind-rack = A rack (in a tank)
lab-storage-kind-box = A box (in a rack or a tank)
lab-storage-parent = Inside
lab-storage-no-parent = nothing (a tank stands alone)
lab-storage-name = Name
lab-storage-name-placeholder = Box 3
lab-storage-grid = A box's grid: rows (1 to { $rows }, lettered A, B, …) and columns (1 to { $cols }); leave empty for a tank or rack
lab-storage-rows = Rows
lab-storage-cols = Columns
lab-storage-create = Add it
lab-storage-refused = Nothing was added: { $why }
lab-storage-bad-grid = the rows and columns could not be read; enter whole numbers.
lab-storage-created = Added { $path }.
