//! Printing labels from a page: [`print_form`], a small form any record's
//! page places beside its label (a printer menu, copies, a reason for a
//! reprint, a Print button), and `POST /print`, which sends the labels
//! through the same service as `POST /api/v1/printers/{name}/print` and
//! returns to the record's page saying in words what happened.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use fluent_bundle::FluentValue;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::label::MAX_COPIES;
use crate::domain::printer::{PrintKind, Printer};
use crate::error::AppError;
use crate::i18n::{arg, t, t_with};
use crate::services::history::Entry;
use crate::services::labels::RecordLabel;
use crate::services::printing::{self, PrintJob, Printed};
use crate::state::AppState;
use crate::web::error::{PageError, sentence};
use crate::web::extract::{CsrfForm, PageUser, carries_csrf};
use crate::web::page::{error_page, redirect_with};
use crate::web::user::WebUser;

pub fn routes() -> Router<AppState> {
    Router::new().route("/print", post(print))
}

/// A label's files to download, on one line: "Label: PNG · PDF · ZPL".
/// `base` is the label's route without its extension
/// (`/api/v1/storage/{id}/label`); the PDF is one page the label's size.
pub fn label_files(base: &str) -> Markup {
    html! {
        p class="label-files" {
            (t("label-files")) ": "
            a href={ (base) ".png" } { "PNG" } " · "
            a href={ (base) ".pdf" } { "PDF" } " · "
            a href={ (base) ".zpl" } { "ZPL" }
        }
    }
}

/// The print form for the record `id` of `kind`; nothing when no printer
/// is configured or the person's role does not print this label.
pub fn print_form(kind: PrintKind, id: Uuid, printers: &[Printer], user: &WebUser) -> Markup {
    form_card(kind, id, printers, user, html! {})
}

/// The print form with how many of its labels were issued so far (a box
/// label, a dose bag's, a wristband: one ledger event per issue, read
/// from the record's `history`; the page only adds them up). Labels
/// issued stay said when the form is absent (no printer now, a role that
/// does not print it): they are out there.
pub fn print_form_counted(
    kind: PrintKind,
    id: Uuid,
    printers: &[Printer],
    user: &WebUser,
    history: &[Entry],
) -> Markup {
    let Some((keys, action)) = counted(kind) else {
        return print_form(kind, id, printers, user);
    };
    let issues: Vec<&Entry> = history
        .iter()
        .filter(|e| e.event.action == action)
        .collect();
    let line = match issues.last() {
        None => html! { p class="muted" { (t(keys.1)) } },
        Some(last) => {
            let labels: i64 = issues
                .iter()
                .filter_map(|e| serde_json::from_str::<serde_json::Value>(&e.event.details).ok())
                .filter_map(|details| details["count"].as_i64())
                .sum();
            let args = [
                ("labels", FluentValue::from(labels)),
                ("when", arg(user.when(last.event.occurred_at))),
                ("user", arg(&last.event.actor_username)),
            ];
            html! { p { (t_with(keys.0, &args)) } }
        }
    };
    if can_print(kind, printers, user) {
        form_card(kind, id, printers, user, line)
    } else if issues.is_empty() {
        html! {}
    } else {
        html! { section class="card print" { (line) } }
    }
}

/// The words of a label counted on its record's page ("… issued: n",
/// "none yet") and its ledger action; the donation's page counts its DIN
/// labels itself, vial labels are counted on each vial.
fn counted(kind: PrintKind) -> Option<((&'static str, &'static str), &'static str)> {
    let label = printing::record_label(kind)?;
    let keys = match label {
        RecordLabel::LotBox => ("print-issued-lot", "print-issued-none-lot"),
        RecordLabel::Dose => ("print-issued-dose", "print-issued-none-dose"),
        RecordLabel::Wristband => ("print-issued-wristband", "print-issued-none-wristband"),
        RecordLabel::StorageBox => ("print-issued-storage-box", "print-issued-none-storage-box"),
        RecordLabel::Donation => return None,
    };
    Some((keys, label.action()))
}

