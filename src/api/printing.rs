//! The site's network label printers: which there are, and sending a label
//! (a vial's, a lot's sheet or box label, a dose bag's, a wristband, a
//! donation's DIN label) to one. Every label sent is recorded as issued,
//! as `…/label-issues` records vial labels, and only once the printer has
//! taken them.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, Authorized};
use crate::api::labels::LabelIssueView;
use crate::domain::printer::PrintKind;
use crate::error::{AppResult, ErrorBody};
use crate::services::printing::{self, PrintJob, Printed};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_printers))
        .routes(routes!(print))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PrinterView {
    /// What to send labels to: `POST /printers/{name}/print`.
    pub name: String,
    pub host: String,
    pub port: u16,
    /// `host:port`, as the printer's own settings show it.
    pub address: String,
}

/// The label printers configured (`CELLTRAIL_PRINTERS`), in the order
/// named; empty when there are none.
#[utoipa::path(get, path = "/printers", tag = "printing", security(("bearer" = [])),
    responses((status = 200, description = "The printers", body = Vec<PrinterView>),
        (status = 403, body = ErrorBody)))]
async fn list_printers(
    State(state): State<AppState>,
    _auth: Authorized,
) -> ApiJson<Vec<PrinterView>> {
    ApiJson(
        printing::printers(&state)
            .iter()
            .map(|p| PrinterView {
                name: p.name.clone(),
                host: p.host.clone(),
                port: p.port,
                address: p.address(),
            })
            .collect(),
    )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrintRequest {
    pub kind: PrintKind,
    /// The vial (`vial`), lot (`lot_sheet`, `lot`), dose (`dose`), patient
    /// (`wristband`) or donation (`donation`).
    pub id: Uuid,
    /// Copies of each label, 1 to 10 (default 1).
    #[serde(default = "one")]
    pub copies: i32,
    /// Why; required for a reprint (the label was issued before).
    pub reason: Option<String>,
}

fn one() -> i32 {
    1
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PrintedView {
    pub printer: String,
    pub address: String,
    pub kind: PrintKind,
    /// Labels the printer took, copies included.
    pub labels_sent: usize,
    /// The issue recorded, for every kind: vial labels (`vial`,
    /// `lot_sheet`) with each vial's count; a DIN label (subject_kind
    /// `donation`), a box label (`lot`), a dose bag's label (`dose`) and a
    /// wristband (`patient`) with no vials.
    pub issue: LabelIssueView,
}

impl From<Printed> for PrintedView {
    fn from(printed: Printed) -> Self {
        PrintedView {
            printer: printed.printer,
            address: printed.address,
            kind: printed.kind,
            labels_sent: printed.labels_sent,
            issue: printed.issue.into(),
        }
    }
}

/// Sends labels to the printer as ZPL over raw TCP, and records every
/// label printed as issued once the printer has taken every byte: `vial`
/// and `lot_sheet` (lab) as `…/label-issues` records them, `donation` (lab:
/// the DIN label) as `donation.label_issued`, `lot` (the box label) as
/// `lot.box_label_issued`, `dose` (the bag's label) as `dose.label_issued`
/// and `wristband` as `patient.wristband_issued` (these three: any staff),
/// `storage_box` (lab: a storage box's label) as `storage.box_label_issued`.
/// A reprint of any of them needs a reason.
#[utoipa::path(post, path = "/printers/{name}/print", tag = "printing", security(("bearer" = [])),
    params(("name" = String, Path, description = "The printer's name")), request_body = PrintRequest,
    responses((status = 201, description = "Created: sent to the printer, and the issue recorded", body = PrintedView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "unknown_printer (details: known_printers), or not_found: no such vial, lot, dose, patient, donation or storage box"),
        (status = 409, body = ErrorBody, description = "printer_unreachable: the printer did not answer or take the labels; nothing was recorded"),
        (status = 422, body = ErrorBody, description = "reprint_reason_required (the label was issued before), invalid_field (copies, a vial whose life is over, a lot with no vials to label), label_unprintable, not_a_box (a tank or rack given as a storage_box)")))]
async fn print(
    State(state): State<AppState>,
    auth: Authorized,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<PrintRequest>,
) -> AppResult<(StatusCode, ApiJson<PrintedView>)> {
    let job = PrintJob {
        kind: body.kind,
        id: body.id,
        copies: body.copies,
        reason: body.reason.as_deref(),
    };
    let printed = printing::print(&state, &auth.user.actor(), &name, job).await?;
    Ok((StatusCode::CREATED, ApiJson(printed.into())))
}
