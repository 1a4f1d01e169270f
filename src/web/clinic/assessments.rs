//! PASI and DLQI on the patient's page (clinician): the PASI's four-region
//! grid and the DLQI's ten questions, each with its total computed as the
//! clinician scores (`assessments.js`, a file of the site: the pages'
//! policy forbids inline scripts) and computed again, exactly, by the same
//! service as `POST /api/v1/patients/{id}/assessments`, which is the score
//! recorded. The visit date is the site's. A form refused comes back as it
//! was filled in, with the refusal in words. The forms themselves are
//! drawn in [`super::assessment_forms`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

use crate::domain::assessment::{AssessmentKind, PasiRegions, Region};
use crate::domain::patient::tenths_display;
use crate::entities::assessment;
use crate::error::AppError;
use crate::i18n::{arg, t, t_with};
use crate::services::assessments::{self, Scored};
use crate::state::AppState;
use crate::web::clinic::form_field;
use crate::web::clinic::patient::{patient_html, patient_sheet};
use crate::web::error::{PageError, sentence};
use crate::web::extract::{CsrfForm, PageUser, roles};
use crate::web::page::{Flash, redirect_with};
use crate::web::user::WebUser;

/// The script that adds the totals up as the clinician scores.
pub const SCRIPT: &str = include_str!("assessments.js");

/// The PASI regions: the name in the form, and the weight of the region
/// in tenths (head 0.1, upper limbs 0.2, trunk 0.3, lower limbs 0.4),
/// for the total the script shows; the score recorded is the domain's.
pub(super) const REGIONS: [(&str, i32); 4] = [
    ("head", 1),
    ("upper_limbs", 2),
    ("trunk", 3),
    ("lower_limbs", 4),
];
/// A region's scores and their highest value.
pub(super) const PARTS: [(&str, i32); 4] = [
    ("erythema", 4),
    ("induration", 4),
    ("desquamation", 4),
    ("area", 6),
];
/// The DLQI questions that may be answered "not relevant" (scored 0, as
/// the instrument says): all but the first two.
pub(super) const NOT_RELEVANT_FROM: usize = 3;

/// The form as sent: name-value pairs (the grid's cells are named
/// `head.erythema`, the questions `q1` to `q10`).
type Entry = Vec<(String, String)>;

pub async fn record_pasi(
    State(state): State<AppState>,
    user: PageUser<roles::Clinician>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<Entry>,
) -> Result<Response, PageError> {
    let recorded = async {
        let assessed_at = visit_time(&state, &user, &form)?;
        let regions = pasi_regions(&form)?;
        record(&state, &user, id, assessed_at, Scored::Pasi(regions)).await
    }
    .await;
    let words = |a: &assessment::Model| {
        t_with(
            "assess-pasi-recorded",
            &[("score", arg(tenths_display(a.score)))],
        )
    };
    answer(
        &state,
        &user,
        id,
        AssessmentKind::Pasi,
        form,
        recorded,
        words,
    )
    .await
}

/// The grid's sixteen cells, read as numbers; a number out of range goes
/// on to the service, whose rule says no.
fn pasi_regions(form: &Entry) -> Result<PasiRegions, String> {
    let mut scores = [[0; 4]; 4];
    for (r, (region, _)) in REGIONS.iter().enumerate() {
        for (p, (part, _)) in PARTS.iter().enumerate() {
            scores[r][p] = form_field(form, &format!("{region}.{part}"))
                .parse()
                .map_err(|_| cell_words("assess-pasi-missing", region, part))?;
        }
    }
    let region = |s: [i32; 4]| Region {
        erythema: s[0],
        induration: s[1],
        desquamation: s[2],
        area: s[3],
    };
    Ok(PasiRegions {
        head: region(scores[0]),
        upper_limbs: region(scores[1]),
        trunk: region(scores[2]),
        lower_limbs: region(scores[3]),
    })
}

pub async fn record_dlqi(
    State(state): State<AppState>,
    user: PageUser<roles::Clinician>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<Entry>,
) -> Result<Response, PageError> {
    let recorded = async {
        let assessed_at = visit_time(&state, &user, &form)?;
        let answers = dlqi_answers_sent(&form)?;
        record(&state, &user, id, assessed_at, Scored::Dlqi(answers)).await
    }
    .await;
    let words = |a: &assessment::Model| t_with("assess-dlqi-recorded", &[("score", arg(a.score))]);
    answer(
        &state,
        &user,
        id,
        AssessmentKind::Dlqi,
        form,
        recorded,
        words,
    )
    .await
}

