//! Trace: a lot to every recipient, a patient back to every donor, a donor
//! forward; as JSON, or with `?format=csv` as one flat table.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::csv::Csv;
use crate::api::extract::{ApiJson, ApiPath, ApiQuery, Authorized};
use crate::domain::zone::SiteZone;
use crate::error::{AppResult, ErrorBody};
use crate::services::demo_mark::is_demo;
use crate::services::trace::{self, DonorTrace, LotTrace, PatientTrace, VialNode};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(trace_lot))
        .routes(routes!(trace_patient))
        .routes(routes!(trace_donor))
}

#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TraceFormat {
    #[default]
    Json,
    Csv,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `json` (default) or `csv`.
    #[param(inline)]
    pub format: Option<TraceFormat>,
}

/// The dose columns of a vial's row. Times are for people: the site's
/// local time with its offset (`2026-11-25T17:40:00+08:00`).
struct DoseFields<'a> {
    code: &'a str,
    status: &'a str,
    infusion_number: String,
    started: String,
    infusion_status: &'a str,
    /// `late entry: <reason>` for an infusion recorded after the fact.
    late_entry: String,
}

fn dose_fields<'a>(
    doses: &'a [trace::DoseNode],
    vial: &VialNode,
    zone: SiteZone,
) -> DoseFields<'a> {
    match vial
        .dose_id
        .and_then(|id| doses.iter().find(|d| d.id == id))
    {
        Some(d) => DoseFields {
            code: d.code.as_str(),
            status: d.status.as_str(),
            infusion_number: d.infusion_number.to_string(),
            started: d
                .infusion
                .as_ref()
                .map(|i| zone.iso(i.started_at))
                .unwrap_or_default(),
            infusion_status: d.infusion.as_ref().map_or("", |i| i.status.as_str()),
            late_entry: match &d.infusion {
                Some(i) if i.late_entry => format!(
                    "late entry: {}",
                    i.late_reason.as_deref().unwrap_or_default()
                ),
                _ => String::new(),
            },
        },
        None => DoseFields {
            code: "",
            status: "",
            infusion_number: String::new(),
            started: String::new(),
            infusion_status: "",
            late_entry: String::new(),
        },
    }
}

fn lot_csv(demo: bool, t: &LotTrace, zone: SiteZone) -> Csv {
    let mut csv = Csv::marked(
        &[
            "lot_code",
            "lot_status",
            "product_code",
            "din",
            "donor_code",
            "donor_eligibility",
            "vial_code",
            "vial_status",
            "location",
            "dose_code",
            "dose_status",
            "subject_code",
            "infusion_number",
            "infusion_started_at",
            "infusion_status",
            "late_entry",
            "consent_withdrawal",
            "subject_withdrawn_at",
        ],
        demo,
    );
    let lot_withdrawal = withdrawal_word(t.consent_withdrawal.as_ref(), zone);
    for v in &t.vials {
        let f = dose_fields(&t.doses, v, zone);
        let withdrawn = v
            .subject_code
            .as_deref()
            .and_then(|s| t.recipients.iter().find(|r| r.subject_code == s))
            .and_then(|r| r.withdrawn_at)
            .map(|at| zone.iso(at))
            .unwrap_or_default();
        csv.row([
            t.lot.code.as_str(),
            t.lot.status.as_str(),
            &t.lot.product_code,
            &t.donation.din_display,
            &t.donor.code,
            t.donor.eligibility.as_str(),
            &v.code,
            v.status.as_str(),
            v.location.as_deref().unwrap_or(""),
            f.code,
            f.status,
            v.subject_code.as_deref().unwrap_or(""),
            &f.infusion_number,
            &f.started,
            f.infusion_status,
            &f.late_entry,
            &lot_withdrawal,
            &withdrawn,
        ]);
    }
    csv
}

/// A lot's consent-withdrawal hold in words for the CSV: `on hold since
/// <time>`, `released <time>` or `discarded <time>`; empty when the donor
/// did not withdraw.
fn withdrawal_word(
    node: Option<&crate::services::withdrawals::trace::LotWithdrawalNode>,
    zone: SiteZone,
) -> String {
    match node {
        None => String::new(),
        Some(n) => match (&n.decision, n.decided_at) {
            (Some(decision), Some(at)) => format!("{decision} {}", zone.iso(at)),
            _ => format!("on hold since {}", zone.iso(n.withdrawn_at)),
        },
    }
}

fn patient_csv(demo: bool, t: &PatientTrace, zone: SiteZone) -> Csv {
    let mut csv = Csv::marked(
        &[
            "subject_code",
            "infusion_number",
            "infusion_started_at",
            "infusion_status",
            "late_entry",
            "dose_code",
            "dose_status",
            "vial_code",
            "lot_code",
            "lot_status",
            "din",
            "donor_code",
            "donor_eligibility",
            "withdrawn_at",
            "withdrawal_reason",
        ],
        demo,
    );
    let (withdrawn_at, withdrawal_reason) = match &t.withdrawal {
        Some(w) => (zone.iso(w.withdrawn_at), w.reason.clone()),
        None => (String::new(), String::new()),
    };
    for v in &t.vials {
        let f = dose_fields(&t.doses, v, zone);
        let lot = t.lots.iter().find(|l| l.id == v.lot_id);
        let donation = lot.and_then(|l| t.donations.iter().find(|d| d.id == l.donation_id));
        let donor = donation.and_then(|d| t.donors.iter().find(|o| o.id == d.donor_id));
        csv.row([
            t.subject_code.as_str(),
            &f.infusion_number,
            &f.started,
            f.infusion_status,
            &f.late_entry,
            f.code,
            f.status,
            &v.code,
            lot.map_or("", |l| l.code.as_str()),
            lot.map_or("", |l| l.status.as_str()),
            donation.map_or("", |d| d.din_display.as_str()),
            donor.map_or("", |d| d.code.as_str()),
            donor.map_or("", |d| d.eligibility.as_str()),
            &withdrawn_at,
            &withdrawal_reason,
        ]);
    }
    csv
}

