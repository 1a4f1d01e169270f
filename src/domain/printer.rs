//! The site's network label printers, as configuration names them:
//! `lab-zebra=10.0.0.5:9100,pharmacy=10.0.0.6` (a Zebra listens for raw
//! ZPL on TCP port 9100, the default). Parsed once at start, so a typo
//! stops the start with the entry named instead of failing at the bench.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::accounts::Role;

/// The port a network label printer takes raw print jobs on (JetDirect).
pub const DEFAULT_PORT: u16 = 9100;

/// One named printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printer {
    /// What people choose it by, and what the API's path names: lower-case
    /// letters, digits, `-` and `_`.
    pub name: String,
    /// An IP address or a host name (an IPv6 address without brackets).
    pub host: String,
    pub port: u16,
}

/// Why an entry of the printer list cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPrinterEntry {
    pub entry: String,
    pub reason: &'static str,
}

impl fmt::Display for BadPrinterEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "printer entry {:?}: {} (write NAME=HOST or NAME=HOST:PORT, e.g. lab-zebra=10.0.0.5:9100)",
            self.entry, self.reason
        )
    }
}

impl std::error::Error for BadPrinterEntry {}

impl Printer {
    /// `NAME=HOST[:PORT]`; an IPv6 host is written in brackets
    /// (`lab=[fd00::5]:9100`).
    pub fn parse(entry: &str) -> Result<Printer, BadPrinterEntry> {
        let bad = |reason| BadPrinterEntry {
            entry: entry.to_owned(),
            reason,
        };
        let (name, address) = entry
            .split_once('=')
            .ok_or_else(|| bad("no '=' between the name and the address"))?;
        let name = name.trim();
        let address = address.trim();
        if name.is_empty() {
            return Err(bad("the name is empty"));
        }
        if name.len() > 40 {
            return Err(bad("the name is longer than 40 characters"));
        }
        // The name is a path segment of the API and a word on a menu.
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(bad(
                "a name is lower-case letters, digits, '-' and '_' only",
            ));
        }
        let (host, port) = split_host_port(address).map_err(bad)?;
        if host.is_empty() {
            return Err(bad("the address is empty"));
        }
        if host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '@' | '=' | ','))
        {
            return Err(bad("the host is not an address or a host name"));
        }
        Ok(Printer {
            name: name.to_owned(),
            host: host.to_owned(),
            port,
        })
    }

    /// A comma-separated list; blank entries (a trailing comma) are
    /// skipped, a name given twice is refused.
    pub fn parse_list(list: &str) -> Result<Vec<Printer>, BadPrinterEntry> {
        let mut printers: Vec<Printer> = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let printer = Printer::parse(entry)?;
            if printers.iter().any(|p| p.name == printer.name) {
                return Err(BadPrinterEntry {
                    entry: entry.to_owned(),
                    reason: "this name is given to another printer already",
                });
            }
            printers.push(printer);
        }
        Ok(printers)
    }

    /// `10.0.0.5:9100`, `[fd00::5]:9100`: what to connect to, and what a
    /// person checks the printer's own settings against.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// What a print job prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrintKind {
    /// One vial's label (`id`: the vial), recorded as issued.
    Vial,
    /// A label for every vial of the lot still in use (`id`: the lot),
    /// recorded as issued for each.
    LotSheet,
    /// The lot's box label (`id`: the lot), recorded as issued.
    Lot,
    /// A dose bag's label (`id`: the dose), recorded as issued.
    Dose,
    /// A patient's wristband (`id`: the patient), recorded as issued.
    Wristband,
    /// A donation's DIN label (`id`: the donation), recorded as issued.
    Donation,
    /// A storage box's label (`id`: the box), recorded as issued.
    StorageBox,
}

impl PrintKind {
    pub const ALL: [PrintKind; 7] = [
        PrintKind::Vial,
        PrintKind::LotSheet,
        PrintKind::Lot,
        PrintKind::Dose,
        PrintKind::Wristband,
        PrintKind::Donation,
        PrintKind::StorageBox,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PrintKind::Vial => "vial",
            PrintKind::LotSheet => "lot_sheet",
            PrintKind::Lot => "lot",
            PrintKind::Dose => "dose",
            PrintKind::Wristband => "wristband",
            PrintKind::Donation => "donation",
            PrintKind::StorageBox => "storage_box",
        }
    }

    pub fn parse(kind: &str) -> Option<PrintKind> {
        PrintKind::ALL.into_iter().find(|k| k.as_str() == kind)
    }

    /// Who may print it. Every label printed is recorded as issued (label
    /// reconciliation: `services::labels`), so a reprint of any needs a
    /// reason. Product labels on vials and the cord by the lab
    /// (as `POST /vials/{id}/label-issues` is; the lab receives the
    /// cords); a box label, a dose bag's and a wristband by anyone who may
    /// download it to print (the label routes). Recording them changed
    /// nobody's right to print them.
    pub fn printed_by(self) -> &'static [Role] {
        match self {
            PrintKind::Vial | PrintKind::LotSheet | PrintKind::Donation | PrintKind::StorageBox => {
                &[Role::Lab]
            }
            PrintKind::Lot | PrintKind::Dose | PrintKind::Wristband => {
                &[Role::Lab, Role::Pharmacist, Role::Quality, Role::Clinician]
            }
        }
    }
}

