use super::*;
use crate::domain::accounts::Role;
use crate::domain::lifecycle::{LotStatus, VialStatus};
use proptest::prelude::*;

const VIAL: &str = "A999926000123-L01-V007";

fn din_with_check() -> String {
    Din::parse("A999926000123").unwrap().display()
}

#[test]
fn payloads_round_trip_and_stay_alphanumeric() {
    for kind in ScanKind::ALL {
        let encoded = payload(*kind, "PV-007");
        assert_eq!(
            parse(&encoded),
            Ok(Scanned::Payload {
                kind: *kind,
                code: "PV-007".into()
            })
        );
    }
    let vial = payload(ScanKind::Vial, VIAL);
    assert_eq!(vial, "CT1:V:A999926000123-L01-V007");
    assert_eq!(vial.len(), 28);
    const QR_ALPHANUMERIC: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    assert!(vial.chars().all(|c| QR_ALPHANUMERIC.contains(c)));
}

#[test]
fn what_scanners_and_people_add_is_forgiven() {
    let expected = Ok(Scanned::Payload {
        kind: ScanKind::Vial,
        code: VIAL.into(),
    });
    assert_eq!(parse("CT1:V:A999926000123-L01-V007\r\n"), expected);
    assert_eq!(parse("  ct1:v:a999926000123-l01-v007"), expected);
    assert_eq!(parse(VIAL), Ok(Scanned::VialCode(VIAL.into())));
    assert_eq!(
        parse("a999926000123-l01"),
        Ok(Scanned::LotCode("A999926000123-L01".into()))
    );
    let din = Din::parse("A999926000123").unwrap();
    assert_eq!(parse(&din_with_check()), Ok(Scanned::Din(din.clone())));
    assert_eq!(
        parse(&din_with_check().replace(' ', "")),
        Ok(Scanned::Din(din))
    );
}

#[test]
fn each_refusal_says_what_is_wrong() {
    assert_eq!(parse(""), Err(ScanError::Empty));
    assert_eq!(parse(" \n"), Err(ScanError::Empty));
    assert_eq!(parse(&"A".repeat(129)), Err(ScanError::TooLong));
    assert_eq!(
        parse("CT2:V:X"),
        Err(ScanError::UnsupportedVersion("CT2".into()))
    );
    assert_eq!(parse("CT1:X:ABC"), Err(ScanError::UnknownKind("X".into())));
    assert_eq!(parse("CT1:V:"), Err(ScanError::BadCode));
    assert_eq!(parse("CT1:V"), Err(ScanError::BadCode));
    assert_eq!(parse("CT1:V:A B"), Err(ScanError::BadCode));
    assert_eq!(parse("CT1:V:1' OR '1'='1"), Err(ScanError::BadCode));
    assert_eq!(
        parse("'; DROP TABLE vials; --"),
        Err(ScanError::NotRecognised)
    );
    assert_eq!(parse("A9999 26 000123"), Err(ScanError::DinWithoutCheck));
    let good = din_with_check();
    let given = if good.ends_with('A') { 'B' } else { 'A' };
    let wrong = format!("{}{given}", &good[..good.len() - 1]);
    assert!(matches!(
        parse(&wrong),
        Err(ScanError::CheckCharacterMismatch { given: g, .. }) if g == given
    ));
    assert_eq!(
        parse("A999926000123-L01-V07"),
        Err(ScanError::NotRecognised)
    );
}

#[test]
fn a_lab_user_moves_and_a_pharmacist_reserves_a_released_vial() {
    let lab = vial_actions(
        Role::Lab,
        VialStatus::Available,
        true,
        LotStatus::Released,
        false,
    );
    assert_eq!(lab, ["move", "discard", "print_label", "history", "trace"]);
    let pharmacist = vial_actions(
        Role::Pharmacist,
        VialStatus::Available,
        true,
        LotStatus::Released,
        false,
    );
    assert_eq!(pharmacist, ["reserve", "history", "trace"]);
    // not from an expired or recalled lot
    for (lot, expired) in [(LotStatus::Released, true), (LotStatus::Recalled, false)] {
        let actions = vial_actions(Role::Pharmacist, VialStatus::Available, true, lot, expired);
        assert!(!actions.contains(&"reserve"));
    }
    let unstored = vial_actions(
        Role::Lab,
        VialStatus::Quarantine,
        false,
        LotStatus::Quarantine,
        false,
    );
    assert_eq!(unstored[0], "store");
    let gone = vial_actions(
        Role::Lab,
        VialStatus::Discarded,
        false,
        LotStatus::Released,
        false,
    );
    assert_eq!(gone, ["history", "trace"]);
    assert!(
        vial_actions(
            Role::Admin,
            VialStatus::Available,
            true,
            LotStatus::Released,
            false
        )
        .is_empty()
    );
}

#[test]
fn lot_actions_follow_the_lot_life_and_the_role() {
    assert_eq!(
        lot_actions(Role::Quality, LotStatus::Quarantine, false),
        ["release", "reject", "history", "trace"]
    );
    assert_eq!(
        lot_actions(Role::Quality, LotStatus::Quarantine, true),
        ["reject", "history", "trace"]
    );
    assert_eq!(
        lot_actions(Role::Quality, LotStatus::Released, false),
        ["recall", "history", "trace"]
    );
    assert_eq!(
        lot_actions(Role::Lab, LotStatus::InProcess, false),
        ["record_qc", "freeze", "history", "trace"]
    );
}