fn donor_csv(demo: bool, t: &DonorTrace, zone: SiteZone) -> Csv {
    let mut csv = Csv::marked(
        &[
            "donor_code",
            "donor_eligibility",
            "din",
            "lot_code",
            "lot_status",
            "vial_code",
            "vial_status",
            "location",
            "dose_code",
            "subject_code",
            "infusion_number",
            "infusion_started_at",
            "late_entry",
            "consent_withdrawn_at",
            "lot_withdrawal",
        ],
        demo,
    );
    let consent_withdrawn_at = t
        .consent_withdrawal
        .as_ref()
        .map(|w| zone.iso(w.withdrawn_at))
        .unwrap_or_default();
    for v in &t.vials {
        let f = dose_fields(&t.doses, v, zone);
        let lot = t.lots.iter().find(|l| l.id == v.lot_id);
        let donation = lot.and_then(|l| t.donations.iter().find(|d| d.id == l.donation_id));
        let lot_withdrawal = withdrawal_word(
            t.consent_withdrawal
                .as_ref()
                .and_then(|w| w.lots.iter().find(|h| h.lot_id == v.lot_id)),
            zone,
        );
        csv.row([
            t.donor.code.as_str(),
            t.donor.eligibility.as_str(),
            donation.map_or("", |d| d.din_display.as_str()),
            lot.map_or("", |l| l.code.as_str()),
            lot.map_or("", |l| l.status.as_str()),
            &v.code,
            v.status.as_str(),
            v.location.as_deref().unwrap_or(""),
            f.code,
            v.subject_code.as_deref().unwrap_or(""),
            &f.infusion_number,
            &f.started,
            &f.late_entry,
            &consent_withdrawn_at,
            &lot_withdrawal,
        ]);
    }
    csv
}

/// A lot: donor, donation, QC, every vial with status and location or fate,
/// every dose, infusion and recipient, adverse events.
#[utoipa::path(get, path = "/trace/lots/{id}", tag = "trace", security(("bearer" = [])),
    params(("id" = Uuid, Path), FormatQuery),
    responses((status = 200, description = "The lot traced: JSON by default, or with `format=csv` one flat CSV table (times in the site's zone)",
            content((LotTrace = "application/json"), (String = "text/csv"))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn trace_lot(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<FormatQuery>,
) -> AppResult<Response> {
    let t = trace::lot(&state, id).await?;
    Ok(match query.format.unwrap_or_default() {
        TraceFormat::Json => ApiJson(t).into_response(),
        TraceFormat::Csv => lot_csv(is_demo(&state).await?, &t, state.settings.timezone)
            .finish(&format!("trace-{}", t.lot.code))
            .into_response(),
    })
}

/// A patient: every dose and infusion, back through vials and lots to
/// donations and donors (with their eligibility).
#[utoipa::path(get, path = "/trace/patients/{id}", tag = "trace", security(("bearer" = [])),
    params(("id" = Uuid, Path), FormatQuery),
    responses((status = 200, description = "The patient traced: JSON by default, or with `format=csv` one flat CSV table (times in the site's zone)",
            content((PatientTrace = "application/json"), (String = "text/csv"))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn trace_patient(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<FormatQuery>,
) -> AppResult<Response> {
    let t = trace::patient(&state, id).await?;
    Ok(match query.format.unwrap_or_default() {
        TraceFormat::Json => ApiJson(t).into_response(),
        TraceFormat::Csv => patient_csv(is_demo(&state).await?, &t, state.settings.timezone)
            .finish(&format!("trace-{}", t.subject_code))
            .into_response(),
    })
}

/// A donor: every donation, lot, vial and recipient.
#[utoipa::path(get, path = "/trace/donors/{id}", tag = "trace", security(("bearer" = [])),
    params(("id" = Uuid, Path), FormatQuery),
    responses((status = 200, description = "The donor traced: JSON by default, or with `format=csv` one flat CSV table (times in the site's zone)",
            content((DonorTrace = "application/json"), (String = "text/csv"))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn trace_donor(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<FormatQuery>,
) -> AppResult<Response> {
    let t = trace::donor(&state, id).await?;
    Ok(match query.format.unwrap_or_default() {
        TraceFormat::Json => ApiJson(t).into_response(),
        TraceFormat::Csv => donor_csv(is_demo(&state).await?, &t, state.settings.timezone)
            .finish(&format!("trace-{}", t.donor.code))
            .into_response(),
    })
}
