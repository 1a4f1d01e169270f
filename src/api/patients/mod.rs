//! Patients: enrolment (clinician) and the record.
//!
//! Its parts: this module enrols, lists and shows patients; `weights`
//! records and voids weights (clinician); `assessments` records PASI and
//! DLQI scores (clinician); `adverse_events` records adverse events after
//! an infusion and lists them (clinician).

mod adverse_events;
mod assessments;
mod weights;

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, ApiQuery, Authorized, DecimalInput, roles};
use crate::api::paging::{page_of, page_request};
use crate::domain::dose::WeightUnit;
use crate::domain::lifecycle::{DoseStatus, InfusionStatus};
use crate::domain::patient::{Sex, parse_tenths};
use crate::domain::protocol::Protocol;
use crate::domain::scan::{ScanKind, payload};
use crate::domain::zone::SiteZone;
use crate::entities::{assessment, dose, infusion, patient};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::services;
use crate::services::patients::{self, NewPatient, PatientRecord};
use crate::services::protocol;
use crate::state::AppState;

pub use adverse_events::{AdverseEventView, CorrectAdverseEvent};
pub use assessments::{AssessmentView, RecordAssessment, tenths_number};
pub use weights::{RecordWeight, VoidWeight, WeightView, kilograms};

/// The patient's infusion window on the site's calendar.
pub struct Window {
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    pub closes_at: Option<DateTime<Utc>>,
    pub next_earliest: Option<NaiveDate>,
}

impl Window {
    pub fn of(rules: &Protocol, zone: SiteZone, starts: &[DateTime<Utc>]) -> Window {
        let first_day = starts.iter().min().map(|t| zone.date(*t));
        let last_day = first_day.map(|d| d + Duration::days(i64::from(rules.window_days - 1)));
        let more = (starts.len() as i64) < i64::from(rules.infusions);
        Window {
            first_day,
            last_day,
            closes_at: last_day.map(|d| zone.start_of(d + Duration::days(1))),
            next_earliest: starts
                .iter()
                .max()
                .filter(|_| more)
                .map(|t| zone.date(*t) + Duration::days(i64::from(rules.min_interval_days))),
        }
    }
}