fn can_print(kind: PrintKind, printers: &[Printer], user: &WebUser) -> bool {
    !printers.is_empty() && kind.printed_by().contains(&user.user.role)
}

/// The form in its card, `note` under the heading.
fn form_card(
    kind: PrintKind,
    id: Uuid,
    printers: &[Printer],
    user: &WebUser,
    note: Markup,
) -> Markup {
    if !can_print(kind, printers, user) {
        return html! {};
    }
    let field = |name: &str| format!("print-{}-{id}-{name}", kind.as_str());
    html! {
        section class="card print" {
            h2 { (t(heading_key(kind))) }
            (note)
            form method="post" action="/print" {
                input type="hidden" name="csrf" value=(user.csrf());
                input type="hidden" name="kind" value=(kind.as_str());
                input type="hidden" name="id" value=(id);
                label for=(field("printer")) { (t("print-printer")) }
                select id=(field("printer")) name="printer" required {
                    @for p in printers {
                        option value=(p.name) { (p.name) " (" (p.address()) ")" }
                    }
                }
                label for=(field("copies")) { (t("print-copies")) }
                input id=(field("copies")) name="copies" type="number" inputmode="numeric"
                    min="1" max=(MAX_COPIES) value="1" required;
                // every label printed is recorded: a reprint says why
                label for=(field("reason")) { (t("print-reason")) }
                input id=(field("reason")) name="reason" maxlength="1000";
                div class="actions" { button type="submit" { (t("print-button")) } }
            }
        }
    }
}

fn heading_key(kind: PrintKind) -> &'static str {
    match kind {
        PrintKind::Vial => "print-heading-vial",
        PrintKind::LotSheet => "print-heading-lot-sheet",
        PrintKind::Lot => "print-heading-lot",
        PrintKind::Dose => "print-heading-dose",
        PrintKind::Wristband => "print-heading-wristband",
        PrintKind::Donation => "print-heading-donation",
        PrintKind::StorageBox => "print-heading-storage-box",
    }
}

/// Every field as text: whatever a browser (or a hand-made request) sends
/// is read, and what does not parse is said in words.
#[derive(Debug, Deserialize)]
pub struct PrintForm {
    pub csrf: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub printer: String,
    #[serde(default)]
    pub copies: String,
    #[serde(default)]
    pub reason: String,
}

carries_csrf!(PrintForm);

/// The page of the record a label was printed for: where the form was.
fn record_page(kind: PrintKind, id: Uuid) -> String {
    match kind {
        PrintKind::Vial => format!("/vials/{id}"),
        PrintKind::LotSheet | PrintKind::Lot => format!("/lots/{id}"),
        PrintKind::Dose => format!("/doses/{id}"),
        PrintKind::Wristband => format!("/patients/{id}"),
        PrintKind::Donation => format!("/donations/{id}"),
        PrintKind::StorageBox => format!("/storage/{id}"),
    }
}

async fn print(
    State(state): State<AppState>,
    user: PageUser,
    CsrfForm(form): CsrfForm<PrintForm>,
) -> Result<Response, PageError> {
    let (Some(kind), Ok(id)) = (
        PrintKind::parse(form.kind.trim()),
        Uuid::parse_str(form.id.trim()),
    ) else {
        // Not a form of ours: there is no record page to return to.
        return Ok(error_page(
            StatusCode::BAD_REQUEST,
            &t("print-unreadable-title"),
            &t("print-unreadable"),
        ));
    };
    let back = record_page(kind, id);
    let Ok(copies) = form.copies.trim().parse::<i32>() else {
        return Err(PageError::back(&back, copies_sentence()));
    };
    let job = PrintJob {
        kind,
        id,
        copies,
        reason: Some(form.reason.as_str()),
    };
    match printing::print(&state, &user.user.actor(), form.printer.trim(), job).await {
        Ok(printed) => Ok(redirect_with(&back, true, sent_sentence(&printed))),
        Err(AppError::Forbidden { .. }) => Ok(error_page(
            StatusCode::FORBIDDEN,
            &t("page-not-for-role"),
            &t("print-not-for-role"),
        )),
        Err(error) => Err(PageError::back(&back, refusal(&error, &user))),
    }
}

