//! Withdrawals (issue 16), on both databases: a donor's consent withdrawn
//! holds every lot and vial of the donor not yet infused (quarantine,
//! available, reserved in a dose; an infused vial untouched), which then
//! cannot be ordered, thawed, shipped or released; quality decides per lot
//! (release, discard); a vial held by an excursion and a withdrawal stays
//! held until both are decided; a patient's withdrawal cancels open doses
//! and refuses new ones; every refusal changes nothing; a race of two
//! withdrawals has one winner; and the pages' forms.

use chrono::Duration;
use serde_json::{Value, json};

use crate::clinic::Clinic;
use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::{Team, id, rfc3339, signed};
use crate::temperature::{push, warm_spell};

on_both_databases!(
    consent_withdrawal_holds_every_vial_not_yet_infused_and_refuses_their_use,
    quality_releases_one_lot_and_discards_the_other,
    a_consent_withdrawal_is_refused_without_role_signature_or_a_good_date,
    a_vial_held_by_an_excursion_and_a_withdrawal_stays_held_until_both_are_decided,
    a_patient_withdrawal_cancels_open_doses_and_refuses_new_ones,
    a_patient_withdrawal_is_refused_during_an_infusion_and_without_role_or_signature,
    two_withdrawals_at_once_one_wins,
    a_prepared_dose_waits_at_the_bedside_until_quality_decides,
    quality_and_the_clinician_withdraw_from_the_pages,
);

async fn statuses(app: &TestApp, team: &Team, vials: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for v in vials {
        let vial = app
            .get(&format!("/api/v1/vials/{}", id(v)), Some(&team.lab))
            .await
            .expect(200);
        out.push(vial["status"].as_str().unwrap().to_owned());
    }
    out
}

fn withdrawal(app: &TestApp, reason: &str) -> Value {
    signed(json!({
        "withdrawn_at": rfc3339(app.clock.now() - Duration::hours(2)),
        "reason": reason,
    }))
}

async fn ledger_agrees(app: &TestApp, team: &Team) {
    let report = app.verify_ledger(team).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["replay"]["differences"], json!(0), "{report}");
}

/// Donor D-014 with a released lot of 12 vials (4 infused into PV-001, 4
/// reserved for PV-002, 4 available) and a second lot of 2 vials still in
/// quarantine. Returns (donor id, released lot, its vials, quarantined lot,
/// its vials, the reserved dose, clinic, PV-002).
struct Story {
    donor_id: String,
    lot: Value,
    vials: Vec<Value>,
    second: Value,
    second_vials: Vec<Value>,
    dose: Value,
    clinic: Clinic,
    patient: Value,
}

async fn story(app: &TestApp, team: &Team) -> Story {
    let clinic = app.clinic().await;
    let (lot, vials) = app.dosing_stock(team, "D-014", 12, 60).await;
    let donation = app
        .get(
            &format!("/api/v1/donations/{}", lot["donation_id"].as_str().unwrap()),
            Some(&team.lab),
        )
        .await
        .expect(200);
    let donor_id = donation["donor_id"].as_str().unwrap().to_owned();
    let second = app.lot(team, lot["donation_id"].as_str().unwrap()).await;
    app.pass_all_qc(team, &id(&second)).await;
    let frozen = app.freeze(team, &id(&second), 2).await;
    let second_vials = frozen["vials"].as_array().unwrap().clone();
    let first = app.weighed_patient(&clinic, "PV-001", 70).await;
    let given = app.prepared_dose(&clinic, &id(&first)).await;
    app.infuse(&clinic, &first, &given).await;
    let patient = app.weighed_patient(&clinic, "PV-002", 70).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    assert_eq!(dose["vial_ids"].as_array().unwrap().len(), 4, "{dose}");
    Story {
        donor_id,
        lot,
        vials,
        second,
        second_vials,
        dose,
        clinic,
        patient,
    }
}

