//! The buttons a scan station shows: what the person holding a record may
//! do with it now. The lifecycle decides what is possible; the role
//! decides whose job it is.

use crate::domain::accounts::Role;
use crate::domain::lifecycle::{LotStatus, VialStatus};

/// What the person holding a vial may do with it now, given their role: the
/// buttons a scan station shows. The lifecycle decides what is possible;
/// the role decides whose job it is.
pub fn vial_actions(
    role: Role,
    status: VialStatus,
    in_storage: bool,
    lot: LotStatus,
    lot_expired: bool,
) -> Vec<&'static str> {
    use crate::domain::lifecycle::{VialAction, vial_transition};
    let can = |action| vial_transition(status, action).is_ok();
    let mut actions = Vec::new();
    match role {
        Role::Lab => {
            if can(VialAction::Store) {
                actions.push(if in_storage { "move" } else { "store" });
            }
            // a vial in a shipment is taken out of it, or found missing
            // at receipt: not discarded from the scan station
            if can(VialAction::Discard) && status != VialStatus::InTransit {
                actions.push("discard");
            }
            if !matches!(status, VialStatus::Infused | VialStatus::Discarded) {
                actions.push("print_label");
            }
        }
        Role::Pharmacist => {
            if can(VialAction::Reserve) && lot == LotStatus::Released && !lot_expired {
                actions.push("reserve");
            }
        }
        Role::Quality | Role::Clinician => {}
        Role::Admin => return actions,
    }
    actions.extend(["history", "trace"]);
    actions
}

/// What may be done with a lot now, by role.
pub fn lot_actions(role: Role, status: LotStatus, expired: bool) -> Vec<&'static str> {
    use crate::domain::lifecycle::{LotAction, lot_transition};
    let can = |action| lot_transition(status, action).is_ok();
    let mut actions = Vec::new();
    match role {
        Role::Lab => {
            if status != LotStatus::Rejected {
                actions.push("record_qc");
            }
            if can(LotAction::Freeze) {
                actions.push("freeze");
            }
            if status != LotStatus::InProcess {
                actions.push("print_labels");
            }
        }
        Role::Quality => {
            if can(LotAction::Release) && !expired {
                actions.push("release");
            }
            if can(LotAction::Reject) {
                actions.push("reject");
            }
            if can(LotAction::Recall) {
                actions.push("recall");
            }
        }
        Role::Pharmacist => {
            if status == LotStatus::Released && !expired {
                actions.push("order_dose");
            }
        }
        Role::Clinician => {}
        Role::Admin => return actions,
    }
    actions.extend(["history", "trace"]);
    actions
}

/// What may be done with a dose order now, by role.
pub fn dose_actions(role: Role, status: crate::domain::lifecycle::DoseStatus) -> Vec<&'static str> {
    use crate::domain::lifecycle::{DoseAction, dose_transition};
    let can = |action| dose_transition(status, action).is_ok();
    let mut actions = Vec::new();
    match role {
        Role::Pharmacist => {
            for (action, name) in [
                (DoseAction::Thaw, "thaw"),
                (DoseAction::Verify, "verify"),
                (DoseAction::ReplaceVial, "replace_vial"),
                (DoseAction::Cancel, "cancel"),
            ] {
                if can(action) {
                    actions.push(name);
                }
            }
            actions.push("print_label");
        }
        Role::Clinician => {
            if can(DoseAction::StartInfusion) {
                actions.push("start_infusion");
            }
            if can(DoseAction::CompleteInfusion) {
                actions.push("complete_infusion");
            }
        }
        Role::Lab | Role::Quality => {}
        Role::Admin => return actions,
    }
    actions.extend(["history", "trace"]);
    actions
}

/// What may be done for a patient now, by role: `open_dose` is the status
/// of the dose in progress, if any; `more_allowed` whether the protocol
/// allows another infusion.
pub fn patient_actions(
    role: Role,
    open_dose: Option<crate::domain::lifecycle::DoseStatus>,
    more_allowed: bool,
) -> Vec<&'static str> {
    use crate::domain::lifecycle::DoseStatus;
    let mut actions = Vec::new();
    match role {
        Role::Clinician => {
            actions.push("record_weight");
            match open_dose {
                Some(DoseStatus::Verified) => actions.push("start_infusion"),
                Some(DoseStatus::Infusing) => actions.push("complete_infusion"),
                _ => {}
            }
            actions.push("print_wristband");
        }
        Role::Pharmacist => {
            actions.push("calculate_dose");
            if open_dose.is_none() && more_allowed {
                actions.push("order_dose");
            }
        }
        Role::Lab | Role::Quality => {}
        Role::Admin => return actions,
    }
    actions.extend(["history", "trace"]);
    actions
}

