//! The clinic's common story: a pharmacist and a clinician, an enrolled
//! patient with a fresh weight, released stock sized for doses, a dose
//! ordered, thawed and verified, an infusion given.

use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{Answer, STAFF_PASSWORD, TestApp, token_of};
use crate::story::{Team, id, rfc3339, signed};

/// Cells per vial and volume of the stock these tests dose from: a 40 kg
/// patient's 40 × 10^6 cells need 2 vials at 80 % recovery.
pub const CELLS_PER_VIAL: i64 = 25_000_000;
pub const VOLUME_UL: i64 = 1500;

/// Tokens of a pharmacist, a second pharmacist who verifies what the
/// first counted (independent verification), and a clinician.
pub struct Clinic {
    pub pharmacist: String,
    pub clinician: String,
    pub verifier: String,
}

/// Every criterion of the seed protocol answered as eligible.
pub fn eligible_criteria() -> Value {
    json!({
        "stable_psoriasis_vulgaris_6_months": true,
        "active_despite_treatment": true,
        "no_other_psoriasis_treatment_during_study": true,
        "informed_consent": true,
        "other_psoriasis_type": false,
        "other_disease": false,
        "systemic_treatment_last_4_weeks": false,
        "topical_treatment_last_2_weeks": false,
        "uncontrolled_active_infection": false,
        "hbv_hcv_or_hiv": false,
        "severe_systemic_disease_or_malignancy": false,
        "pregnant_lactating_or_planning": false,
        "cannot_be_followed_up": false,
    })
}

impl TestApp {
    pub async fn clinic(&self) -> Clinic {
        let (_, pharmacist) = self.staff("pharm.one", "pharmacist").await;
        let (_, clinician) = self.staff("nurse.one", "clinician").await;
        let (_, verifier) = self.staff("pharm.two", "pharmacist").await;
        Clinic {
            pharmacist,
            clinician,
            verifier,
        }
    }

    /// Moves the clock on and signs the clinic in again (tokens expire
    /// after 12 hours).
    pub async fn days_later(&self, clinic: &mut Clinic, days: i64) {
        self.clock.advance(Duration::days(days));
        self.sign_in_again(clinic).await;
    }

    /// Signs the clinic in again (after the clock moved).
    pub async fn sign_in_again(&self, clinic: &mut Clinic) {
        clinic.pharmacist = token_of(self.login("pharm.one", STAFF_PASSWORD).await);
        clinic.clinician = token_of(self.login("nurse.one", STAFF_PASSWORD).await);
        clinic.verifier = token_of(self.login("pharm.two", STAFF_PASSWORD).await);
    }

