//! A shipment's papers and labels (issue 15): the shipping container's
//! side label as PNG, SVG, ZPL and PDF, the labels issued for it, and the
//! shipment's packing list as PDF. Scanning either (`CT1:S:…`,
//! `CT1:H:…`) is `POST /scan`.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, Authorized, roles};
use crate::api::labels::{IssueLabels, LabelFile, LabelIssueView};
use crate::api::openapi::FileBytes;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::labels::Format;
use crate::services::shipments::documents;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(shipper_png))
        .routes(routes!(shipper_svg))
        .routes(routes!(shipper_zpl))
        .routes(routes!(shipper_pdf))
        .routes(routes!(issue_shipper_labels))
        .routes(routes!(packing_list))
}

/// The shipper's label in `format`, rendered off the async workers.
async fn shipper_label(state: &AppState, id: Uuid, format: Format) -> AppResult<LabelFile> {
    let data = documents::shipper_label(state, id).await?;
    let name = data
        .fields
        .get("container_code")
        .cloned()
        .unwrap_or_default();
    let labels = state.labels.clone();
    let bytes = tokio::task::spawn_blocking(move || labels.render(&data, format))
        .await
        .map_err(AppError::internal)??;
    Ok(LabelFile {
        bytes,
        format,
        name: format!("shipper-{name}"),
    })
}

macro_rules! shipper_route {
    ($name:ident, $path:literal, $format:expr, $content:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(get, path = $path, tag = "labels", security(("bearer" = [])),
            params(("id" = Uuid, Path, description = "The shipping container's id")),
            responses((status = 200, description = "The label", content_type = $content, body = inline(FileBytes)),
                (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
                (status = 422, body = ErrorBody, description = "label_unprintable: a ZPL label with a character a Zebra's resident font cannot print (the site's name)")))]
        async fn $name(
            State(state): State<AppState>,
            _auth: Authorized,
            ApiPath(id): ApiPath<Uuid>,
        ) -> AppResult<LabelFile> {
            shipper_label(&state, id, $format).await
        }
    };
}

shipper_route!(
    shipper_png,
    "/shipping-containers/{id}/label.png",
    Format::Png,
    "image/png",
    "A shipping container's (dry shipper's) side label as PNG: QR of `CT1:S:<container code>`, the code in large type and the site it belongs to; nothing about the shipment or the vials inside. Rendering counts no issue (`label-issues` does)."
);
shipper_route!(
    shipper_svg,
    "/shipping-containers/{id}/label.svg",
    Format::Svg,
    "image/svg+xml",
    "A shipping container's side label as SVG (vectors, text as text)."
);
shipper_route!(
    shipper_zpl,
    "/shipping-containers/{id}/label.zpl",
    Format::Zpl,
    "application/zpl",
    "A shipping container's side label as ZPL II for Zebra printers."
);
shipper_route!(
    shipper_pdf,
    "/shipping-containers/{id}/label.pdf",
    Format::Pdf,
    "application/pdf",
    "A shipping container's side label as PDF: one page the label's size (2 × 1 in on the shipped layout)."
);

/// Records `count` labels issued for the shipping container (lab, at the
/// site it is at): its `labels_issued` grows by `count`. A reprint (labels
/// were issued before) needs a reason.
#[utoipa::path(post, path = "/shipping-containers/{id}/label-issues", tag = "labels", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = IssueLabels,
    responses((status = 201, description = "Created: the labels issued, as recorded", body = LabelIssueView),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "concurrent_change"),
        (status = 422, body = ErrorBody, description = "reprint_reason_required, invalid_field")))]
async fn issue_shipper_labels(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<IssueLabels>,
) -> AppResult<(StatusCode, ApiJson<LabelIssueView>)> {
    let (_, issue) = documents::issue_shipper_labels(
        &state,
        &auth.user.actor(),
        id,
        body.count,
        body.reason.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(issue.into())))
}

/// The shipment's packing list (staff of either of its sites): A4 pages
/// with the shipment's QR (`CT1:H:<code>`) and code, the sites with their
/// facility codes, the shipper, the status and its times in the sending
/// site's time zone, every vial (code, DIN, lot, cells, volume, expiry,
/// received or missing with the reason), what the receipt found that was
/// not on the list, and the receiver's signature lines. Codes only.
#[utoipa::path(get, path = "/shipments/{id}/packing-list.pdf", tag = "shipments", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The packing list", content_type = "application/pdf", body = inline(FileBytes)),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site (neither of its sites)"),
        (status = 404, body = ErrorBody)))]
async fn packing_list(
    State(state): State<AppState>,
    auth: Authorized<roles::Staff>,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<LabelFile> {
    let list = documents::packing_list(&state, &auth.user, id).await?;
    Ok(LabelFile {
        bytes: list.pdf,
        format: Format::Pdf,
        name: format!("{}-packing-list", list.code),
    })
}
