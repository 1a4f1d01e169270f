//! Temperature readings of storage units: pushed as JSON (a monitoring
//! system, a person), uploaded as a data logger's CSV export, and read
//! back a page at a time. Recording may put vials on hold (`api::holds`).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, ApiQuery, Authorized, RoleSet};
use crate::api::paging::page_of;
use crate::domain::accounts::Role;
use crate::domain::paging::{MAX_LIMIT, PageRequest};
use crate::domain::temperature::csv::{self, DateOrder, ParseOptions};
use crate::domain::temperature::{CentiCelsius, DecimalMark, Excursion, Limits, Reading, Unit};
use crate::domain::zone::SiteZone;
use crate::entities::temperature_reading;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::services::temperature::{self, Recorded, Sent};
use crate::services::{sites, storage};
use crate::state::AppState;

/// Who may send readings: the lab and quality (a monitoring system signs
/// in as an account of one of these roles: the API has no other machine
/// access).
#[derive(Debug)]
pub struct LabOrQuality;

impl RoleSet for LabOrQuality {
    const ROLES: &'static [Role] = &[Role::Lab, Role::Quality];
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record_readings, list_readings))
        .routes(routes!(set_limits))
        .routes(routes!(record_shipment_readings))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(upload_csv))
                .routes(routes!(upload_shipment_csv))
                .layer(DefaultBodyLimit::max(csv::MAX_BYTES)),
        )
}

