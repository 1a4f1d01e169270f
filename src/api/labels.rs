//! Labels: vial, lot, donation (DIN), dose, wristband and storage box
//! labels as PNG, SVG, ZPL and PDF (a page the label's size), the lot's
//! printable PDF sheet, and recording labels issued for printing.
//! Rendering is read-only and runs off the async workers; issuing is a
//! ledgered change.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, Authorized, roles};
use crate::api::openapi::FileBytes;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::labels::{Format, LabelData};
use crate::services::labels::{self, LabelIssue};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(vial_png))
        .routes(routes!(vial_svg))
        .routes(routes!(vial_zpl))
        .routes(routes!(vial_pdf))
        .routes(routes!(lot_png))
        .routes(routes!(lot_svg))
        .routes(routes!(lot_zpl))
        .routes(routes!(lot_pdf))
        .routes(routes!(lot_sheet))
        .routes(routes!(wristband_png))
        .routes(routes!(wristband_svg))
        .routes(routes!(wristband_zpl))
        .routes(routes!(wristband_pdf))
        .routes(routes!(dose_png))
        .routes(routes!(dose_svg))
        .routes(routes!(dose_zpl))
        .routes(routes!(dose_pdf))
        .routes(routes!(donation_png))
        .routes(routes!(donation_svg))
        .routes(routes!(donation_zpl))
        .routes(routes!(donation_pdf))
        .routes(routes!(box_png))
        .routes(routes!(box_svg))
        .routes(routes!(box_zpl))
        .routes(routes!(box_pdf))
        .routes(routes!(issue_vial_labels))
        .routes(routes!(issue_lot_labels))
}

/// A rendered label file.
pub struct LabelFile {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub name: String,
}

impl IntoResponse for LabelFile {
    fn into_response(self) -> Response {
        let disposition = format!(
            "inline; filename=\"{}.{}\"",
            self.name,
            self.format.extension()
        );
        let mut response = self.bytes.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.format.content_type()),
        );
        if let Ok(value) = HeaderValue::from_str(&disposition) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
        response
    }
}

/// Renders on a blocking thread: a sheet of a hundred labels is tens of
/// milliseconds of CPU that must not stall other requests.
async fn render(state: &AppState, data: LabelData, format: Format) -> AppResult<LabelFile> {
    let labels = state.labels.clone();
    let name = data
        .payload
        .rsplit(':')
        .next()
        .unwrap_or("label")
        .to_owned();
    let bytes = tokio::task::spawn_blocking(move || labels.render(&data, format))
        .await
        .map_err(AppError::internal)??;
    Ok(LabelFile {
        bytes,
        format,
        name,
    })
}

macro_rules! label_route {
    ($name:ident, $path:literal, $loader:path, $format:expr, $content:literal, $doc:literal) => {
        label_route!(
            $name,
            $path,
            $loader,
            $format,
            $content,
            $doc,
            "label_unprintable: a ZPL label with a character a Zebra's resident font cannot print"
        );
    };
    ($name:ident, $path:literal, $loader:path, $format:expr, $content:literal, $doc:literal, $unprocessable:literal) => {
        #[doc = $doc]
        #[utoipa::path(get, path = $path, tag = "labels", security(("bearer" = [])),
                    params(("id" = Uuid, Path)),
                    responses((status = 200, description = "The label", content_type = $content, body = inline(FileBytes)),
                        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
                        (status = 422, body = ErrorBody, description = $unprocessable)))]
        async fn $name(
            State(state): State<AppState>,
            _auth: Authorized,
            ApiPath(id): ApiPath<Uuid>,
        ) -> AppResult<LabelFile> {
            let data = $loader(&state, id).await?;
            render(&state, data, $format).await
        }
    };
}