async fn consent_withdrawal_holds_every_vial_not_yet_infused_and_refuses_their_use(app: TestApp) {
    let team = app.team().await;
    let s = story(&app, &team).await;
    let before = statuses(&app, &team, &s.vials).await;
    assert_eq!(before.iter().filter(|v| *v == "infused").count(), 4);
    assert_eq!(before.iter().filter(|v| *v == "reserved").count(), 4);
    let withdrawn = app
        .post(
            &format!("/api/v1/donors/{}/consent-withdrawal", s.donor_id),
            Some(&team.quality),
            withdrawal(&app, "the mother withdrew her consent by telephone"),
        )
        .await
        .expect(201);
    let lots = withdrawn["lots"].as_array().unwrap();
    assert_eq!(lots.len(), 2, "{withdrawn}");
    assert!(lots.iter().all(|l| l["status"] == "open"));
    // every vial not infused is on hold; the infused ones are untouched
    let after = statuses(&app, &team, &s.vials).await;
    for (was, now) in before.iter().zip(&after) {
        if was == "infused" {
            assert_eq!(now, "infused");
        } else {
            assert_eq!(now, "on_hold", "{was}");
        }
    }
    assert_eq!(
        statuses(&app, &team, &s.second_vials).await,
        ["on_hold", "on_hold"]
    );
    let held = lots.iter().find(|l| l["lot_id"] == s.lot["id"]).unwrap();
    let then: Vec<&str> = held["vials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["status_then"].as_str().unwrap())
        .collect();
    assert_eq!(then.len(), 8, "{held}");
    assert_eq!(then.iter().filter(|s| **s == "reserved").count(), 4);
    // the donor's records stay
    let donor = app
        .get(&format!("/api/v1/donors/{}", s.donor_id), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(donor["eligibility"], "eligible");
    // the reserved dose cannot be thawed: the lot is named
    let mut clinic = s.clinic;
    let refused = app
        .thaw(&clinic, &s.dose, 16_000_000, json!(92))
        .await
        .expect_error(422, "consent_withdrawn");
    assert_eq!(refused["code"], s.lot["code"]);
    // a new order: the named lot is refused; without one, nothing is left
    let third = app.weighed_patient(&clinic, "PV-003", 70).await;
    app.post(
        "/api/v1/doses",
        Some(&clinic.pharmacist),
        json!({ "patient_id": id(&third), "lot_id": s.lot["id"] }),
    )
    .await
    .expect_error(422, "consent_withdrawn");
    app.order(&clinic, &id(&third))
        .await
        .expect_error(422, "insufficient_stock");
    // the quarantined lot cannot be released meanwhile
    app.release(&team, &id(&s.second))
        .await
        .expect_error(422, "consent_withdrawn");
    // a held vial cannot be packed into a shipment
    let admin = app.admin_token().await;
    let ward = app
        .post(
            "/api/v1/sites",
            Some(&admin),
            json!({ "name": "Ward 3", "kind": "clinical", "facility_code": "B1234", "time_zone": "Asia/Shanghai" }),
        )
        .await
        .expect(201);
    let container = app
        .post(
            "/api/v1/shipping-containers",
            Some(&team.lab),
            json!({ "code": "ds-07" }),
        )
        .await
        .expect(201);
    let shipment = app
        .post(
            "/api/v1/shipments",
            Some(&team.lab),
            json!({ "to_site_id": id(&ward), "container_id": id(&container) }),
        )
        .await
        .expect(201);
    let available = before.iter().position(|v| v == "available").unwrap();
    let refused = app
        .post(
            &format!("/api/v1/shipments/{}/pack", id(&shipment)),
            Some(&team.lab),
            json!({ "scanned": s.vials[available]["code"] }),
        )
        .await
        .expect_error(422, "consent_withdrawn");
    assert_eq!(refused["code"], s.lot["code"]);
    // the open dose is cancelled by the pharmacist: its vials stay held
    app.days_later(&mut clinic, 0).await;
    app.post(
        &format!("/api/v1/doses/{}/cancel", id(&s.dose)),
        Some(&clinic.pharmacist),
        json!({ "reason": "donor withdrew consent" }),
    )
    .await
    .expect(200);
    assert_eq!(
        statuses(&app, &team, &s.vials).await,
        after,
        "cancelling leaves the held vials held"
    );
    // a second withdrawal of the same donor
    app.post(
        &format!("/api/v1/donors/{}/consent-withdrawal", s.donor_id),
        Some(&team.quality),
        withdrawal(&app, "again"),
    )
    .await
    .expect_error(409, "already_withdrawn");
    // the donor's audit shows the signed withdrawal
    let audit = app
        .get(
            &format!("/api/v1/audit?subject_id={}", s.donor_id),
            Some(&team.quality),
        )
        .await
        .expect(200);
    let last = audit.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "donor.consent_withdrawn");
    assert_eq!(last["details"]["signature"]["meaning"], "approval");
    // the donor and lot traces show it
    let trace = app
        .get(
            &format!("/api/v1/trace/donors/{}", s.donor_id),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(
        trace["consent_withdrawal"]["reason"], "the mother withdrew her consent by telephone",
        "{trace}"
    );
    let trace = app
        .get(
            &format!("/api/v1/trace/lots/{}", id(&s.lot)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(trace["consent_withdrawal"]["status"], "open", "{trace}");
    ledger_agrees(&app, &team).await;
    let _ = s.patient;
}

async fn quality_releases_one_lot_and_discards_the_other(app: TestApp) {
    let team = app.team().await;
    let s = story(&app, &team).await;
    app.post(
        &format!("/api/v1/donors/{}/consent-withdrawal", s.donor_id),
        Some(&team.quality),
        withdrawal(&app, "consent withdrawn"),
    )
    .await
    .expect(201);
    let clinic = s.clinic;
    app.post(
        &format!("/api/v1/doses/{}/cancel", id(&s.dose)),
        Some(&clinic.pharmacist),
        json!({ "reason": "donor withdrew consent" }),
    )
    .await
    .expect(200);
    // refusals of the decision change nothing
    let decide = |lot: &Value| format!("/api/v1/lots/{}/withdrawal-decision", id(lot));
    app.post(
        &decide(&s.lot),
        Some(&team.lab),
        signed(json!({ "decision": "release", "reason": "ok" })),
    )
    .await
    .expect_error(403, "forbidden");
    app.post(
        &decide(&s.lot),
        Some(&team.quality),
        signed(json!({ "decision": "keep", "reason": "ok" })),
    )
    .await
    .expect_error(422, "invalid_field");
    app.post(
        &decide(&s.lot),
        Some(&team.quality),
        json!({ "decision": "release", "reason": "ok", "signature": { "password": "wrong password!", "meaning": "approval" } }),
    )
    .await
    .expect_error(401, "signature_invalid");
    // released: every held vial back to what it was; the cancelled dose's
    // vials are available, not reserved
    let released = app
        .post(
            &decide(&s.lot),
            Some(&team.quality),
            signed(json!({ "decision": "release", "reason": "the ethics committee allows use of lots already released" })),
        )
        .await
        .expect(200);
    assert_eq!(released["status"], "decided");
    assert_eq!(released["decision"], "released");
    let now = statuses(&app, &team, &s.vials).await;
    assert_eq!(
        now.iter().filter(|v| *v == "available").count(),
        8,
        "{now:?}"
    );
    assert_eq!(now.iter().filter(|v| *v == "infused").count(), 4);
    // the lot serves doses again
    app.order(&clinic, &id(&s.patient)).await.expect(201);
    // the other lot's vials are discarded
    let discarded = app
        .post(
            &decide(&s.second),
            Some(&team.quality),
            signed(json!({ "decision": "discard", "reason": "not yet released: destroyed as the donor asked" })),
        )
        .await
        .expect(200);
    assert_eq!(discarded["decision"], "discarded");
    assert_eq!(
        statuses(&app, &team, &s.second_vials).await,
        ["discarded", "discarded"]
    );
    // a decided lot is decided; the discarded lot is never released
    app.post(
        &decide(&s.second),
        Some(&team.quality),
        signed(json!({ "decision": "release", "reason": "again" })),
    )
    .await
    .expect_error(409, "invalid_state");
    app.release(&team, &id(&s.second))
        .await
        .expect_error(422, "consent_withdrawn");
    // one custody event per vial and a signed one for the lot
    let audit = app
        .get(
            &format!("/api/v1/audit?subject_id={}", id(&s.second)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .filter(|a| a.contains("withdrawal"))
        .collect();
    assert_eq!(actions, ["lot.withdrawal_held", "lot.withdrawal_discarded"]);
    let vial_audit = app
        .get(
            &format!("/api/v1/audit?subject_id={}", id(&s.second_vials[0])),
            Some(&team.quality),
        )
        .await
        .expect(200);
    let last = vial_audit.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "vial.discarded");
    assert_eq!(
        last["details"]["reason"],
        "not yet released: destroyed as the donor asked"
    );
    ledger_agrees(&app, &team).await;
}

async fn a_consent_withdrawal_is_refused_without_role_signature_or_a_good_date(app: TestApp) {
    let team = app.team().await;
    let (lot, vials) = app.released_lot(&team, "D-020", 3).await;
    let donation = app
        .get(
            &format!("/api/v1/donations/{}", lot["donation_id"].as_str().unwrap()),
            Some(&team.lab),
        )
        .await
        .expect(200);
    let donor_id = donation["donor_id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/donors/{donor_id}/consent-withdrawal");
    let clinic = app.clinic().await;
    let events_before = app
        .get(
            &format!("/api/v1/audit?subject_id={donor_id}"),
            Some(&team.quality),
        )
        .await
        .expect(200)
        .as_array()
        .unwrap()
        .len();
    app.post(&path, Some(&team.lab), withdrawal(&app, "x"))
        .await
        .expect_error(403, "forbidden");
    app.post(&path, Some(&clinic.pharmacist), withdrawal(&app, "x"))
        .await
        .expect_error(403, "forbidden");
    let mut wrong = withdrawal(&app, "consent withdrawn");
    wrong["signature"]["password"] = json!("not the password");
    app.post(&path, Some(&team.quality), wrong)
        .await
        .expect_error(401, "signature_invalid");
    let mut future = withdrawal(&app, "consent withdrawn");
    future["withdrawn_at"] = json!(rfc3339(app.clock.now() + Duration::days(1)));
    app.post(&path, Some(&team.quality), future)
        .await
        .expect_error(422, "invalid_field");
    let mut early = withdrawal(&app, "consent withdrawn");
    early["withdrawn_at"] = json!(rfc3339(app.clock.now() - Duration::days(3650)));
    let refused = app
        .post(&path, Some(&team.quality), early)
        .await
        .expect_error(422, "invalid_field");
    assert_eq!(refused["field"], "withdrawn_at", "{refused}");
    app.post(&path, Some(&team.quality), withdrawal(&app, "  "))
        .await
        .expect_error(422, "invalid_field");
    app.post(
        &format!("/api/v1/donors/{}/consent-withdrawal", uuid::Uuid::nil()),
        Some(&team.quality),
        withdrawal(&app, "consent withdrawn"),
    )
    .await
    .expect_error(404, "not_found");
    // nothing changed
    assert_eq!(
        statuses(&app, &team, &vials).await,
        ["available", "available", "available"]
    );
    let events_after = app
        .get(
            &format!("/api/v1/audit?subject_id={donor_id}"),
            Some(&team.quality),
        )
        .await
        .expect(200)
        .as_array()
        .unwrap()
        .len();
    assert_eq!(events_before, events_after);
    app.get(&path, Some(&team.lab))
        .await
        .expect_error(404, "not_found");
    // a lot whose donor did not withdraw has nothing to decide
    app.post(
        &format!("/api/v1/lots/{}/withdrawal-decision", id(&lot)),
        Some(&team.quality),
        signed(json!({ "decision": "release", "reason": "ok" })),
    )
    .await
    .expect_error(404, "not_found");
    ledger_agrees(&app, &team).await;
}

async fn a_vial_held_by_an_excursion_and_a_withdrawal_stays_held_until_both_are_decided(
    app: TestApp,
) {
    let team = app.team().await;
    let (lot, vials, hold) = crate::holds::held_by_excursion(&app, &team, "D-030", 2).await;
    let hold_id = id(&hold);
    assert_eq!(statuses(&app, &team, &vials).await, ["on_hold", "on_hold"]);
    let donation = app
        .get(
            &format!("/api/v1/donations/{}", lot["donation_id"].as_str().unwrap()),
            Some(&team.lab),
        )
        .await
        .expect(200);
    let withdrawn = app
        .post(
            &format!(
                "/api/v1/donors/{}/consent-withdrawal",
                donation["donor_id"].as_str().unwrap()
            ),
            Some(&team.quality),
            withdrawal(&app, "consent withdrawn"),
        )
        .await
        .expect(201);
    assert_eq!(
        withdrawn["lots"][0]["vials"].as_array().unwrap().len(),
        2,
        "{withdrawn}"
    );
    // the excursion is released: the withdrawal still holds them
    app.post(
        &format!("/api/v1/holds/{hold_id}/release"),
        Some(&team.quality),
        signed(json!({ "reason": "mapped position stayed cold" })),
    )
    .await
    .expect(200);
    assert_eq!(statuses(&app, &team, &vials).await, ["on_hold", "on_hold"]);
    // and once the withdrawal is released too, they are what they were
    app.post(
        &format!("/api/v1/lots/{}/withdrawal-decision", id(&lot)),
        Some(&team.quality),
        signed(json!({ "decision": "release", "reason": "use allowed" })),
    )
    .await
    .expect(200);
    assert_eq!(
        statuses(&app, &team, &vials).await,
        ["quarantine", "quarantine"]
    );
    // the other way round: a withdrawal released first leaves an open
    // excursion's vials held
    let (lot2, vials2, hold2) = crate::holds::held_by_excursion(&app, &team, "D-031", 1).await;
    let hold2 = id(&hold2);
    let donation2 = app
        .get(
            &format!(
                "/api/v1/donations/{}",
                lot2["donation_id"].as_str().unwrap()
            ),
            Some(&team.lab),
        )
        .await
        .expect(200);
    app.post(
        &format!(
            "/api/v1/donors/{}/consent-withdrawal",
            donation2["donor_id"].as_str().unwrap()
        ),
        Some(&team.quality),
        withdrawal(&app, "consent withdrawn"),
    )
    .await
    .expect(201);
    let decided = app
        .post(
            &format!("/api/v1/lots/{}/withdrawal-decision", id(&lot2)),
            Some(&team.quality),
            signed(json!({ "decision": "release", "reason": "use allowed" })),
        )
        .await
        .expect(200);
    assert_eq!(decided["status"], "decided");
    assert_eq!(statuses(&app, &team, &vials2).await, ["on_hold"]);
    app.post(
        &format!("/api/v1/holds/{hold2}/release"),
        Some(&team.quality),
        signed(json!({ "reason": "mapped position stayed cold" })),
    )
    .await
    .expect(200);
    assert_eq!(statuses(&app, &team, &vials2).await, ["quarantine"]);
    // discarded for the withdrawal, the excursion's own discard finds
    // nothing left to do and still decides its hold
    let (lot3, vials3, hold3) = excursion_then_withdrawal(&app, &team, "D-032").await;
    app.post(
        &format!("/api/v1/lots/{}/withdrawal-decision", id(&lot3)),
        Some(&team.quality),
        signed(json!({ "decision": "discard", "reason": "destroyed as the donor asked" })),
    )
    .await
    .expect(200);
    assert_eq!(statuses(&app, &team, &vials3).await, ["discarded"]);
    let decided = app
        .post(
            &format!("/api/v1/holds/{hold3}/discard"),
            Some(&team.quality),
            signed(json!({ "reason": "warmed past the limit" })),
        )
        .await
        .expect(200);
    assert_eq!(decided["status"], "decided", "{decided}");
    ledger_agrees(&app, &team).await;
}

async fn a_patient_withdrawal_cancels_open_doses_and_refuses_new_ones(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (_, vials) = app.dosing_stock(&team, "D-040", 12, 60).await;
    // PV-010 has had one infusion and a reserved dose; PV-011 a verified one
    let patient = app.weighed_patient(&clinic, "PV-010", 70).await;
    let given = app.prepared_dose(&clinic, &id(&patient)).await;
    app.infuse(&clinic, &patient, &given).await;
    let mut clinic = clinic;
    app.days_later(&mut clinic, 7).await;
    let team = app.team_again().await;
    app.weigh(&clinic, &id(&patient), json!(70), "kg", 1)
        .await
        .expect(201);
    let reserved = app.order(&clinic, &id(&patient)).await.expect(201);
    let other = app.weighed_patient(&clinic, "PV-011", 70).await;
    let verified = app.prepared_dose(&clinic, &id(&other)).await;
    let withdrawn = app
        .post(
            &format!("/api/v1/patients/{}/withdrawal", id(&patient)),
            Some(&clinic.clinician),
            withdrawal(&app, "the patient moved away"),
        )
        .await
        .expect(201);
    assert_eq!(
        withdrawn["doses_cancelled"],
        json!([reserved["code"]]),
        "{withdrawn}"
    );
    let dose = app
        .get(
            &format!("/api/v1/doses/{}", id(&reserved)),
            Some(&clinic.pharmacist),
        )
        .await
        .expect(200);
    assert_eq!(dose["status"], "cancelled");
    for v in reserved["vial_ids"].as_array().unwrap() {
        let vial = app
            .get(
                &format!("/api/v1/vials/{}", v.as_str().unwrap()),
                Some(&team.lab),
            )
            .await
            .expect(200);
        assert_eq!(vial["status"], "available");
    }
    // no further dose
    let refused = app
        .order(&clinic, &id(&patient))
        .await
        .expect_error(422, "patient_withdrawn");
    assert_eq!(refused["subject_code"], "PV-010");
    // a second withdrawal
    app.post(
        &format!("/api/v1/patients/{}/withdrawal", id(&patient)),
        Some(&clinic.clinician),
        withdrawal(&app, "again"),
    )
    .await
    .expect_error(409, "already_withdrawn");
    // follow-up continues: an assessment is recorded
    app.post(
        &format!("/api/v1/patients/{}/assessments", id(&patient)),
        Some(&clinic.clinician),
        json!({ "kind": "dlqi", "assessed_at": rfc3339(app.clock.now()), "answers": [1,1,1,1,1,1,1,1,1,1] }),
    )
    .await
    .expect(201);
    // the other patient's verified dose: withdrawn, the dose is cancelled
    // and its thawed vials discarded
    let withdrawn = app
        .post(
            &format!("/api/v1/patients/{}/withdrawal", id(&other)),
            Some(&clinic.clinician),
            withdrawal(&app, "withdrew consent to the trial"),
        )
        .await
        .expect(201);
    assert_eq!(withdrawn["doses_cancelled"], json!([verified["code"]]));
    for v in verified["vial_ids"].as_array().unwrap() {
        let vial = app
            .get(
                &format!("/api/v1/vials/{}", v.as_str().unwrap()),
                Some(&team.lab),
            )
            .await
            .expect(200);
        assert_eq!(vial["status"], "discarded");
    }
    app.start_infusion(
        &clinic,
        &verified,
        other["scan_payload"].as_str().unwrap(),
        verified["scan_payload"].as_str().unwrap(),
    )
    .await
    .expect_error(409, "invalid_state");
    // the trace shows the withdrawal; the visits are optional
    let trace = app
        .get(
            &format!("/api/v1/trace/patients/{}", id(&patient)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(
        trace["withdrawal"]["reason"], "the patient moved away",
        "{trace}"
    );
    let (status, _, csv) = app
        .get_bytes(
            &format!("/api/v1/trace/patients/{}?format=csv", id(&patient)),
            Some(&team.quality),
        )
        .await;
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.lines().next().unwrap().contains("withdrawn_at"),
        "{csv}"
    );
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .contains("the patient moved away"),
        "{csv}"
    );
    // no dose to calculate either
    app.post(
        "/api/v1/dose-calculations",
        Some(&clinic.pharmacist),
        json!({ "patient_id": id(&patient) }),
    )
    .await
    .expect_error(422, "patient_withdrawn");
    // the patient's page: the banner, and the follow-up visits optional
    let nurse = crate::web::sign_in(&app, "nurse.one").await;
    let (_, html) = crate::web::page(&app, &format!("/patients/{}", id(&patient)), &nurse).await;
    assert!(html.contains("Withdrawn from the trial on"), "{html}");
    assert!(html.contains("optional (withdrawn)"), "{html}");
    let _ = vials;
    ledger_agrees(&app, &team).await;
}

async fn a_patient_withdrawal_is_refused_during_an_infusion_and_without_role_or_signature(
    app: TestApp,
) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    app.dosing_stock(&team, "D-050", 8, 60).await;
    let patient = app.weighed_patient(&clinic, "PV-020", 70).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    let started = app
        .start_infusion(
            &clinic,
            &dose,
            patient["scan_payload"].as_str().unwrap(),
            dose["scan_payload"].as_str().unwrap(),
        )
        .await
        .expect(201);
    let path = format!("/api/v1/patients/{}/withdrawal", id(&patient));
    app.post(&path, Some(&clinic.pharmacist), withdrawal(&app, "x"))
        .await
        .expect_error(403, "forbidden");
    app.post(&path, Some(&team.quality), withdrawal(&app, "x"))
        .await
        .expect_error(403, "forbidden");
    let mut wrong = withdrawal(&app, "moved away");
    wrong["signature"]["password"] = json!("not the password");
    app.post(&path, Some(&clinic.clinician), wrong)
        .await
        .expect_error(401, "signature_invalid");
    let mut future = withdrawal(&app, "moved away");
    future["withdrawn_at"] = json!(rfc3339(app.clock.now() + Duration::days(2)));
    app.post(&path, Some(&clinic.clinician), future)
        .await
        .expect_error(422, "invalid_field");
    // an infusion in progress: finish it first
    app.post(
        &path,
        Some(&clinic.clinician),
        withdrawal(&app, "moved away"),
    )
    .await
    .expect_error(409, "invalid_state");
    app.get(&path, Some(&clinic.clinician))
        .await
        .expect_error(404, "not_found");
    app.post(
        &format!("/api/v1/infusions/{}/complete", id(&started)),
        Some(&clinic.clinician),
        json!({ "ended_at": rfc3339(app.clock.now()), "volume_infused_ul": dose["volume_ul"] }),
    )
    .await
    .expect(200);
    app.post(
        &path,
        Some(&clinic.clinician),
        withdrawal(&app, "moved away"),
    )
    .await
    .expect(201);
    let got = app.get(&path, Some(&team.quality)).await.expect(200);
    assert_eq!(got["subject_code"], "PV-020");
    assert_eq!(got["doses_cancelled"], json!([]));
    ledger_agrees(&app, &team).await;
}

async fn two_withdrawals_at_once_one_wins(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, _) = app.released_lot(&team, "D-060", 4).await;
    let donation = app
        .get(
            &format!("/api/v1/donations/{}", lot["donation_id"].as_str().unwrap()),
            Some(&team.lab),
        )
        .await
        .expect(200);
    let path = format!(
        "/api/v1/donors/{}/consent-withdrawal",
        donation["donor_id"].as_str().unwrap()
    );
    let (a, b) = tokio::join!(
        app.post(&path, Some(&team.quality), withdrawal(&app, "first")),
        app.post(&path, Some(&team.quality), withdrawal(&app, "second")),
    );
    let mut codes = [a.status.as_u16(), b.status.as_u16()];
    codes.sort();
    assert_eq!(codes, [201, 409], "{:?} {:?}", a.body, b.body);
    let loser = if a.status.as_u16() == 409 { a } else { b };
    assert_eq!(loser.body["error"]["code"], "already_withdrawn");
    let patient = app.patient(&clinic, "PV-030").await;
    let path = format!("/api/v1/patients/{}/withdrawal", id(&patient));
    let (a, b) = tokio::join!(
        app.post(&path, Some(&clinic.clinician), withdrawal(&app, "first")),
        app.post(&path, Some(&clinic.clinician), withdrawal(&app, "second")),
    );
    let mut codes = [a.status.as_u16(), b.status.as_u16()];
    codes.sort();
    assert_eq!(codes, [201, 409], "{:?} {:?}", a.body, b.body);
    ledger_agrees(&app, &team).await;
}

/// The site's wall clock an hour ago, as a date-and-time field takes it.
fn typed_hour_ago(app: &TestApp) -> String {
    let beijing = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    (app.clock.now() - Duration::hours(1))
        .with_timezone(&beijing)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

async fn quality_and_the_clinician_withdraw_from_the_pages(app: TestApp) {
    use crate::helpers::STAFF_PASSWORD;
    use crate::web::{csrf, page, sign_in, submit};
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, vials) = app.dosing_stock(&team, "D-070", 8, 60).await;
    let donation = app
        .get(
            &format!("/api/v1/donations/{}", lot["donation_id"].as_str().unwrap()),
            Some(&team.lab),
        )
        .await
        .expect(200);
    let donor_id = donation["donor_id"].as_str().unwrap().to_owned();
    let patient = app.weighed_patient(&clinic, "PV-070", 70).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    // quality's form on the donor's page, in plain words; not the lab's
    let quality = sign_in(&app, "qa.officer").await;
    let (status, html) = page(&app, &format!("/donors/{donor_id}"), &quality).await;
    assert_eq!(status.as_u16(), 200, "{html}");
    assert!(
        html.contains("Withdraw consent: every lot and vial of donor D-070 not yet infused goes on hold until you decide"),
        "{html}"
    );
    let action = format!("/donors/{donor_id}/consent-withdrawal");
    assert!(html.contains(&format!("action=\"{action}\"")));
    let lab = sign_in(&app, "lab.tech").await;
    let (_, lab_html) = page(&app, &format!("/donors/{donor_id}"), &lab).await;
    assert!(!lab_html.contains(&action), "no form for the lab");
    // a wrong password sends the form back and changes nothing
    let token = csrf(&html);
    let at = typed_hour_ago(&app);
    let (status, location, _) = submit(
        &app,
        &quality,
        &action,
        &[
            ("csrf", &token),
            ("withdrawn_at", &at),
            ("reason", "the mother withdrew"),
            ("password", "not-the-password"),
            ("meaning", "consent withdrawn"),
        ],
    )
    .await;
    assert_eq!(status.as_u16(), 303);
    assert!(location.contains("error="), "{location}");
    assert_eq!(statuses(&app, &team, &vials[..1]).await.len(), 1);
    app.get(
        &format!("/api/v1/donors/{donor_id}/consent-withdrawal"),
        Some(&team.lab),
    )
    .await
    .expect_error(404, "not_found");
    let (status, location, _) = submit(
        &app,
        &quality,
        &action,
        &[
            ("csrf", &token),
            ("withdrawn_at", &at),
            ("reason", "the mother withdrew"),
            ("password", STAFF_PASSWORD),
            ("meaning", "consent withdrawn"),
        ],
    )
    .await;
    assert_eq!(status.as_u16(), 303);
    assert!(
        location.starts_with(&format!("/donors/{donor_id}?ok=")),
        "{location}"
    );
    let (_, html) = page(&app, &format!("/donors/{donor_id}"), &quality).await;
    assert!(html.contains("Consent withdrawn on"), "{html}");
    assert!(html.contains("+08:00"), "site time");
    assert!(!html.contains(&action), "no second form");
    // sent again: a sentence, not a 500
    let (status, location, _) = submit(
        &app,
        &quality,
        &action,
        &[
            ("csrf", &csrf(&html)),
            ("withdrawn_at", &at),
            ("reason", "again"),
            ("password", STAFF_PASSWORD),
            ("meaning", "consent withdrawn"),
        ],
    )
    .await;
    assert_eq!(status.as_u16(), 303);
    assert!(location.contains("error="), "{location}");
    // the lot's page: on hold, and quality decides there
    let (_, html) = page(&app, &format!("/lots/{}", id(&lot)), &quality).await;
    assert!(
        html.contains("Consent withdrawn: on hold until quality decides"),
        "{html}"
    );
    let decide = format!("/lots/{}/withdrawal-decision", id(&lot));
    assert!(html.contains(&format!("action=\"{decide}\"")));
    let (status, location, _) = submit(
        &app,
        &quality,
        &decide,
        &[
            ("csrf", &csrf(&html)),
            ("decision", "release"),
            ("reason", "the ethics committee allows it"),
            ("password", STAFF_PASSWORD),
            ("meaning", "decision after consent withdrawn"),
        ],
    )
    .await;
    assert_eq!(status.as_u16(), 303);
    assert!(location.contains("ok="), "{location}");
    let (_, html) = page(&app, &format!("/lots/{}", id(&lot)), &quality).await;
    assert!(html.contains("quality released this lot"), "{html}");
    assert!(!html.contains(&format!("action=\"{decide}\"")));
    let (_, trace) = page(&app, &format!("/trace/lots/{}", id(&lot)), &quality).await;
    assert!(trace.contains("quality released this lot"), "{trace}");
    // the patient's page: the clinician is told which doses go
    let nurse = sign_in(&app, "nurse.one").await;
    let path = format!("/patients/{}", id(&patient));
    let (_, html) = page(&app, &path, &nurse).await;
    assert!(
        html.contains("Withdraw patient PV-070 from the trial"),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "These open doses will be cancelled: {}",
            dose["code"].as_str().unwrap()
        )),
        "{html}"
    );
    let withdraw = format!("/patients/{}/withdrawal", id(&patient));
    let at = typed_hour_ago(&app);
    let (status, location, _) = submit(
        &app,
        &nurse,
        &withdraw,
        &[
            ("csrf", &csrf(&html)),
            ("withdrawn_at", &at),
            ("reason", "moved to another city"),
            ("password", STAFF_PASSWORD),
            ("meaning", "withdrawn from the trial"),
        ],
    )
    .await;
    assert_eq!(status.as_u16(), 303);
    assert!(location.contains("ok="), "{location}");
    let (_, html) = page(&app, &path, &nurse).await;
    assert!(html.contains("Withdrawn from the trial on"), "{html}");
    assert!(!html.contains(&format!("action=\"{withdraw}\"")));
    let dose = app
        .get(
            &format!("/api/v1/doses/{}", id(&dose)),
            Some(&clinic.pharmacist),
        )
        .await
        .expect(200);
    assert_eq!(dose["status"], "cancelled");
    ledger_agrees(&app, &team).await;
}

async fn a_prepared_dose_waits_at_the_bedside_until_quality_decides(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, _) = app.dosing_stock(&team, "D-080", 8, 60).await;
    let patient = app.weighed_patient(&clinic, "PV-080", 70).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    let donation = app
        .get(
            &format!("/api/v1/donations/{}", lot["donation_id"].as_str().unwrap()),
            Some(&team.lab),
        )
        .await
        .expect(200);
    let withdrawn = app
        .post(
            &format!(
                "/api/v1/donors/{}/consent-withdrawal",
                donation["donor_id"].as_str().unwrap()
            ),
            Some(&team.quality),
            withdrawal(&app, "consent withdrawn"),
        )
        .await
        .expect(201);
    // the thawed vials are listed for quality, not held
    let vials = withdrawn["lots"][0]["vials"].as_array().unwrap().clone();
    let thawed: Vec<&Value> = vials.iter().filter(|v| v["held"] == false).collect();
    assert_eq!(thawed.len(), 4, "{withdrawn}");
    assert!(thawed.iter().all(|v| v["status"] == "thawed"));
    let hold = app
        .get(
            &format!("/api/v1/lots/{}/withdrawal-decision", id(&lot)),
            Some(&team.lab),
        )
        .await
        .expect(200);
    assert_eq!(hold["status"], "open");
    // at the bedside: refused, naming the lot, until quality decides
    let scan = |v: &Value, k: &str| v[k].as_str().unwrap().to_owned();
    let refused = app
        .start_infusion(
            &clinic,
            &dose,
            &scan(&patient, "scan_payload"),
            &scan(&dose, "scan_payload"),
        )
        .await
        .expect_error(422, "consent_withdrawn");
    assert_eq!(refused["code"], lot["code"]);
    app.post(
        &format!("/api/v1/lots/{}/withdrawal-decision", id(&lot)),
        Some(&team.quality),
        signed(json!({ "decision": "release", "reason": "the mother agreed to this infusion" })),
    )
    .await
    .expect(200);
    app.start_infusion(
        &clinic,
        &dose,
        &scan(&patient, "scan_payload"),
        &scan(&dose, "scan_payload"),
    )
    .await
    .expect(201);
    ledger_agrees(&app, &team).await;
}