/// One reading: `celsius` as a decimal string (`"-151.20"`) or
/// `centi_celsius` as whole hundredths (`-15120`); never a JSON float.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingInput {
    pub at: DateTime<Utc>,
    #[schema(example = "-151.20")]
    pub celsius: Option<String>,
    pub centi_celsius: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingsInput {
    pub readings: Vec<ReadingInput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LimitsView {
    /// The warmest temperature within the limit, °C.
    #[schema(example = "-150.00")]
    pub max_celsius: String,
    pub max_centi_celsius: i32,
    /// Minutes above the limit that raise an alarm without a hold.
    pub allowed_minutes: u32,
}

impl From<Limits> for LimitsView {
    fn from(limits: Limits) -> Self {
        LimitsView {
            max_celsius: limits.max.to_string(),
            max_centi_celsius: limits.max.get(),
            allowed_minutes: limits.allowed_minutes,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExcursionView {
    pub start: DateTime<Utc>,
    /// The first reading back within the limit or, when
    /// `back_within_limit` is false, the last reading (still above).
    pub end: DateTime<Utc>,
    pub back_within_limit: bool,
    pub peak_celsius: String,
    pub peak_at: DateTime<Utc>,
    pub minutes: i64,
    /// Longer than the allowed minutes: the vials inside are held.
    pub holds: bool,
}

impl From<&Excursion> for ExcursionView {
    fn from(e: &Excursion) -> Self {
        ExcursionView {
            start: e.start,
            end: e.end,
            back_within_limit: e.back_within_limit,
            peak_celsius: e.peak.to_string(),
            peak_at: e.peak_at,
            minutes: e.duration().num_minutes(),
            holds: e.holds,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenedHoldView {
    pub hold_id: Uuid,
    /// The vials this request put on hold.
    pub vials_held: Vec<Uuid>,
    /// Vials inside during the excursion that are past holding (thawed,
    /// infused, discarded, recalled since): for quality to follow up.
    pub vials_inside_not_held: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedView {
    /// Readings new to the unit's series.
    pub accepted: usize,
    /// Readings it had already (same instant): not counted again.
    pub duplicates: usize,
    pub limits: LimitsView,
    /// The excursions from the last reading within the limit before these.
    pub excursions: Vec<ExcursionView>,
    /// Holds opened (or extended) by these readings.
    pub holds: Vec<OpenedHoldView>,
}

impl From<Recorded> for RecordedView {
    fn from(r: Recorded) -> Self {
        RecordedView {
            accepted: r.accepted,
            duplicates: r.duplicates,
            limits: r.limits.into(),
            excursions: r.excursions.iter().map(ExcursionView::from).collect(),
            holds: r
                .holds
                .into_iter()
                .map(|h| OpenedHoldView {
                    hold_id: h.hold_id,
                    vials_held: h.held,
                    vials_inside_not_held: h.not_held.into_iter().map(|(_, code)| code).collect(),
                })
                .collect(),
        }
    }
}

/// Reads the JSON readings, naming each problem by its index.
fn readings_of(input: ReadingsInput) -> AppResult<Vec<Sent>> {
    let mut problems = Vec::new();
    let mut sent = Vec::with_capacity(input.readings.len());
    for (i, reading) in input.readings.into_iter().enumerate() {
        let place = format!("readings[{i}]");
        let value = match (&reading.celsius, reading.centi_celsius) {
            (Some(text), None) => CentiCelsius::parse(text, Unit::Celsius, DecimalMark::Point)
                .map(|parsed| parsed.value)
                .map_err(|e| e.to_string()),
            (None, Some(centi)) => CentiCelsius::new(centi).ok_or_else(|| {
                format!("{centi} hundredths of a degree is outside −273.15 to +1000 °C")
            }),
            _ => Err(
                "give `celsius` (a decimal string) or `centi_celsius` (an integer), one of them"
                    .into(),
            ),
        };
        match value {
            Ok(temperature) => sent.push(Sent {
                reading: Reading {
                    at: reading.at,
                    temperature,
                },
                place,
            }),
            Err(problem) => problems.push(format!("{place}: {problem}")),
        }
    }
    if problems.is_empty() {
        Ok(sent)
    } else {
        Err(AppError::InvalidReadings { problems })
    }
}

/// Records readings of a storage unit (lab or quality of its site). A
/// reading at an instant the unit already has is a duplicate and is not
/// counted twice; an excursion that lasts longer than the allowed minutes
/// puts every vial that was inside the unit (any box under it) on hold.
#[utoipa::path(post, path = "/storage/{id}/temperature-readings", tag = "temperature", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ReadingsInput,
    responses((status = 201, description = "Recorded; excursions found and holds opened", body = RecordedView),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody, description = "not_found: the storage unit"),
        (status = 422, body = ErrorBody, description = "invalid_readings: every problem named by its index (a reading in the future, a bad value)")))]
async fn record_readings(
    State(state): State<AppState>,
    auth: Authorized<LabOrQuality>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ReadingsInput>,
) -> AppResult<(StatusCode, ApiJson<RecordedView>)> {
    let sent = readings_of(body)?;
    let recorded =
        temperature::record_for_unit(&state, &auth.user.actor(), id, sent, "api").await?;
    Ok((StatusCode::CREATED, ApiJson(recorded.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CsvOptions {
    /// The zone of times written without an offset (IANA name); by
    /// default the unit's site's.
    pub zone: Option<String>,
    /// The order of slashed dates: `mdy`, `dmy` or `ymd`.
    pub date_order: Option<String>,
    /// Which temperature column of a file with several: text that
    /// exactly one column header contains.
    pub channel: Option<String>,
}

/// Records a data logger's CSV export for a storage unit: the generic
/// `time,temperature` layout (ISO 8601 times) or an Onset HOBOware export.
/// A file with any problem records nothing; every problem is listed as
/// `line N: …` in the 422's `details.problems`.
#[utoipa::path(post, path = "/storage/{id}/temperature-readings/csv", tag = "temperature", security(("bearer" = [])),
    params(("id" = Uuid, Path), CsvOptions),
    request_body(content = String, content_type = "text/csv", description = "The logger's export"),
    responses((status = 201, description = "Recorded; excursions found and holds opened", body = RecordedView),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody, description = "not_found: the storage unit"),
        (status = 422, body = ErrorBody, description = "invalid_readings: every problem of the file, by line")))]
async fn upload_csv(
    State(state): State<AppState>,
    auth: Authorized<LabOrQuality>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(options): ApiQuery<CsvOptions>,
    request: axum::extract::Request,
) -> AppResult<(StatusCode, ApiJson<RecordedView>)> {
    let unit = storage::unit(&state, id).await?;
    let actor = auth.user.actor();
    sites::check_works_at(&state, &actor, unit.site_id).await?;
    let default_zone = SiteZone::parse(&sites::get(&state, unit.site_id).await?.time_zone);
    let (sent, via) = logger_file(&state, request, &options, default_zone).await?;
    let recorded = temperature::record_for_unit(&state, &actor, id, sent, &via).await?;
    Ok((StatusCode::CREATED, ApiJson(recorded.into())))
}

/// The body of an upload, read as a logger's CSV export (a unit's or a
/// shipper's): its readings and how they came.
async fn logger_file(
    state: &AppState,
    request: axum::extract::Request,
    options: &CsvOptions,
    default_zone: Option<SiteZone>,
) -> AppResult<(Vec<Sent>, String)> {
    let bytes = Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::MalformedRequest(rejection.body_text())
            }
        })?;
    parse_upload(&bytes, options, default_zone)
}

/// A logger's CSV export read into readings, and how it came (`csv`,
/// `csv:hoboware <serial>`); every problem of the file at once.
fn parse_upload(
    bytes: &[u8],
    options: &CsvOptions,
    default_zone: Option<SiteZone>,
) -> AppResult<(Vec<Sent>, String)> {
    let zone = match &options.zone {
        Some(name) => Some(SiteZone::parse(name).ok_or_else(|| {
            AppError::invalid("zone", format!("“{name}” is not a time zone we know"))
        })?),
        None => default_zone,
    };
    let date_order = match options.date_order.as_deref() {
        None => None,
        Some("mdy") => Some(DateOrder::MonthDayYear),
        Some("dmy") => Some(DateOrder::DayMonthYear),
        Some("ymd") => Some(DateOrder::YearMonthDay),
        Some(_) => return Err(AppError::invalid("date_order", "one of mdy, dmy, ymd")),
    };
    let parse_options = ParseOptions {
        zone,
        date_order,
        channel: options.channel.clone(),
        ..ParseOptions::default()
    };
    let file = csv::parse(bytes, &parse_options).map_err(|problems| AppError::InvalidReadings {
        problems: problems.iter().map(ToString::to_string).collect(),
    })?;
    let sent = file
        .readings
        .iter()
        .enumerate()
        .map(|(i, reading)| Sent {
            reading: *reading,
            place: format!("reading {} of the file", i + 1),
        })
        .collect();
    let via = match (&file.layout, &file.logger_serial) {
        (csv::Layout::Hoboware, Some(serial)) => format!("csv:hoboware {serial}"),
        (csv::Layout::Hoboware, None) => "csv:hoboware".to_owned(),
        (csv::Layout::Generic, _) => "csv".to_owned(),
    };
    Ok((sent, via))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadingView {
    pub at: DateTime<Utc>,
    #[schema(example = "-151.20")]
    pub celsius: String,
    pub centi_celsius: i32,
    /// How it came: `api`, `csv`, `csv:hoboware <serial>`.
    pub sent_via: String,
    pub recorded_at: DateTime<Utc>,
}

impl From<temperature_reading::Model> for ReadingView {
    fn from(r: temperature_reading::Model) -> Self {
        ReadingView {
            at: r.at,
            celsius: CentiCelsius::new(r.centi_celsius)
                .map(|c| c.to_string())
                .unwrap_or_default(),
            centi_celsius: r.centi_celsius,
            sent_via: r.sent_via,
            recorded_at: r.recorded_at,
        }
    }
}

page_of!(ReadingPage => ReadingView);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadingQuery {
    /// From this instant (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Up to this instant (inclusive).
    pub to: Option<DateTime<Utc>>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// A unit's readings, oldest first, a page at a time.
#[utoipa::path(get, path = "/storage/{id}/temperature-readings", tag = "temperature", security(("bearer" = [])),
    params(("id" = Uuid, Path), ReadingQuery),
    responses((status = 200, description = "A page of readings", body = ReadingPage),
        (status = 403, body = ErrorBody, description = "forbidden (the administrator)"),
        (status = 404, body = ErrorBody, description = "not_found: the storage unit"),
        (status = 422, body = ErrorBody, description = "invalid_field: limit, cursor")))]
async fn list_readings(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ReadingQuery>,
) -> AppResult<ApiJson<ReadingPage>> {
    let page = PageRequest::parse(None, query.limit, query.cursor.as_deref())?;
    let after = match page.after {
        Some(micros) => Some(
            micros
                .parse::<i64>()
                .ok()
                .and_then(DateTime::from_timestamp_micros)
                .ok_or_else(|| {
                    AppError::invalid("cursor", "this cursor was not given by this list")
                })?,
        ),
        None => None,
    };
    let readings = temperature::unit_readings(
        &state,
        id,
        query.from,
        query.to,
        page.limit.clamp(1, MAX_LIMIT),
        after,
    )
    .await?;
    Ok(ApiJson(readings.map(ReadingView::from).into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsInput {
    /// The warmest temperature within the limit, as a decimal string.
    #[schema(example = "-150.00")]
    pub max_celsius: String,
    pub allowed_minutes: u32,
}

/// Sets a unit's own temperature limits (quality), for the readings
/// recorded from now on; by default a unit has the product's (−150 °C,
/// 10 minutes).
#[utoipa::path(put, path = "/storage/{id}/temperature-limits", tag = "temperature", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = LimitsInput,
    responses((status = 200, description = "The unit's limits", body = LimitsView),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody, description = "not_found: the storage unit"),
        (status = 422, body = ErrorBody, description = "invalid_field")))]
async fn set_limits(
    State(state): State<AppState>,
    auth: Authorized<crate::api::extract::roles::Quality>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<LimitsInput>,
) -> AppResult<ApiJson<LimitsView>> {
    let max = CentiCelsius::parse(&body.max_celsius, Unit::Celsius, DecimalMark::Point)
        .map_err(|e| AppError::invalid("max_celsius", e))?
        .value;
    let limits = temperature::set_unit_limits(
        &state,
        &auth.user.actor(),
        id,
        Limits {
            max,
            allowed_minutes: body.allowed_minutes,
        },
    )
    .await?;
    Ok(ApiJson(limits.into()))
}

/// Who handles a shipment's logger: the lab and the pharmacy, at either end.
#[derive(Debug)]
pub struct Shippers;

impl RoleSet for Shippers {
    const ROLES: &'static [Role] = &[Role::Lab, Role::Pharmacist];
}

/// Records the readings of a shipment's data logger (lab or pharmacist of
/// either site, once sealed). Every vial on the packing list was inside
/// the shipper the whole time: an excursion longer than the allowed minutes
/// holds them all, for the receiving site's quality officer to decide.
#[utoipa::path(post, path = "/shipments/{id}/temperature-readings", tag = "temperature", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ReadingsInput,
    responses((status = 201, description = "Recorded; excursions found and holds opened", body = RecordedView),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody, description = "not_found: the shipment"),
        (status = 409, body = ErrorBody, description = "invalid_state: not sealed yet, or cancelled"),
        (status = 422, body = ErrorBody, description = "invalid_readings: every problem named by its index")))]
