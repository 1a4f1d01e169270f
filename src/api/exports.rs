//! The sponsor's SDTM datasets as CSV (`services::exports::sdtm`): quality
//! and clinicians, for the patients of their sites.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::csv::Csv;
use crate::api::extract::{ApiQuery, Authorized, roles};
use crate::domain::sdtm::SdtmDomain;
use crate::error::{AppResult, ErrorBody};
use crate::services::demo_mark::is_demo;
use crate::services::exports::sdtm;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sdtm_dataset))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SdtmQuery {
    /// `EX` (exposure), `AE` (adverse events), `QS` (questionnaires) or
    /// `DS` (disposition: withdrawals from the trial).
    #[param(inline)]
    pub domain: SdtmDomain,
}

/// One SDTM dataset (SDTM IG 3.4 variable names, in order) as CSV: UTF-8,
/// RFC 4180, a header row of variable names; dates are ISO 8601 on the
/// clock of each patient's site, to the minute, without an offset. Rows of
/// the patients of the caller's sites only.
#[utoipa::path(get, path = "/exports/sdtm", tag = "exports", security(("bearer" = [])),
    params(SdtmQuery),
    responses((status = 200, description = "The dataset as CSV, offered as a download (`NCT02491658-EX-2026-03-02.csv`)",
            content((String = "text/csv"))),
        (status = 400, description = "An unknown domain", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn sdtm_dataset(
    State(state): State<AppState>,
    auth: Authorized<roles::TrialData>,
    ApiQuery(query): ApiQuery<SdtmQuery>,
) -> AppResult<Response> {
    let dataset = sdtm::export(&state, auth.user.user_id, query.domain).await?;
    let today = state.settings.timezone.date(state.clock.now());
    let mut csv = Csv::marked(dataset.columns, is_demo(&state).await?);
    for row in &dataset.rows {
        csv.row(row.iter().map(String::as_str));
    }
    Ok(csv
        .finish(&sdtm::file_name(&dataset, today))
        .into_response())
}