/// A quarantined lot of one vial held by a warm spell of its tank, then by
/// its donor's consent withdrawal: (lot, vials, excursion hold id).
async fn excursion_then_withdrawal(
    app: &TestApp,
    team: &Team,
    donor: &str,
) -> (Value, Vec<Value>, String) {
    let (lot, vials) = app.quarantined_lot(team, donor, 1).await;
    let boxed = app.storage_box(team, donor, 9, 9).await;
    app.store(team, &id(&vials[0]), &id(&boxed), "A1")
        .await
        .expect(200);
    let unit = app
        .get(&format!("/api/v1/storage/{}", id(&boxed)), Some(&team.lab))
        .await
        .expect(200);
    let rack = app
        .get(
            &format!("/api/v1/storage/{}", unit["parent_id"].as_str().unwrap()),
            Some(&team.lab),
        )
        .await
        .expect(200);
    let tank = json!({ "id": rack["parent_id"] });
    app.clock.advance(Duration::minutes(1));
    let start = app.clock.now();
    app.clock.advance(Duration::minutes(25));
    let recorded = push(app, &team.lab, &tank, warm_spell(start, 20)).await;
    let hold = recorded["holds"][0]["hold_id"]
        .as_str()
        .expect("a hold")
        .to_owned();
    let donation = app
        .get(
            &format!("/api/v1/donations/{}", lot["donation_id"].as_str().unwrap()),
            Some(&team.lab),
        )
        .await
        .expect(200);
    app.post(
        &format!(
            "/api/v1/donors/{}/consent-withdrawal",
            donation["donor_id"].as_str().unwrap()
        ),
        Some(&team.quality),
        withdrawal(app, "consent withdrawn"),
    )
    .await
    .expect(201);
    (lot, vials, hold)
}
