//! Shipments: vials leaving one site in a shipping container (a dry
//! shipper with its own label) for another, and what a receipt found.
//!
//! A shipment is `packing` while the lab scans vials (or whole boxes) into
//! its container; each packed vial has left storage (`in_transit` from that
//! scan). The packer seals it under signature (`sealed`), a courier takes
//! it (`in_transit`), it arrives (`arrived`), and the receiving site scans
//! every vial into a box and signs the receipt (`received`), giving a
//! reason for every vial that did not come and every one that came
//! unlisted. A shipment still packing may be cancelled: its vials are
//! `available` again, out of storage until stored.

use chrono::{DateTime, Datelike, Utc};

use crate::domain::invalid::Invalid;
use crate::domain::lifecycle::{TransitionRefused, string_enum};

string_enum!(
    /// Where a shipment is.
    ShipmentStatus {
        Packing => "packing",
        Sealed => "sealed",
        InTransit => "in_transit",
        Arrived => "arrived",
        Received => "received",
        Cancelled => "cancelled",
    }
);

string_enum!(
    /// What can be done to a shipment.
    ShipmentAction {
        Pack => "pack",
        Unpack => "unpack",
        Seal => "seal",
        Cancel => "cancel",
        PickUp => "pick_up",
        Transfer => "transfer",
        Arrive => "arrive",
        ScanIn => "scan_in",
        Receive => "receive",
    }
);

string_enum!(
    /// Who took the container from whom: a courier's pick-up at the
    /// sending site, a hand-over between couriers on the way, the arrival
    /// at the receiving site.
    HandoverKind {
        PickUp => "pick_up",
        Transfer => "transfer",
        Arrival => "arrival",
    }
);

string_enum!(
    /// A scan at receipt of something not on the packing list:
    /// `unexpected`, a celltrail vial of another shipment or of no
    /// shipment; `extra`, a label celltrail does not know.
    DiscrepancyKind {
        Unexpected => "unexpected",
        Extra => "extra",
    }
);

impl HandoverKind {
    /// The shipment act a hand-over of this kind is.
    pub fn action(self) -> ShipmentAction {
        match self {
            HandoverKind::PickUp => ShipmentAction::PickUp,
            HandoverKind::Transfer => ShipmentAction::Transfer,
            HandoverKind::Arrival => ShipmentAction::Arrive,
        }
    }
}

/// The shipment's next status.
pub fn shipment_transition(
    from: ShipmentStatus,
    action: ShipmentAction,
) -> Result<ShipmentStatus, TransitionRefused> {
    use ShipmentAction as A;
    use ShipmentStatus as S;
    let to = match (from, action) {
        (S::Packing, A::Pack | A::Unpack) => S::Packing,
        (S::Packing, A::Seal) => S::Sealed,
        (S::Packing, A::Cancel) => S::Cancelled,
        (S::Sealed, A::PickUp) => S::InTransit,
        (S::InTransit, A::Transfer) => S::InTransit,
        (S::InTransit, A::Arrive) => S::Arrived,
        (S::Arrived, A::ScanIn) => S::Arrived,
        (S::Arrived, A::Receive) => S::Received,
        _ => {
            return Err(TransitionRefused {
                kind: "shipment",
                from: from.as_str(),
                action: action.as_str(),
            });
        }
    };
    Ok(to)
}

/// The acts a shipment in this status allows.
pub fn shipment_actions(from: ShipmentStatus) -> Vec<ShipmentAction> {
    ShipmentAction::ALL
        .iter()
        .copied()
        .filter(|action| shipment_transition(from, *action).is_ok())
        .collect()
}

/// A shipment's code: `SH-<year>-<sequence of 4 or more digits>`, the year
/// of its creation (UTC) and its number in that year.
pub fn shipment_code(created_at: DateTime<Utc>, sequence: i32) -> String {
    format!("SH-{}-{sequence:04}", created_at.year())
}

/// A shipping container's code as people write it on the shipper
/// (`DS-07`): 1 to 32 capitals, digits and hyphens, upper-cased.
pub fn container_code(raw: &str) -> Result<String, Invalid> {
    let code = raw.trim().to_ascii_uppercase();
    if code.is_empty()
        || code.len() > 32
        || !code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        || code.starts_with('-')
    {
        return Err(Invalid::new(
            "code",
            "a container's code is 1 to 32 letters, digits and hyphens (DS-07)",
        ));
    }
    Ok(code)
}

/// The name of whoever took or brought the container (a courier and
/// their company): 1 to 200 characters on one line.
pub fn party(raw: &str) -> Result<String, Invalid> {
    let party = raw.trim();
    if party.is_empty() || party.chars().count() > 200 || party.chars().any(char::is_control) {
        return Err(Invalid::new(
            "party",
            "who took or brought the container (name and company), 1 to 200 characters",
        ));
    }
    Ok(party.to_owned())
}

/// Where a vial in a shipment is, as people read it:
/// `Shipper DS-07 · shipment SH-2026-0012`.
pub fn in_transit_location(container: &str, shipment: &str) -> String {
    format!("Shipper {container} · shipment {shipment}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_shipment_goes_forward_only() {
        use ShipmentAction as A;
        use ShipmentStatus as S;
        let mut status = S::Packing;
        for (action, expected) in [
            (A::Pack, S::Packing),
            (A::Unpack, S::Packing),
            (A::Seal, S::Sealed),
            (A::PickUp, S::InTransit),
            (A::Transfer, S::InTransit),
            (A::Arrive, S::Arrived),
            (A::ScanIn, S::Arrived),
            (A::Receive, S::Received),
        ] {
            status = shipment_transition(status, action).unwrap();
            assert_eq!(status, expected);
        }
        assert!(shipment_actions(S::Received).is_empty());
        assert!(shipment_actions(S::Cancelled).is_empty());
        // nothing is packed once sealed, nothing scanned in before arrival,
        // and a shipment on its way cannot be cancelled
        for (from, action) in [
            (S::Sealed, A::Pack),
            (S::Sealed, A::Cancel),
            (S::InTransit, A::Cancel),
            (S::InTransit, A::ScanIn),
            (S::InTransit, A::Receive),
            (S::Sealed, A::Arrive),
            (S::Packing, A::PickUp),
            (S::Arrived, A::Unpack),
        ] {
            assert!(
                shipment_transition(from, action).is_err(),
                "{from} {action}"
            );
        }
    }

    #[test]
    fn codes_and_names() {
        let at = Utc.with_ymd_and_hms(2026, 11, 27, 3, 0, 0).unwrap();
        assert_eq!(shipment_code(at, 12), "SH-2026-0012");
        assert_eq!(shipment_code(at, 12345), "SH-2026-12345");
        assert_eq!(container_code(" ds-07 ").unwrap(), "DS-07");
        for bad in ["", "-X", "DS 07", &"A".repeat(33), "DS_07"] {
            assert!(container_code(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            party(" Wang Li, SF Express ").unwrap(),
            "Wang Li, SF Express"
        );
        assert!(party(" ").is_err());
        assert!(party("a\nb").is_err());
        assert_eq!(
            in_transit_location("DS-07", "SH-2026-0012"),
            "Shipper DS-07 · shipment SH-2026-0012"
        );
    }
}
