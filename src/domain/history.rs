//! A record's history as people read it: each custody event's action in
//! words, whether it corrects something recorded before (a correction is
//! a new event, never an edit), and the reasons it was given.

use serde_json::Value;

/// What an event did, in words, and whether it is a correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Described {
    pub words: &'static str,
    pub correction: bool,
}

const fn act(words: &'static str) -> Described {
    Described {
        words,
        correction: false,
    }
}

const fn correction(words: &'static str) -> Described {
    Described {
        words,
        correction: true,
    }
}

/// The action of a custody event in words. An action this build does not
/// know (written by a newer one) is shown as it is stored.
pub fn describe(action: &str) -> Option<Described> {
    Some(match action {
        "donor.registered" => act("Registered with consent"),
        "donor.screening_recorded" => act("Screening result recorded"),
        "donor.screening_invalidated" => correction("Screening result invalidated"),
        "donor.eligibility_decided" => act("Eligibility decided"),
        "donor.found_ineligible" => act("Found ineligible"),
        "donation.received" => act("Donation received"),
        "lot.created" => act("Lot created"),
        "lot.qc_recorded" => act("QC result recorded"),
        "lot.qc_investigated" => act("QC failure investigated"),
        "lot.frozen" => act("Frozen into vials"),
        "lot.labels_issued" => act("Labels issued"),
        "lot.released" => act("Released"),
        "lot.rejected" => act("Rejected"),
        "lot.recalled" => act("Recalled"),
        "vial.frozen" => act("Frozen"),
        "vial.labels_issued" => act("Label issued"),
        "vial.released" => act("Released with its lot"),
        "vial.stored" => act("Stored"),
        "vial.moved" => act("Moved"),
        "vial.reserved" => act("Reserved for a dose"),
        "vial.unreserved" => act("Returned to stock"),
        "vial.thawed" => act("Thawed"),
        "vial.infused" => act("Infused"),
        "vial.discarded" => act("Discarded"),
        "vial.recalled" => act("Recalled with its lot"),
        "patient.enrolled" => act("Enrolled"),
        "patient.weight_recorded" => act("Weight recorded"),
        "patient.weight_voided" => correction("Weight voided"),
        "patient.assessed" => act("Assessed"),
        "dose.ordered" => act("Ordered, vials reserved"),
        "dose.thawed" => act("Thawed and counted"),
        "dose.count_failed" => act("Count failed"),
        "dose.count_corrected" => correction("Count corrected"),
        "dose.vial_replaced" => correction("Vial replaced"),
        "dose.verified" => act("Verified"),
        "dose.cancelled" => act("Cancelled"),
        "dose.identity_mismatch" => act("Identity mismatch at the bedside: nothing infused"),
        "dose.infusion_started" => act("Infusion started"),
        "infusion.started" => act("Infusion started"),
        "infusion.completed" => act("Infusion completed"),
        "storage.created" => act("Storage unit set up"),
        "protocol.seeded" => act("Protocol recorded"),
        "protocol.amended" => act("Protocol amended"),
        "user.created" => act("Account created"),
        "user.locked" => act("Account locked"),
        "user.unlocked" => act("Account unlocked"),
        "user.deactivated" => act("Account deactivated"),
        "user.reactivated" => act("Account reactivated"),
        "user.password_changed" => act("Password changed"),
        "user.password_reset" => act("Password reset"),
        _ => return None,
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