fn copies_sentence() -> String {
    t_with("print-copies-range", &[("max", arg(MAX_COPIES))])
}

fn sent_sentence(printed: &Printed) -> String {
    let args = [
        // a number, so the catalogue can say "1 label" and "12 labels"
        ("labels", FluentValue::from(printed.labels_sent)),
        ("printer", arg(&printed.printer)),
    ];
    // every label sent is recorded as issued
    t_with("print-sent-recorded", &args)
}

/// Printing's own refusals in the page's language; the others as every
/// form says them.
fn refusal(error: &AppError, user: &WebUser) -> String {
    match error {
        AppError::PrinterUnreachable { printer, address } => t_with(
            "print-unreachable",
            &[("printer", arg(printer)), ("address", arg(address))],
        ),
        AppError::UnknownPrinter { name, .. } => {
            t_with("print-unknown-printer", &[("printer", arg(name))])
        }
        AppError::ReprintReasonRequired => t("print-reprint-needs-reason"),
        AppError::InvalidField { field, .. } if field == "count" => copies_sentence(),
        other => sentence(other, user.zone),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accounts::Role;
    use crate::domain::actor::AuthenticatedUser;
    use crate::domain::zone::SiteZone;

    fn user(role: Role) -> WebUser {
        let user = AuthenticatedUser {
            user_id: Uuid::nil(),
            session_id: Uuid::nil(),
            username: "lab.tech".into(),
            full_name: "Lab Tech".into(),
            role,
            locked_until: None,
            created_at: chrono::Utc::now(),
        };
        WebUser::from_parts(user, "token", SiteZone::UTC)
    }

    #[test]
    fn a_labels_files_are_offered_as_png_pdf_and_zpl() {
        let html = label_files("/api/v1/storage/42/label").into_string();
        for format in ["png", "pdf", "zpl"] {
            let link = format!(
                r#"<a href="/api/v1/storage/42/label.{format}">{}</a>"#,
                format.to_uppercase()
            );
            assert!(html.contains(&link), "{link} missing from {html}");
        }
    }

    #[test]
    fn the_form_offers_each_printer_and_is_absent_without_one() {
        let printers = Printer::parse_list("lab-zebra=10.0.0.5,pharmacy=10.0.0.6:6101").unwrap();
        let id = Uuid::new_v4();
        let html = print_form(PrintKind::Vial, id, &printers, &user(Role::Lab)).into_string();
        for part in [
            r#"action="/print""#,
            r#"name="csrf""#,
            r#"name="kind" value="vial""#,
            &format!(r#"name="id" value="{id}""#),
            r#"<option value="lab-zebra">lab-zebra (10.0.0.5:9100)</option>"#,
            r#"<option value="pharmacy">pharmacy (10.0.0.6:6101)</option>"#,
            r#"name="copies" type="number""#,
            r#"max="10""#,
            r#"name="reason""#,
        ] {
            assert!(html.contains(part), "{part} missing from {html}");
        }
        // a wristband is recorded too: a reason for a reprint
        let wristband =
            print_form(PrintKind::Wristband, id, &printers, &user(Role::Clinician)).into_string();
        assert!(wristband.contains("wristband") && wristband.contains(r#"name="reason""#));
        // a DIN label is recorded, the lab's: a reason for a reprint
        let din = print_form(PrintKind::Donation, id, &printers, &user(Role::Lab)).into_string();
        assert!(din.contains(r#"value="donation""#) && din.contains(r#"name="reason""#));
        assert_eq!(
            record_page(PrintKind::Donation, id),
            format!("/donations/{id}")
        );
        assert!(
            print_form(PrintKind::Donation, id, &printers, &user(Role::Clinician))
                .into_string()
                .is_empty()
        );
        // no printer, or a role that does not print it: nothing at all
        assert!(
            print_form(PrintKind::Vial, id, &[], &user(Role::Lab))
                .into_string()
                .is_empty()
        );
        assert!(
            print_form(PrintKind::LotSheet, id, &printers, &user(Role::Quality))
                .into_string()
                .is_empty()
        );
    }
}