page_of!(PatientPage => PatientView);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enrol, list_patients))
        .routes(routes!(get_patient))
        .merge(weights::router())
        .merge(assessments::router())
        .merge(adverse_events::router())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PatientView {
    pub id: Uuid,
    /// e.g. `PV-007`: how the product side names the patient.
    pub subject_code: String,
    /// The ISBT 128 Chain of Identity identifier (data structure 040): its
    /// 15 data characters, `CH`, the enrolling site's facility
    /// identification number, the year of issue and the sequence. Null only
    /// for a patient enrolled before identifiers existed, until the
    /// service next starts.
    #[schema(example = "CHA999926000001")]
    pub coi: Option<String>,
    /// As printed for people, with the boxed ISO 7064 MOD 37-2 check
    /// character last (typed back with it, a wrong one is refused).
    #[schema(example = "CH A9999 26 000001 *")]
    pub coi_display: Option<String>,
    pub coi_check_character: Option<String>,
    /// What the wristband's QR encodes: `CT1:P:<subject code>`.
    pub scan_payload: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub enrolled_at: DateTime<Utc>,
    /// PASI at enrolment, one decimal.
    #[schema(value_type = f64)]
    pub baseline_pasi: serde_json::Number,
    pub criteria: BTreeMap<String, bool>,
    pub protocol_version: i32,
    /// Latest measured first.
    pub weights: Vec<WeightView>,
    pub doses: Vec<DoseSummary>,
    pub infusions: Vec<InfusionSummary>,
    pub adverse_events: Vec<AdverseEventView>,
    /// PASI and DLQI assessments, oldest first.
    pub assessments: Vec<AssessmentView>,
    /// Baseline PASI: the enrolment PASI unless one was assessed at or
    /// before the first infusion.
    #[schema(value_type = f64)]
    pub baseline_pasi_current: serde_json::Number,
    /// Infusions started so far, and the protocol's number.
    pub infusions_given: i32,
    pub infusions_total: i32,
    /// When the protocol's window closes: the end of Day `window_days`
    /// (Day 1 is the first infusion's date in the site's time zone).
    pub window_closes_at: Option<DateTime<Utc>>,
    /// Day 1 and the last day an infusion may be given (site-local dates).
    pub window_first_day: Option<NaiveDate>,
    pub window_last_day: Option<NaiveDate>,
    /// The earliest date the next infusion may be given (the protocol's
    /// days between infusions), while more are allowed.
    pub next_infusion_earliest: Option<NaiveDate>,
    /// The weight taken at enrolment, and the height.
    pub enrolment_weight: Option<EnrolmentWeightView>,
    pub height_cm: Option<String>,
    /// The site that enrolled the patient; their doses are made there.
    pub site_id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentWeightView {
    pub weight_g: i64,
    pub value: String,
    pub unit: WeightUnit,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DoseSummary {
    pub id: Uuid,
    pub code: String,
    pub infusion_number: i32,
    pub status: DoseStatus,
    pub target_cells: i64,
    pub volume_ul: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl From<dose::Model> for DoseSummary {
    fn from(d: dose::Model) -> Self {
        DoseSummary {
            id: d.id,
            code: d.code.into(),
            infusion_number: d.infusion_number,
            status: d.status,
            target_cells: d.target_cells.get(),
            volume_ul: d.volume_ul.map(i64::from),
            created_at: d.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InfusionSummary {
    pub id: Uuid,
    pub dose_id: Uuid,
    pub infusion_number: i32,
    pub status: InfusionStatus,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub volume_infused_ul: Option<i64>,
    /// Recorded after the fact (an outage), signed.
    pub late_entry: bool,
    pub late_reason: Option<String>,
}

impl From<infusion::Model> for InfusionSummary {
    fn from(i: infusion::Model) -> Self {
        InfusionSummary {
            id: i.id,
            dose_id: i.dose_id,
            infusion_number: i.infusion_number,
            status: i.status,
            started_at: i.started_at,
            ended_at: i.ended_at,
            volume_infused_ul: i.volume_infused_ul.map(i64::from),
            late_entry: i.late_entry,
            late_reason: i.late_reason,
        }
    }
}

fn criteria_of(patient: &patient::Model) -> BTreeMap<String, bool> {
    serde_json::from_str(&patient.criteria).unwrap_or_default()
}

impl PatientView {
    fn build(
        record: PatientRecord,
        scored: Vec<assessment::Model>,
        rules: &Protocol,
        zone: SiteZone,
    ) -> Self {
        let PatientRecord {
            patient,
            weights,
            doses,
            infusions,
            adverse_events,
        } = record;
        let starts: Vec<DateTime<Utc>> = infusions.iter().map(|i| i.started_at).collect();
        let first = starts.iter().min().copied();
        let window = Window::of(rules, zone, &starts);
        let baseline = services::assessments::baseline(&patient, &scored, first);
        PatientView {
            baseline_pasi_current: tenths_number(baseline.tenths),
            assessments: scored.into_iter().map(AssessmentView::from).collect(),
            scan_payload: payload(ScanKind::Patient, &patient.subject_code),
            baseline_pasi: tenths_number(patient.baseline_pasi_tenths),
            criteria: criteria_of(&patient),
            enrolment_weight: patient
                .enrolment_weight_g
                .zip(patient.enrolment_weight_unit)
                .map(|(g, unit)| EnrolmentWeightView {
                    weight_g: g.get(),
                    value: patient.enrolment_weight_value.clone().unwrap_or_default(),
                    unit,
                }),
            height_cm: patient
                .height_mm
                .map(|mm| format!("{}.{}", mm / 10, mm % 10)),
            site_id: patient.site_id,
            coi_display: patient.coi.as_deref().map(|c| {
                let (display, check) = crate::domain::coi::display_parts(c);
                format!("{display} {check}")
            }),
            coi_check_character: patient
                .coi
                .as_deref()
                .map(|c| crate::domain::coi::display_parts(c).1),
            coi: patient.coi.clone(),
            id: patient.id,
            subject_code: patient.subject_code.into(),
            birth_date: patient.birth_date,
            sex: patient.sex,
            enrolled_at: patient.enrolled_at,
            protocol_version: patient.protocol_version,
            weights: weights.into_iter().map(WeightView::from).collect(),
            doses: doses.into_iter().map(DoseSummary::from).collect(),
            infusions_given: i32::try_from(infusions.len()).unwrap_or(i32::MAX),
            infusions: infusions.into_iter().map(InfusionSummary::from).collect(),
            adverse_events: adverse_events
                .into_iter()
                .map(AdverseEventView::from)
                .collect(),
            infusions_total: rules.infusions,
            window_closes_at: window.closes_at,
            window_first_day: window.first_day,
            window_last_day: window.last_day,
            next_infusion_earliest: window.next_earliest,
        }
    }
}

async fn view(state: &AppState, record: PatientRecord) -> AppResult<PatientView> {
    let current = protocol::current(state.db.conn()).await?;
    let scored = services::assessments::of_patient(state.db.conn(), record.patient.id).await?;
    Ok(PatientView::build(
        record,
        scored,
        &current.protocol,
        state.settings.timezone,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enrol {
    /// e.g. `PV-007`.
    pub subject_code: String,
    pub birth_date: NaiveDate,
    /// `female` or `male`.
    pub sex: String,
    pub enrolled_at: DateTime<Utc>,
    /// PASI at baseline, at most one decimal (0-72).
    pub baseline_pasi: DecimalInput,
    /// Every criterion of the protocol's checklist, by key: inclusion
    /// criteria answered `true`, exclusion criteria `false`.
    pub criteria: BTreeMap<String, bool>,
    /// The weight at enrolment, with its unit: the first weight entry is
    /// compared with it (the lb/kg guard).
    pub weight: Option<WeightInput>,
    /// Height in centimetres, at most one decimal (for the body-mass
    /// index check of every weight).
    pub height_cm: Option<DecimalInput>,
    /// Confirms a weight the protocol asks to confirm: with the height, a
    /// body-mass index outside its range (154 typed in kg for a patient of
    /// 70 kg). Without it such a weight is refused with
    /// `weight_change_unconfirmed` (`details.concerns`, and
    /// `details.likely_slip` asking whether it was typed in the other unit).
    #[serde(default)]
    pub confirm_weight: bool,
    /// The site enrolling: one of the caller's, required when they work at
    /// several (`422 site_required`). The patient's doses are made there.
    pub site_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightInput {
    pub value: DecimalInput,
    /// `kg` or `lb`.
    pub unit: WeightUnit,
}

/// Enrols a patient after checking the protocol's eligibility (clinician).
#[utoipa::path(post, path = "/patients", tag = "patients", security(("bearer" = [])),
    request_body = Enrol,
    responses((status = 201, description = "Created: the patient", body = PatientView), (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 409, body = ErrorBody, description = "subject_code_taken"),
        (status = 422, body = ErrorBody, description = "not_eligible, invalid_field, site_required, implausible_weight, weight_change_unconfirmed (an enrolment weight giving a body-mass index outside the protocol's range, not confirmed with confirm_weight)")))]
async fn enrol(
    State(state): State<AppState>,
    auth: Authorized<roles::Clinician>,
    ApiJson(body): ApiJson<Enrol>,
) -> AppResult<(StatusCode, ApiJson<PatientView>)> {
    let sex: Sex = patients::parse_sex(&body.sex)?;
    let pasi = parse_tenths(&body.baseline_pasi.text(), 720).ok_or_else(|| {
        AppError::invalid(
            "baseline_pasi",
            "a PASI from 0 to 72 with at most one decimal",
        )
    })?;
    let height_mm = match &body.height_cm {
        Some(cm) => Some(parse_tenths(&cm.text(), 2500).ok_or_else(|| {
            AppError::invalid(
                "height_cm",
                "a height from 50 to 250 cm, at most one decimal",
            )
        })?),
        None => None,
    };
    let weight_text = body.weight.as_ref().map(|w| (w.value.text(), w.unit));
    let record = patients::enrol_confirming(
        &state,
        &auth.user.actor(),
        NewPatient {
            subject_code: &body.subject_code,
            birth_date: body.birth_date,
            sex,
            enrolled_at: body.enrolled_at,
            baseline_pasi_tenths: pasi,
            criteria: body.criteria,
            weight: weight_text.as_ref().map(|(v, u)| (v.as_str(), *u)),
            height_mm,
            site_id: body.site_id,
        },
        body.confirm_weight,
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(view(&state, record).await?)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PatientList {
    /// A subject code, or the start of one; a scanned wristband works too;
    /// or a whole Chain of Identity identifier (`CHA999926000001`, spaced
    /// as printed, with or without its check character or the `&/` of
    /// its barcode), which finds its patient.
    pub q: Option<String>,
    /// Only this one of the caller's sites (`403 not_your_site` for a
    /// site they do not work at); by default every site they work at.
    pub site_id: Option<Uuid>,
    /// Items in the page: 1 to 500, default 50.
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
}

/// Enrolled patients by subject code, a page at a time: those at the
/// caller's sites.
#[utoipa::path(get, path = "/patients", tag = "patients", security(("bearer" = [])),
    params(PatientList),
    responses((status = 200, description = "A page of patients, by subject code", body = PatientPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "not_your_site"), (status = 404, body = ErrorBody, description = "not_found: site_id"),
        (status = 422, body = ErrorBody, description = "invalid_field: q, limit or cursor")))]
async fn list_patients(
    State(state): State<AppState>,
    auth: Authorized,
    ApiQuery(query): ApiQuery<PatientList>,
) -> AppResult<ApiJson<PatientPage>> {
    let sites =
        services::lists::SiteScope::of_user(&state, auth.user.user_id, query.site_id).await?;
    if let Some(coi) = coi_searched(query.q.as_deref())? {
        page_request(None, query.limit, query.cursor.as_deref())?;
        if let Some(found) = patients::coi::by_coi(state.db.conn(), &coi).await?
            && match &sites {
                services::lists::SiteScope::Everywhere => true,
                services::lists::SiteScope::Only(ids) => ids.contains(&found.site_id),
            }
        {
            let record = patients::record(state.db.conn(), found).await?;
            return Ok(ApiJson(PatientPage {
                items: vec![view(&state, record).await?],
                next_cursor: None,
            }));
        }
    }
    let page = page_request(query.q.as_deref(), query.limit, query.cursor.as_deref())?;
    let found = services::lists::patients(&state, &sites, &page).await?;
    let mut items = Vec::with_capacity(found.items.len());
    for record in found.items {
        items.push(view(&state, record).await?);
    }
    Ok(ApiJson(PatientPage {
        items,
        next_cursor: found.next_cursor,
    }))
}

/// A patient with weights, doses, infusions and adverse events so far.
#[utoipa::path(get, path = "/patients/{id}", tag = "patients", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The patient", body = PatientView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_patient(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<PatientView>> {
    let record = patients::get(&state, id).await?;
    Ok(ApiJson(view(&state, record).await?))
}

/// A search that is a whole Chain of Identity identifier. A wrong check
/// character is refused, as a DIN's is; anything else that is not an
/// identifier is searched as a subject code.
fn coi_searched(q: Option<&str>) -> AppResult<Option<crate::domain::coi::Coi>> {
    use crate::domain::coi::{Coi, CoiError};
    let Some(q) = q else {
        return Ok(None);
    };
    match Coi::parse_typed(q) {
        Ok(coi) => Ok(Some(coi)),
        Err(e @ CoiError::CheckCharacterMismatch { .. }) => Err(AppError::invalid("q", e)),
        Err(_) => Ok(None),
    }
}
