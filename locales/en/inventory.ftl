## The home pages, the scan station, the lot, vial and trace pages, and accounts.
