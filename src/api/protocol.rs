//! The protocol: read by anyone signed in, amended by a quality officer's
//! signature as a new version.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::extract::{ApiJson, Authorized, roles};
use crate::domain::protocol::Protocol;
use crate::domain::zone::SiteZone;
use crate::error::{AppResult, ErrorBody};
use crate::services::protocol::{self, Versioned};
use crate::services::signatures::{self, SignatureInput};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_protocol, amend_protocol))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProtocolView {
    /// 1 for the seed; each amendment adds one.
    pub version: i32,
    pub effective_at: DateTime<Utc>,
    pub recorded_by: String,
    /// Why this version was made (none for the seed).
    pub reason: Option<String>,
    /// The site's time zone, whose calendar the day-counting rules use.
    pub site_time_zone: String,
    /// The infusion schedule as a rule, in words.
    pub schedule_rule: String,
    #[serde(flatten)]
    #[schema(schema_with = protocol_fields)]
    pub protocol: Protocol,
}

/// The protocol's fields, open to the view's own: `Protocol` refuses
/// unknown fields as input (`additionalProperties: false`), and that schema
/// in the view's `allOf` would refuse every view.
fn protocol_fields() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;
    let mut schema = <Protocol as utoipa::PartialSchema>::schema();
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        object.additional_properties = None;
    }
    schema
}

impl ProtocolView {
    fn new(v: Versioned, zone: SiteZone) -> Self {
        ProtocolView {
            version: v.version,
            effective_at: v.record.created_at,
            recorded_by: v.record.created_by_username,
            reason: v.record.reason,
            site_time_zone: zone.name().to_owned(),
            schedule_rule: v.protocol.schedule_rule(zone.name()),
            protocol: v.protocol,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendProtocol {
    /// The whole protocol as it is to be (what `GET /protocol` shows; the
    /// fields it derives, `site_time_zone` and `schedule_rule`, are
    /// ignored if sent back).
    #[serde(deserialize_with = "without_derived")]
    pub protocol: Protocol,
    /// Why (the amendment's reference, the approval).
    pub reason: String,
    pub signature: SignatureInput,
}

/// A protocol as sent, without the fields the view derives from it.
fn without_derived<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Protocol, D::Error> {
    use serde::de::Error;
    let mut value = serde_json::Value::deserialize(deserializer)?;
    if let Some(map) = value.as_object_mut() {
        map.remove("site_time_zone");
        map.remove("schedule_rule");
    }
    serde_json::from_value(value).map_err(D::Error::custom)
}

/// The protocol in force: dose, infusions, window, tolerances, post-thaw
/// rules, weight rules, eligibility checklist, QC specification.
#[utoipa::path(get, path = "/protocol", tag = "protocol", security(("bearer" = [])),
    responses((status = 200, description = "The protocol in force", body = ProtocolView), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn get_protocol(
    State(state): State<AppState>,
    _auth: Authorized,
) -> AppResult<ApiJson<ProtocolView>> {
    Ok(ApiJson(ProtocolView::new(
        protocol::current(state.db.conn()).await?,
        state.settings.timezone,
    )))
}

/// Amends the protocol (quality, signed): a new version; the earlier stays.
#[utoipa::path(put, path = "/protocol", tag = "protocol", security(("bearer" = [])),
    request_body = AmendProtocol,
    responses((status = 200, description = "The protocol in force", body = ProtocolView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn amend_protocol(
    State(state): State<AppState>,
    auth: Authorized<roles::Quality>,
    ApiJson(body): ApiJson<AmendProtocol>,
) -> AppResult<ApiJson<ProtocolView>> {
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    Ok(ApiJson(ProtocolView::new(
        protocol::amend(&state, &signature, body.protocol, &body.reason).await?,
        state.settings.timezone,
    )))
}