#[test]
fn dose_and_patient_actions_follow_the_role() {
    use crate::domain::lifecycle::DoseStatus;
    assert_eq!(
        dose_actions(Role::Pharmacist, DoseStatus::Reserved),
        [
            "thaw",
            "replace_vial",
            "cancel",
            "print_label",
            "history",
            "trace"
        ]
    );
    assert_eq!(
        dose_actions(Role::Clinician, DoseStatus::Verified),
        ["start_infusion", "history", "trace"]
    );
    assert_eq!(
        dose_actions(Role::Lab, DoseStatus::Verified),
        ["history", "trace"]
    );
    assert_eq!(
        patient_actions(Role::Pharmacist, None, true),
        ["calculate_dose", "order_dose", "history", "trace"]
    );
    assert_eq!(
        patient_actions(Role::Pharmacist, None, false),
        ["calculate_dose", "history", "trace"]
    );
    assert!(
        patient_actions(Role::Clinician, Some(DoseStatus::Verified), true)
            .contains(&"start_infusion")
    );
}

#[test]
fn a_shipper_and_a_shipment_have_their_own_letters() {
    assert_eq!(payload(ScanKind::Shipper, "DS-07"), "CT1:S:DS-07");
    assert_eq!(
        payload(ScanKind::Shipment, "SH-2026-0012"),
        "CT1:H:SH-2026-0012"
    );
    assert_eq!(
        parse("ct1:s:ds-07\r\n"),
        Ok(Scanned::Payload {
            kind: ScanKind::Shipper,
            code: "DS-07".into()
        })
    );
    assert_eq!(
        parse("CT1:H:SH-2026-0012"),
        Ok(Scanned::Payload {
            kind: ScanKind::Shipment,
            code: "SH-2026-0012".into()
        })
    );
    // each letter names one kind
    let letters: std::collections::HashSet<char> =
        ScanKind::ALL.iter().map(|k| k.letter()).collect();
    assert_eq!(letters.len(), ScanKind::ALL.len());
    assert_eq!(parse("CT1:S:"), Err(ScanError::BadCode));
}

#[test]
fn shipment_actions_follow_its_status_the_role_and_the_end() {
    use crate::domain::shipment::ShipmentStatus as S;
    // the sending lab packs, seals or cancels; the receiving end only looks
    assert_eq!(
        shipment_actions(Role::Lab, S::Packing, true, false),
        ["pack", "seal", "cancel", "open", "packing_list"]
    );
    assert_eq!(
        shipment_actions(Role::Lab, S::Packing, false, true),
        ["open", "packing_list"]
    );
    assert_eq!(
        shipment_actions(Role::Pharmacist, S::Packing, true, false),
        ["open", "packing_list"]
    );
    assert_eq!(
        shipment_actions(Role::Lab, S::Sealed, true, false),
        ["pick_up", "open", "packing_list"]
    );
    assert_eq!(
        shipment_actions(Role::Pharmacist, S::InTransit, false, true),
        ["transfer", "arrive", "open", "packing_list"]
    );
    assert_eq!(
        shipment_actions(Role::Lab, S::Arrived, false, true),
        ["scan_in", "receive", "open", "packing_list"]
    );
    assert_eq!(
        shipment_actions(Role::Lab, S::Arrived, true, false),
        ["open", "packing_list"]
    );
    assert_eq!(
        shipment_actions(Role::Quality, S::Arrived, false, true),
        ["open", "packing_list"]
    );
    // a third site, or the administrator: nothing
    assert!(shipment_actions(Role::Lab, S::Packing, false, false).is_empty());
    assert!(shipment_actions(Role::Admin, S::Packing, true, true).is_empty());
    assert_eq!(
        shipment_actions(Role::Lab, S::Received, false, true),
        ["open", "packing_list"]
    );
    // a shipper: its shipment's actions, or a new shipment in it
    assert_eq!(
        shipper_actions(Role::Lab, true, None),
        ["create_shipment", "print_label"]
    );
    assert_eq!(
        shipper_actions(Role::Lab, true, Some((S::Sealed, true, false))),
        ["pick_up", "open", "packing_list", "print_label"]
    );
    assert_eq!(
        shipper_actions(Role::Lab, false, Some((S::InTransit, false, true))),
        ["transfer", "arrive", "open", "packing_list"]
    );
    assert!(shipper_actions(Role::Lab, false, None).is_empty());
    assert!(shipper_actions(Role::Pharmacist, true, None).is_empty());
}

proptest! {
    #[test]
    fn parsing_any_string_never_panics(input in ".{0,200}") {
        let _ = parse(&input);
    }

    #[test]
    fn parsing_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn a_payload_of_any_valid_code_reads_back(
        code in "[A-Z0-9-]{1,40}",
        kind in proptest::sample::select(ScanKind::ALL.to_vec()),
    ) {
        prop_assert_eq!(parse(&payload(kind, &code)), Ok(Scanned::Payload { kind, code }));
    }
}
