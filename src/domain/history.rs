//! A record's history as people read it: each custody event's action in
//! words, whether it corrects something recorded before (a correction is
//! a new event, never an edit), and the reasons it was given.

use serde_json::Value;

/// What an event did (the catalogue key of its words, `action-…`), and
/// whether it is a correction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub key: String,
    pub correction: bool,
}

/// Every action this build records, and whether it corrects something
/// recorded before.
pub const ACTIONS: &[(&str, bool)] = &[
    ("donor.registered", false),
    ("donor.screening_recorded", false),
    ("donor.screening_invalidated", true),
    ("donor.eligibility_decided", false),
    ("donor.found_ineligible", false),
    ("donation.received", false),
    ("donation.label_issued", false),
    ("lot.created", false),
    ("lot.qc_recorded", false),
    ("lot.qc_investigated", false),
    ("lot.frozen", false),
    ("lot.labels_issued", false),
    ("lot.box_label_issued", false),
    ("lot.released", false),
    ("lot.rejected", false),
    ("lot.recalled", false),
    ("vial.frozen", false),
    ("vial.labels_issued", false),
    ("vial.released", false),
    ("vial.stored", false),
    ("vial.moved", false),
    ("vial.reserved", false),
    ("vial.unreserved", false),
    ("vial.thawed", false),
    ("vial.infused", false),
    ("vial.discarded", false),
    ("vial.recalled", false),
    ("vial.packed", false),
    ("vial.unpacked", false),
    ("vial.received", false),
    ("vial.arrived", false),
    ("vial.lost", false),
    ("shipment.created", false),
    ("shipment.sealed", false),
    ("shipment.cancelled", false),
    ("shipment.picked_up", false),
    ("shipment.handed_over", false),
    ("shipment.arrived", false),
    ("shipment.discrepancy_noted", false),
    ("shipment.received", false),
    ("container.created", false),
    ("container.labels_issued", false),
    ("storage.box_label_issued", false),
    ("site.created", false),
    ("site.configured", false),
    ("user.site_granted", false),
    ("user.site_revoked", false),
    ("demo.loaded", false),
    ("import.uploaded", false),
    ("import.accepted", false),
    ("import.resumed", false),
    ("import.finished", false),
    ("import.stopped", false),
    ("vial.held", false),
    ("vial.hold_released", false),
    ("hold.opened", false),
    ("hold.extended", false),
    ("hold.released", false),
    ("hold.discarded", false),
    ("donor.consent_withdrawn", false),
    ("lot.withdrawal_held", false),
    ("lot.withdrawal_released", false),
    ("lot.withdrawal_discarded", false),
    ("patient.withdrawn", false),
    ("temperature.recorded", false),
    ("temperature.limits_set", false),
    ("patient.enrolled", false),
    ("patient.coi_assigned", false),
    ("patient.weight_recorded", false),
    ("patient.weight_voided", true),
    ("patient.assessed", false),
    ("patient.adverse_event_recorded", false),
    ("patient.adverse_event_corrected", true),
    ("donor.corrected", true),
    ("donation.corrected", true),
    ("lot.corrected", true),
    ("lot.qc_corrected", true),
    ("vial.corrected", true),
    ("patient.corrected", true),
    ("patient.assessment_corrected", true),
    ("patient.wristband_issued", false),
    ("dose.ordered", false),
    ("dose.label_issued", false),
    ("dose.thawed", false),
    ("dose.count_failed", false),
    ("dose.count_corrected", true),
    ("dose.vial_replaced", true),
    ("dose.verified", false),
    ("dose.cancelled", false),
    ("dose.identity_mismatch", false),
    ("dose.infusion_started", false),
    ("infusion.started", false),
    ("infusion.completed", false),
    ("storage.created", false),
    ("protocol.seeded", false),
    ("protocol.amended", false),
    ("user.created", false),
    ("user.locked", false),
    ("user.unlocked", false),
    ("user.deactivated", false),
    ("user.reactivated", false),
    ("user.password_changed", false),
    ("user.password_reset", false),
];

/// The catalogue key of an action's words: `vial.moved` → `action-vial-moved`.
pub fn action_key(action: &str) -> String {
    format!("action-{}", action.replace(['.', '_'], "-"))
}

/// The action of a custody event, described. An action this build does
/// not know (written by a newer one) is `None`: shown as it is stored.
pub fn describe(action: &str) -> Option<Described> {
    ACTIONS
        .iter()
        .find(|(known, _)| *known == action)
        .map(|(known, correction)| Described {
            key: action_key(known),
            correction: *correction,
        })
}

/// Every reason an event's details give, in the order people gave them:
/// a cancellation's, a recall's, a correction's, a late entry's, a
/// confirmed count's or volume's.
pub fn reasons(details: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut take = |value: Option<&Value>| {
        if let Some(text) = value.and_then(Value::as_str).map(str::trim)
            && !text.is_empty()
            && !found.iter().any(|f| f == text)
        {
            found.push(text.to_owned());
        }
    };
    for key in ["reason", "correction_reason", "confirm_reason"] {
        take(details.get(key));
    }
    for key in ["late_entry", "volume_confirmed"] {
        take(details.get(key).and_then(|v| v.get("reason")));
    }
    if let Some(vials) = details.get("vials").and_then(Value::as_array) {
        for vial in vials {
            take(vial.get("confirm_reason"));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn corrections_are_named_as_corrections() {
        for action in [
            "dose.count_corrected",
            "patient.weight_voided",
            "donor.screening_invalidated",
            "dose.vial_replaced",
        ] {
            assert!(describe(action).unwrap().correction, "{action}");
        }
        assert!(!describe("vial.moved").unwrap().correction);
        assert_eq!(describe("vial.moved").unwrap().key, "action-vial-moved");
        assert_eq!(describe("vial.teleported"), None);
    }

    #[test]
    fn reasons_are_found_wherever_the_details_keep_them() {
        let details = json!({
            "reason": "ordered for the wrong day",
            "late_entry": { "reason": "network down at the bedside" },
            "vials": [{ "confirm_reason": "recount agreed" }, { "confirm_reason": null }],
            "correction_reason": "  ",
        });
        assert_eq!(
            reasons(&details),
            [
                "ordered for the wrong day",
                "network down at the bedside",
                "recount agreed"
            ]
        );
        assert!(reasons(&json!({})).is_empty());
        // the same reason twice is said once
        assert_eq!(
            reasons(&json!({"reason": "x", "correction_reason": "x"})),
            ["x"]
        );
    }
}
