## Printing labels on the site's network label printers (src/web/printing.rs)
print-heading-vial = Print this vial's label
print-heading-lot-sheet = Print the label of every vial of this lot
print-heading-lot = Print the lot's box label
print-heading-dose = Print the dose bag's label
print-heading-wristband = Print the patient's wristband
print-heading-donation = Print the donation's DIN label
print-printer = Printer
print-copies = Copies of each label
print-reason = Reason (needed when labels were printed before)
print-button = Print
print-sent-recorded = Sent { $labels ->
    [one] one label
   *[other] { $labels } labels
 } to { $printer }, recorded as issued.
print-unreachable = The printer { $printer } did not answer at { $address }: is it switched on and connected? Nothing was recorded.
print-unknown-printer = There is no printer named “{ $printer }”; choose one from the list. Nothing was printed.
print-reprint-needs-reason = Labels were printed for this before: say why they are printed again. Nothing was printed.
print-copies-range = Print from 1 to { $max } copies of each label at a time. Nothing was printed.
print-not-for-role = Your role does not print this label.
print-unreadable-title = The print request could not be read
print-unreadable = It does not say which label to print. Go back to the page of the vial, lot, dose, patient or donation and use its Print button.
# how many of a record's label were issued, beside its print form
print-issued-lot = Box labels issued: { $labels } (last { $when } by { $user })
print-issued-dose = Bag labels issued: { $labels } (last { $when } by { $user })
print-issued-wristband = Wristbands issued: { $labels } (last { $when } by { $user })
print-issued-none-lot = No box label has been issued yet.
print-issued-none-dose = No bag label has been issued yet.
print-issued-none-wristband = No wristband has been issued yet.
# the ledger's words for each issue (the record's history)
action-lot-box-label-issued = Box label issued
action-dose-label-issued = Bag label issued
action-patient-wristband-issued = Wristband issued
# a label's files to download beside it: one page the label's size as PDF
label-files = Label
label-pdf = Label (PDF)
label-pdf-box = Box label (PDF)
label-pdf-bag = Bag label (PDF)
label-pdf-wristband = Wristband label (PDF)
print-heading-storage-box = Print this box's label
print-issued-storage-box = Box labels issued: { $labels } (last { $when } by { $user })
print-issued-none-storage-box = No label has been issued for this box yet.