    pub fn enrol_answer<'a>(
        &'a self,
        clinic: &Clinic,
        subject_code: &str,
        criteria: Value,
    ) -> impl Future<Output = Answer> + use<'a> {
        self.post(
            "/api/v1/patients",
            Some(&clinic.clinician),
            json!({
                "subject_code": subject_code,
                "birth_date": "1980-05-17",
                "sex": "female",
                "enrolled_at": rfc3339(self.days_ago(3)),
                "baseline_pasi": 14.2,
                "criteria": criteria,
            }),
        )
    }

    /// An eligible patient, enrolled three days ago.
    pub async fn patient(&self, clinic: &Clinic, subject_code: &str) -> Value {
        self.enrol_answer(clinic, subject_code, eligible_criteria())
            .await
            .expect(201)
    }

    pub fn weigh<'a>(
        &'a self,
        clinic: &Clinic,
        patient_id: &str,
        value: Value,
        unit: &str,
        hours_ago: i64,
    ) -> impl Future<Output = Answer> + use<'a> {
        self.post(
            &format!("/api/v1/patients/{patient_id}/weights"),
            Some(&clinic.clinician),
            json!({
                "value": value,
                "unit": unit,
                "measured_at": rfc3339(self.clock.now() - Duration::hours(hours_ago)),
                "confirm_change": true,
            }),
        )
    }

    /// An eligible patient weighed `kg` an hour ago.
    pub async fn weighed_patient(&self, clinic: &Clinic, subject_code: &str, kg: i64) -> Value {
        let patient = self.patient(clinic, subject_code).await;
        self.weigh(clinic, &id(&patient), json!(kg), "kg", 1)
            .await
            .expect(201);
        patient
    }

    /// A released lot of `vials` vials of `CELLS_PER_VIAL` cells in
    /// `VOLUME_UL`, expiring in `expires_in_days`.
    pub async fn dosing_stock(
        &self,
        team: &Team,
        donor_code: &str,
        vials: u32,
        expires_in_days: i64,
    ) -> (Value, Vec<Value>) {
        self.dosing_stock_until(
            team,
            donor_code,
            vials,
            self.clock.now() + Duration::days(expires_in_days),
        )
        .await
    }

    /// The same, expiring at `expires_at`.
    pub async fn dosing_stock_until(
        &self,
        team: &Team,
        donor_code: &str,
        vials: u32,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> (Value, Vec<Value>) {
        let (_, donation) = self.eligible_donor(team, donor_code).await;
        let lot = self
            .post(
                "/api/v1/lots",
                Some(&team.lab),
                json!({
                    "donation_id": donation["id"],
                    "product_code": "S1395",
                    "passage": 4,
                    "manufactured_at": rfc3339(self.days_ago(5)),
                    "expires_at": rfc3339(expires_at),
                }),
            )
            .await
            .expect(201);
        let lot_id = id(&lot);
        self.pass_all_qc(team, &lot_id).await;
        let frozen = self
            .post(
                &format!("/api/v1/lots/{lot_id}/freeze"),
                Some(&team.lab),
                json!({
                    "vial_count": vials,
                    "cells_per_vial": CELLS_PER_VIAL,
                    "volume_ul": VOLUME_UL,
                    "frozen_at": rfc3339(self.days_ago(4)),
                }),
            )
            .await
            .expect(201);
        let released = self.release(team, &lot_id).await.expect(200);
        (released, frozen["vials"].as_array().unwrap().clone())
    }

    pub fn order<'a>(
        &'a self,
        clinic: &Clinic,
        patient_id: &str,
    ) -> impl Future<Output = Answer> + use<'a> {
        self.post(
            "/api/v1/doses",
            Some(&clinic.pharmacist),
            json!({ "patient_id": patient_id }),
        )
    }

    /// Thaw counts for every vial of the dose at one concentration and
    /// viability.
    pub fn thaw_body(&self, dose: &Value, viable_cells_per_ml: i64, viability: Value) -> Value {
        let vials: Vec<Value> = dose["vial_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                json!({
                    "vial_id": v,
                    "viable_cells_per_ml": viable_cells_per_ml,
                    "viability_pct": viability,
                })
            })
            .collect();
        json!({ "vials": vials, "thawed_at": rfc3339(self.clock.now()) })
    }

    pub fn thaw<'a>(
        &'a self,
        clinic: &Clinic,
        dose: &Value,
        viable_cells_per_ml: i64,
        viability: Value,
    ) -> impl Future<Output = Answer> + use<'a> {
        self.post(
            &format!("/api/v1/doses/{}/thaw", id(dose)),
            Some(&clinic.pharmacist),
            self.thaw_body(dose, viable_cells_per_ml, viability),
        )
    }

    /// The second pharmacist's signed verification.
    pub fn verify_dose<'a>(
        &'a self,
        clinic: &Clinic,
        dose: &Value,
    ) -> impl Future<Output = Answer> + use<'a> {
        self.post(
            &format!("/api/v1/doses/{}/verify", id(dose)),
            Some(&clinic.verifier),
            signed(json!({})),
        )
    }

    /// Ordered, thawed at 16 × 10^6 viable cells/mL and 92 % viability,
    /// and verified.
    pub async fn prepared_dose(&self, clinic: &Clinic, patient_id: &str) -> Value {
        let dose = self.order(clinic, patient_id).await.expect(201);
        self.thaw(clinic, &dose, 16_000_000, json!(92))
            .await
            .expect(200);
        self.verify_dose(clinic, &dose).await.expect(200)
    }

    pub fn start_infusion<'a>(
        &'a self,
        clinic: &Clinic,
        dose: &Value,
        patient_scan: &str,
        product_scan: &str,
    ) -> impl Future<Output = Answer> + use<'a> {
        self.post(
            "/api/v1/infusions",
            Some(&clinic.clinician),
            json!({
                "dose_id": dose["id"],
                "patient_scan": patient_scan,
                "product_scan": product_scan,
                "started_at": rfc3339(self.clock.now()),
            }),
        )
    }

    /// Scans both labels, infuses the whole prepared volume, completes.
    pub async fn infuse(&self, clinic: &Clinic, patient: &Value, dose: &Value) -> Value {
        let started = self
            .start_infusion(
                clinic,
                dose,
                patient["scan_payload"].as_str().unwrap(),
                dose["scan_payload"].as_str().unwrap(),
            )
            .await
            .expect(201);
        self.post(
            &format!("/api/v1/infusions/{}/complete", id(&started)),
            Some(&clinic.clinician),
            json!({
                "ended_at": rfc3339(self.clock.now()),
                "volume_infused_ul": dose["volume_ul"],
            }),
        )
        .await
        .expect(200)
    }
}

/// The signature of a staff member for `meaning`.
pub fn signature(meaning: &str) -> Value {
    json!({ "password": STAFF_PASSWORD, "meaning": meaning })
}