label_route!(
    vial_png,
    "/vials/{id}/label.png",
    labels::vial_label,
    Format::Png,
    "image/png",
    "The vial's label as PNG at the layout's resolution; its QR decodes to the vial's `scan_payload`."
);
label_route!(
    vial_svg,
    "/vials/{id}/label.svg",
    labels::vial_label,
    Format::Svg,
    "image/svg+xml",
    "The vial's label as SVG (vectors, text as text)."
);
label_route!(
    vial_zpl,
    "/vials/{id}/label.zpl",
    labels::vial_label,
    Format::Zpl,
    "application/zpl",
    "The vial's label as ZPL II for Zebra printers."
);
label_route!(
    vial_pdf,
    "/vials/{id}/label.pdf",
    labels::vial_label,
    Format::Pdf,
    "application/pdf",
    "The vial's label as PDF: one page the label's size (2 × 1 in on the shipped layout), the QR as vectors, the text searchable."
);
label_route!(
    donation_png,
    "/donations/{id}/label.png",
    labels::donation_label,
    Format::Png,
    "image/png",
    "The donation's DIN label as PNG: the DIN with its boxed check character; its QR decodes to the DIN with its check character (no personal data)."
);
label_route!(
    donation_svg,
    "/donations/{id}/label.svg",
    labels::donation_label,
    Format::Svg,
    "image/svg+xml",
    "The donation's DIN label as SVG (vectors, text as text)."
);
label_route!(
    donation_zpl,
    "/donations/{id}/label.zpl",
    labels::donation_label,
    Format::Zpl,
    "application/zpl",
    "The donation's DIN label as ZPL II for Zebra printers."
);
label_route!(
    donation_pdf,
    "/donations/{id}/label.pdf",
    labels::donation_label,
    Format::Pdf,
    "application/pdf",
    "The donation's DIN label as PDF: one page the label's size."
);
label_route!(
    lot_png,
    "/lots/{id}/label.png",
    labels::lot_label,
    Format::Png,
    "image/png",
    "The lot (box) label as PNG."
);
label_route!(
    lot_svg,
    "/lots/{id}/label.svg",
    labels::lot_label,
    Format::Svg,
    "image/svg+xml",
    "The lot (box) label as SVG."
);
label_route!(
    lot_zpl,
    "/lots/{id}/label.zpl",
    labels::lot_label,
    Format::Zpl,
    "application/zpl",
    "The lot (box) label as ZPL II."
);
label_route!(
    lot_pdf,
    "/lots/{id}/label.pdf",
    labels::lot_label,
    Format::Pdf,
    "application/pdf",
    "The lot (box) label as PDF: one page the label's size (the lot's sheet of vial labels is `labels.pdf`)."
);

label_route!(
    wristband_png,
    "/patients/{id}/wristband.png",
    labels::wristband_label,
    Format::Png,
    "image/png",
    "The patient's wristband: QR of the subject code's payload, the subject code and the birth date as text."
);
label_route!(
    wristband_svg,
    "/patients/{id}/wristband.svg",
    labels::wristband_label,
    Format::Svg,
    "image/svg+xml",
    "The patient's wristband as SVG."
);
label_route!(
    wristband_zpl,
    "/patients/{id}/wristband.zpl",
    labels::wristband_label,
    Format::Zpl,
    "application/zpl",
    "The patient's wristband as ZPL II."
);
label_route!(
    wristband_pdf,
    "/patients/{id}/wristband.pdf",
    labels::wristband_label,
    Format::Pdf,
    "application/pdf",
    "The patient's wristband as PDF: one page the wristband insert's size."
);
label_route!(
    dose_png,
    "/doses/{id}/label.png",
    labels::dose_label,
    Format::Png,
    "image/png",
    "The dose bag's label: subject code, infusion number, cells, volume, lot and vial codes, use-by time, QR of the dose's payload."
);
label_route!(
    dose_svg,
    "/doses/{id}/label.svg",
    labels::dose_label,
    Format::Svg,
    "image/svg+xml",
    "The dose bag's label as SVG."
);
label_route!(
    dose_zpl,
    "/doses/{id}/label.zpl",
    labels::dose_label,
    Format::Zpl,
    "application/zpl",
    "The dose bag's label as ZPL II."
);
label_route!(
    dose_pdf,
    "/doses/{id}/label.pdf",
    labels::dose_label,
    Format::Pdf,
    "application/pdf",
    "The dose bag's label as PDF: one page the label's size."
);