fn split_host_port(address: &str) -> Result<(&str, u16), &'static str> {
    let (host, port) = if let Some(rest) = address.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or("an IPv6 address opened with '[' is not closed with ']'")?;
        match after {
            "" => (host, None),
            _ => (
                host,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or("after ']' only ':PORT' may follow")?,
                ),
            ),
        }
    } else {
        match address.split_once(':') {
            Some((host, port)) if !port.contains(':') => (host, Some(port)),
            Some(_) => return Err("write an IPv6 address in brackets: [fd00::5]:9100"),
            None => (address, None),
        }
    };
    let port = match port {
        None => DEFAULT_PORT,
        Some(port) => match port.parse::<u16>() {
            Ok(0) | Err(_) => return Err("the port is not a number from 1 to 65535"),
            Ok(port) => port,
        },
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printer(name: &str, host: &str, port: u16) -> Printer {
        Printer {
            name: name.into(),
            host: host.into(),
            port,
        }
    }

    #[test]
    fn a_list_of_named_printers_with_the_port_defaulting_to_9100() {
        assert_eq!(
            Printer::parse_list(
                "lab-zebra=10.0.0.5:9100, pharmacy=10.0.0.6 ,ward_3=zebra.ward3.local:6101,"
            )
            .unwrap(),
            vec![
                printer("lab-zebra", "10.0.0.5", 9100),
                printer("pharmacy", "10.0.0.6", 9100),
                printer("ward_3", "zebra.ward3.local", 6101),
            ]
        );
        assert_eq!(Printer::parse_list("").unwrap(), vec![]);
        assert_eq!(Printer::parse_list("  ").unwrap(), vec![]);
    }

    #[test]
    fn ipv6_addresses_are_written_in_brackets() {
        let p = Printer::parse("lab=[fd00::5]:9101").unwrap();
        assert_eq!(p, printer("lab", "fd00::5", 9101));
        assert_eq!(p.address(), "[fd00::5]:9101");
        assert_eq!(Printer::parse("lab=[fd00::5]").unwrap().port, 9100);
        assert!(
            Printer::parse("lab=fd00::5")
                .unwrap_err()
                .reason
                .contains("brackets")
        );
        assert!(Printer::parse("lab=[fd00::5").is_err());
        assert!(Printer::parse("lab=[fd00::5]9100").is_err());
    }

    #[test]
    fn a_malformed_entry_is_named_with_what_is_wrong() {
        for (entry, reason) in [
            ("lab-zebra", "no '='"),
            ("=10.0.0.5", "name is empty"),
            ("lab-zebra=", "address is empty"),
            ("lab-zebra=:9100", "address is empty"),
            ("Lab Zebra=10.0.0.5", "lower-case"),
            ("lab/zebra=10.0.0.5", "lower-case"),
            ("lab=10.0.0.5:0", "port"),
            ("lab=10.0.0.5:70000", "port"),
            ("lab=10.0.0.5:zebra", "port"),
            ("lab=10.0.0 .5", "host"),
            ("lab=user@10.0.0.5", "host"),
        ] {
            let error = Printer::parse(entry).unwrap_err();
            assert!(error.reason.contains(reason), "{entry}: {error}");
            let said = error.to_string();
            assert!(said.contains(entry) && said.contains("NAME=HOST"), "{said}");
        }
        let long = format!("{}=10.0.0.5", "a".repeat(41));
        assert!(Printer::parse(&long).is_err());
    }

    #[test]
    fn product_labels_are_the_labs_and_the_others_any_staffs() {
        for kind in PrintKind::ALL {
            assert_eq!(PrintKind::parse(kind.as_str()), Some(kind));
            assert!(kind.printed_by().contains(&Role::Lab));
            assert!(!kind.printed_by().contains(&Role::Admin));
        }
        assert_eq!(PrintKind::Vial.printed_by(), &[Role::Lab]);
        assert!(PrintKind::Lot.printed_by().contains(&Role::Clinician));
        assert!(PrintKind::Wristband.printed_by().contains(&Role::Clinician));
        assert_eq!(PrintKind::LotSheet.printed_by(), &[Role::Lab]);
        assert_eq!(PrintKind::Donation.printed_by(), &[Role::Lab]);
        assert_eq!(PrintKind::parse("donation"), Some(PrintKind::Donation));
        assert!(PrintKind::Dose.printed_by().contains(&Role::Pharmacist));
        assert_eq!(PrintKind::parse("sheet"), None);
    }

    #[test]
    fn a_name_is_given_once() {
        let error = Printer::parse_list("lab=10.0.0.5,lab=10.0.0.6").unwrap_err();
        assert_eq!(error.entry, "lab=10.0.0.6");
        assert!(error.reason.contains("another printer"));
        // the first malformed entry stops the list
        assert_eq!(
            Printer::parse_list("lab=10.0.0.5,pharmacy")
                .unwrap_err()
                .entry,
            "pharmacy"
        );
    }
}