/// The ten answers as numbers; "not relevant" scores 0, as the instrument
/// says, and only where it offers it.
fn dlqi_answers_sent(form: &Entry) -> Result<Vec<i32>, String> {
    (1..=10)
        .map(|n| {
            match form_field(form, &format!("q{n}")) {
                "nr" if n >= NOT_RELEVANT_FROM => Ok(0),
                value => value.parse::<i32>(),
            }
            .map_err(|_| t_with("assess-dlqi-missing", &[("n", arg(n))]))
        })
        .collect()
}

/// What the clinician sees after sending a form: the patient's page with
/// the score recorded, or the same page (422) with the form as it was
/// filled in, open, and the refusal in words above its button.
async fn answer(
    state: &AppState,
    user: &WebUser,
    id: Uuid,
    kind: AssessmentKind,
    form: Entry,
    recorded: Result<assessment::Model, String>,
    words: impl Fn(&assessment::Model) -> String,
) -> Result<Response, PageError> {
    let refusal = match recorded {
        Ok(a) => return Ok(redirect_with(&format!("/patients/{id}"), true, words(&a))),
        Err(refusal) => refusal,
    };
    let sheet = patient_sheet(state, id).await?;
    let entered = Entered {
        kind,
        form,
        refusal,
    };
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        patient_html(user, &sheet, &Flash::default(), None, Some(&entered)),
    )
        .into_response())
}

/// A form refused, as it was filled in.
pub struct Entered {
    pub kind: AssessmentKind,
    pub form: Entry,
    pub refusal: String,
}

impl Entered {
    /// What was sent under `name`, when this is the form of `kind`.
    pub(super) fn sent(
        entered: Option<&Entered>,
        kind: AssessmentKind,
        name: &str,
    ) -> Option<String> {
        entered
            .filter(|e| e.kind == kind)
            .map(|e| form_field(&e.form, name).to_owned())
    }
}

async fn record(
    state: &AppState,
    user: &WebUser,
    id: Uuid,
    assessed_at: DateTime<Utc>,
    scored: Scored,
) -> Result<assessment::Model, String> {
    assessments::record(state, &user.user.actor(), id, assessed_at, scored)
        .await
        .map_err(|error| refusal_words(&error, user))
}

/// The visit's date on the site's calendar as an instant: now for today,
/// else midday of that day (a time inside it, whatever the zone).
fn visit_time(state: &AppState, user: &WebUser, form: &Entry) -> Result<DateTime<Utc>, String> {
    let now = state.clock.now();
    let day: NaiveDate = form_field(form, "visit_date")
        .parse()
        .map_err(|_| t("assess-visit-date-unread"))?;
    if day == user.zone.date(now) {
        return Ok(now);
    }
    user.zone
        .from_local(day.and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default()))
        .ok_or_else(|| t("assess-visit-date-unread"))
}

/// The service's refusal in words: which cell of the grid, which date.
fn refusal_words(error: &AppError, user: &WebUser) -> String {
    match error {
        AppError::InvalidAssessment(invalid) => {
            // `regions.head.erythema`, `answers[3]`
            let mut path = invalid.field.split('.').skip(1);
            match (path.next(), path.next()) {
                (Some(region), Some(part)) => cell_words("assess-pasi-out-of-range", region, part),
                _ => t("assess-dlqi-out-of-range"),
            }
        }
        AppError::InvalidField { field, .. } if field == "assessed_at" => {
            t("assess-visit-date-refused")
        }
        other => sentence(other, user.zone),
    }
}

/// A sentence about one cell of the grid: its region and its score named
/// in words, with the highest score it takes.
fn cell_words(key: &str, region: &str, part: &str) -> String {
    let max = PARTS
        .iter()
        .find(|(p, _)| *p == part)
        .map_or(4, |(_, m)| *m);
    t_with(
        key,
        &[
            ("region", arg(region_words(region))),
            ("part", arg(part_words(part))),
            ("max", arg(max)),
        ],
    )
}

pub(super) fn region_words(region: &str) -> String {
    match region {
        "head" => t("assess-region-head"),
        "upper_limbs" => t("assess-region-upper-limbs"),
        "trunk" => t("assess-region-trunk"),
        _ => t("assess-region-lower-limbs"),
    }
}

pub(super) fn part_words(part: &str) -> String {
    match part {
        "erythema" => t("assess-part-erythema"),
        "induration" => t("assess-part-induration"),
        "desquamation" => t("assess-part-desquamation"),
        _ => t("assess-part-area"),
    }
}