label_route!(
    box_png,
    "/storage/{id}/label.png",
    labels::box_label,
    Format::Png,
    "image/png",
    "A storage box's side label as PNG: QR of the box's payload (`CT1:B:<id>`), the box's path and its grid; nothing about the vials inside.",
    "not_a_box: the unit is a tank or a rack (only boxes have labels)"
);
label_route!(
    box_svg,
    "/storage/{id}/label.svg",
    labels::box_label,
    Format::Svg,
    "image/svg+xml",
    "A storage box's side label as SVG.",
    "not_a_box: the unit is a tank or a rack (only boxes have labels)"
);
label_route!(
    box_zpl,
    "/storage/{id}/label.zpl",
    labels::box_label,
    Format::Zpl,
    "application/zpl",
    "A storage box's side label as ZPL II (the path's › printed as >).",
    "not_a_box: the unit is a tank or a rack; label_unprintable: a unit name with a character a Zebra's resident font cannot print"
);
label_route!(
    box_pdf,
    "/storage/{id}/label.pdf",
    labels::box_label,
    Format::Pdf,
    "application/pdf",
    "A storage box's side label as PDF: one page the label's size (2 × 1 in on the shipped layout).",
    "not_a_box: the unit is a tank or a rack (only boxes have labels)"
);

/// A printable PDF sheet of every vial label of the lot (vials infused or
/// discarded excepted), in vial-code order, laid out by `labels/sheet.toml`.
#[utoipa::path(get, path = "/lots/{id}/labels.pdf", tag = "labels", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The sheet", content_type = "application/pdf", body = inline(FileBytes)),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn lot_sheet(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<LabelFile> {
    let (lot, data) = labels::lot_sheet(&state, id).await?;
    let renderer = state.labels.clone();
    let bytes = tokio::task::spawn_blocking(move || renderer.sheet(&data))
        .await
        .map_err(AppError::internal)??;
    Ok(LabelFile {
        bytes,
        format: Format::Pdf,
        name: format!("{}-labels", lot.code),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueLabels {
    /// Labels per vial, 1 to 10.
    pub count: i32,
    /// Why; required when labels were issued before (a reprint).
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LabelIssueView {
    /// `vial` or `lot` (vial labels, or a lot's box label), `donation`
    /// (DIN labels), `dose` (a bag's label) or `patient` (a wristband).
    pub subject_kind: &'static str,
    pub subject_id: Uuid,
    /// Labels per vial in this issue.
    pub count: i32,
    /// Labels had been issued before.
    pub reprint: bool,
    pub reason: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub issued_by: String,
    /// Each vial labelled, with its labels issued so far.
    pub vials: Vec<LabelledVial>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LabelledVial {
    pub id: Uuid,
    pub code: String,
    pub labels_issued: i32,
}

impl From<LabelIssue> for LabelIssueView {
    fn from(issue: LabelIssue) -> Self {
        LabelIssueView {
            subject_kind: issue.subject_kind,
            subject_id: issue.subject_id,
            count: issue.count,
            reprint: issue.reprint,
            reason: issue.reason,
            issued_at: issue.issued_at,
            issued_by: issue.issued_by,
            vials: issue
                .vials
                .into_iter()
                .map(|(id, code, labels_issued)| LabelledVial {
                    id,
                    code,
                    labels_issued,
                })
                .collect(),
        }
    }
}

/// Records labels issued for printing one vial (lab); a reprint needs a reason.
#[utoipa::path(post, path = "/vials/{id}/label-issues", tag = "labels", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = IssueLabels,
    responses((status = 201, description = "Created: the labels issued, as recorded", body = LabelIssueView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "reprint_reason_required, invalid_field")))]
async fn issue_vial_labels(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<IssueLabels>,
) -> AppResult<(StatusCode, ApiJson<LabelIssueView>)> {
    let issue = labels::issue_for_vial(
        &state,
        &auth.user.actor(),
        id,
        body.count,
        body.reason.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(issue.into())))
}

/// Records `count` copies of the lot's label sheet issued for printing
/// (lab): `count` labels for each vial on it. A reprint needs a reason.
#[utoipa::path(post, path = "/lots/{id}/label-issues", tag = "labels", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = IssueLabels,
    responses((status = 201, description = "Created: the labels issued, as recorded", body = LabelIssueView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "reprint_reason_required, invalid_field")))]
async fn issue_lot_labels(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<IssueLabels>,
) -> AppResult<(StatusCode, ApiJson<LabelIssueView>)> {
    let issue = labels::issue_for_lot(
        &state,
        &auth.user.actor(),
        id,
        body.count,
        body.reason.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(issue.into())))
}