/// What the person holding a storage box may do with it: the lab stores a
/// vial in it while the box has a free position; everyone else looks.
pub fn box_actions(role: Role, has_room: bool) -> Vec<&'static str> {
    let mut actions = vec!["open"];
    if role == Role::Lab {
        if has_room {
            actions.push("store_here");
        }
        actions.push("print_label");
    }
    actions
}

/// What the person holding a shipment's packing list (or its shipper) may
/// do with the shipment now: the sending site's lab packs, seals or
/// cancels it while packing; the lab or pharmacy hands it to the courier
/// (`pick_up`) at the sending end and records its `arrive`al, scans its
/// vials in (`scan_in`) and signs the receipt (`receive`) at the receiving
/// end. Anyone working at either end may open it and print its packing
/// list; someone of a third site only looks at what the scan says (the
/// shipment's page and papers are its two sites').
pub fn shipment_actions(
    role: Role,
    status: crate::domain::shipment::ShipmentStatus,
    sending: bool,
    receiving: bool,
) -> Vec<&'static str> {
    use crate::domain::shipment::{ShipmentAction as A, shipment_transition};
    let can = |action| shipment_transition(status, action).is_ok();
    let mut actions = Vec::new();
    if !(sending || receiving) || role == Role::Admin {
        return actions;
    }
    let handler = matches!(role, Role::Lab | Role::Pharmacist);
    if sending && role == Role::Lab {
        for (action, name) in [(A::Pack, "pack"), (A::Seal, "seal"), (A::Cancel, "cancel")] {
            if can(action) {
                actions.push(name);
            }
        }
    }
    if sending && handler && can(A::PickUp) {
        actions.push("pick_up");
    }
    if handler && can(A::Transfer) {
        actions.push("transfer");
    }
    if receiving && handler {
        for (action, name) in [
            (A::Arrive, "arrive"),
            (A::ScanIn, "scan_in"),
            (A::Receive, "receive"),
        ] {
            if can(action) {
                actions.push(name);
            }
        }
    }
    actions.extend(["open", "packing_list"]);
    actions
}

/// What the person holding a shipping container may do: what its current
/// (unreceived) shipment allows them (`shipment_actions`), or, when it is
/// on none, start a shipment in it (the lab of the site it is at); the lab
/// there prints its label either way.
pub fn shipper_actions(
    role: Role,
    at_its_site: bool,
    shipment: Option<(crate::domain::shipment::ShipmentStatus, bool, bool)>,
) -> Vec<&'static str> {
    let mut actions = match shipment {
        Some((status, sending, receiving)) => shipment_actions(role, status, sending, receiving),
        None if at_its_site && role == Role::Lab => vec!["create_shipment"],
        None => Vec::new(),
    };
    if at_its_site && role == Role::Lab {
        actions.push("print_label");
    }
    actions
}

/// The actions of a record held at another site than the person's: looking
/// (history, trace, opening) only. A vial of another site can be scanned
/// to see where it is, never moved, reserved or given there.
pub fn elsewhere(actions: Vec<&'static str>) -> Vec<&'static str> {
    actions
        .into_iter()
        .filter(|a| matches!(*a, "history" | "trace" | "open"))
        .collect()
}

#[cfg(test)]
mod elsewhere_tests {
    use super::*;
    use crate::domain::lifecycle::VialStatus;

    #[test]
    fn a_record_of_another_site_is_only_looked_at() {
        let here = vial_actions(
            Role::Lab,
            VialStatus::Available,
            true,
            LotStatus::Released,
            false,
        );
        assert!(here.contains(&"move") && here.contains(&"discard"));
        assert_eq!(elsewhere(here), ["history", "trace"]);
        assert_eq!(elsewhere(box_actions(Role::Lab, true)), ["open"]);
    }
}
