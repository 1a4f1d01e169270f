//! The pharmacist's forms on a dose: the counts after thaw (and their
//! signed corrections), a failing vial replaced under signature, the
//! verification signature, and cancellation. Each goes back to the dose's
//! page, saying what was done or why it was refused.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::dose::parse_viability;
use crate::domain::lifecycle::VialStatus;
use crate::i18n::{arg, t, t_with};
use crate::services::doses::{self, Counting, DoseRecord, VialCount};
use crate::state::AppState;
use crate::web::error::{OrBack, PageError};
use crate::web::extract::{CsrfForm, PageUser, carries_csrf, roles};
use crate::web::page::redirect_with;

/// The counts form: `vial_N`, `cells_N`, `viability_N` (and `confirm_N`,
/// `reason_N`) for each vial; `mode` is `count` (the first counts of
/// reserved vials) or `correct` (signed corrections of recorded counts,
/// only the vials filled in).
pub async fn thaw(
    State(state): State<AppState>,
    user: PageUser<roles::Pharmacist>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let back = format!("/doses/{id}");
    let correcting = field("mode") == Some("correct");
    let counts = counts_of(&field, correcting).map_err(|words| PageError::back(&back, words))?;
    let correction = if correcting {
        if counts.is_empty() {
            return Err(PageError::back(&back, t("preparation-fill-one")));
        }
        let signature = user
            .sign(
                &state,
                field("password").unwrap_or("").to_owned(),
                field("meaning").unwrap_or("").to_owned(),
                &back,
            )
            .await?;
        Some((
            signature,
            field("correction_reason").unwrap_or("").to_owned(),
        ))
    } else {
        None
    };
    let record = doses::thaw(
        &state,
        &user.user.actor(),
        id,
        Counting {
            counts,
            thawed_at: None,
            correction,
        },
    )
    .await
    .or_back(&back, user.zone)?;
    Ok(redirect_with(
        &back,
        true,
        t_with(
            "preparation-counts-recorded",
            &[(
                "volume",
                arg(crate::domain::units::millilitres(
                    record.dose.volume_ul.unwrap_or_default(),
                )),
            )],
        ),
    ))
}

/// The vials' counts as the form gives them, in order; when correcting,
/// only the vials filled in. A count that does not read is refused in words.
fn counts_of<'a>(
    field: &impl Fn(&str) -> Option<&'a str>,
    correcting: bool,
) -> Result<Vec<VialCount>, String> {
    let mut counts = Vec::new();
    for i in 0.. {
        let Some(vial) = field(&format!("vial_{i}")) else {
            break;
        };
        let cells = field(&format!("cells_{i}")).unwrap_or("").trim();
        let viability = field(&format!("viability_{i}")).unwrap_or("").trim();
        if correcting && cells.is_empty() && viability.is_empty() {
            continue;
        }
        let parsed = (
            vial.parse::<Uuid>().ok(),
            cells
                .replace([' ', ',', '\u{2009}'], "")
                .parse::<i64>()
                .ok(),
            parse_viability(viability),
        );
        let (Some(vial_id), Some(viable_cells_per_ml), Some(viability_tenths)) = parsed else {
            return Err(t("preparation-count-unreadable"));
        };
        let reason = field(&format!("reason_{i}"))
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        counts.push(VialCount {
            vial_id,
            viable_cells_per_ml,
            viability_tenths,
            viability_text: viability.to_owned(),
            confirm: field(&format!("confirm_{i}")) == Some("true"),
            reason,
        });
    }
    Ok(counts)
}

#[derive(Debug, Deserialize)]
pub struct ReplaceForm {
    pub csrf: String,
    pub vial_id: Uuid,
    pub reason: String,
    pub password: String,
    pub meaning: String,
}

#[derive(Debug, Deserialize)]
pub struct SignForm {
    pub csrf: String,
    pub password: String,
    pub meaning: String,
}

#[derive(Debug, Deserialize)]
pub struct CancelForm {
    pub csrf: String,
    pub reason: String,
}

carries_csrf!(ReplaceForm, SignForm, CancelForm);

pub async fn replace_vial(
    State(state): State<AppState>,
    user: PageUser<roles::Pharmacist>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<ReplaceForm>,
) -> Result<Response, PageError> {
    let back = format!("/doses/{id}");
    let signature = user
        .sign(&state, form.password, form.meaning, &back)
        .await?;
    let record = doses::replace_vial(&state, &signature, id, form.vial_id, &form.reason)
        .await
        .or_back(&back, user.zone)?;
    Ok(redirect_with(
        &back,
        true,
        match record
            .vials
            .iter()
            .find(|v| v.status == VialStatus::Reserved)
        {
            Some(v) => t_with("preparation-replaced", &[("code", arg(&v.code))]),
            None => t("preparation-replaced-another"),
        },
    ))
}

pub async fn verify(
    State(state): State<AppState>,
    user: PageUser<roles::Pharmacist>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<SignForm>,
) -> Result<Response, PageError> {
    let back = format!("/doses/{id}");
    let signature = user
        .sign(&state, form.password, form.meaning, &back)
        .await?;
    doses::verify(&state, &signature, id)
        .await
        .or_back(&back, user.zone)?;
    Ok(redirect_with(&back, true, t("preparation-verified")))
}

pub async fn cancel(
    State(state): State<AppState>,
    user: PageUser<roles::Pharmacist>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<CancelForm>,
) -> Result<Response, PageError> {
    let back = format!("/doses/{id}");
    let record = doses::cancel(&state, &user.user.actor(), id, &form.reason)
        .await
        .or_back(&back, user.zone)?;
    Ok(redirect_with(&back, true, cancelled_words(&record)))
}

/// What cancelling did with the dose's vials.
fn cancelled_words(record: &DoseRecord) -> String {
    let discarded = record
        .vials
        .iter()
        .filter(|v| v.status == VialStatus::Discarded)
        .count();
    if discarded > 0 {
        t_with(
            "preparation-cancelled-discarded",
            &[("count", arg(discarded))],
        )
    } else {
        t("preparation-cancelled")
    }
}