async fn record_shipment_readings(
    State(state): State<AppState>,
    auth: Authorized<Shippers>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ReadingsInput>,
) -> AppResult<(StatusCode, ApiJson<RecordedView>)> {
    let sent = readings_of(body)?;
    let readings: Vec<Reading> = sent.iter().map(|s| s.reading).collect();
    let recorded =
        crate::services::shipments::record_logger(&state, &auth.user.actor(), id, &readings, "api")
            .await?;
    Ok((StatusCode::CREATED, ApiJson(recorded.into())))
}

/// Records a shipment's data logger export (CSV: the generic layout or
/// Onset HOBOware), as the JSON route does; a file with any problem
/// records nothing, every problem listed by line.
#[utoipa::path(post, path = "/shipments/{id}/temperature-readings/csv", tag = "temperature", security(("bearer" = [])),
    params(("id" = Uuid, Path), CsvOptions),
    request_body(content = String, content_type = "text/csv", description = "The logger's export"),
    responses((status = 201, description = "Recorded; excursions found and holds opened", body = RecordedView),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody, description = "not_found: the shipment"),
        (status = 409, body = ErrorBody, description = "invalid_state: not sealed yet, or cancelled"),
        (status = 422, body = ErrorBody, description = "invalid_readings: every problem of the file, by line")))]
async fn upload_shipment_csv(
    State(state): State<AppState>,
    auth: Authorized<Shippers>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(options): ApiQuery<CsvOptions>,
    request: axum::extract::Request,
) -> AppResult<(StatusCode, ApiJson<RecordedView>)> {
    let shipment = crate::services::shipments::get(&state, id).await?;
    let default_zone = SiteZone::parse(&shipment.from_site.time_zone);
    let (sent, via) = logger_file(&state, request, &options, default_zone).await?;
    let readings: Vec<Reading> = sent.iter().map(|s| s.reading).collect();
    let recorded =
        crate::services::shipments::record_logger(&state, &auth.user.actor(), id, &readings, &via)
            .await?;
    Ok((StatusCode::CREATED, ApiJson(recorded.into())))
}
