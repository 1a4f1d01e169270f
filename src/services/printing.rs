//! Sending labels to the site's network label printers: the label rendered
//! as ZPL by the same renderer as the downloads, written raw to the
//! printer's TCP port (9100), and recorded as issued by the labels service
//! (label reconciliation: every label printed is accounted for; vials as
//! `POST …/label-issues` records them, a box label, a dose bag's label, a
//! wristband and a DIN label as one ledger event each).
//!
//! The order matters: the request is checked first (copies, a vial whose
//! life is over, a reprint without a reason), so a refused request never
//! prints; the labels are recorded only once the printer has taken every
//! byte, so a printer that does not answer records nothing.

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use uuid::Uuid;

use crate::domain::label::{UNLABELLED, check_labellable, check_request};
use crate::domain::lifecycle::VialStatus;
use crate::domain::printer::{PrintKind, Printer};
use crate::entities::vial;
use crate::error::{AppError, AppResult};
use crate::labels::{Format, LabelData};
use crate::services::Actor;
use crate::services::labels::{self, LabelIssue, RecordLabel};
use crate::services::store;
use crate::state::AppState;

/// A printer on the network answers at once or not at all.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Long enough for a sheet of a hundred labels over a slow link.
const WRITE_TIMEOUT: Duration = Duration::from_secs(15);

/// The printers configured, in the order they were named.
pub fn printers(state: &AppState) -> &[Printer] {
    &state.settings.printers
}

/// The printer so named, or the refusal naming the ones there are.
pub fn find_printer<'a>(state: &'a AppState, name: &str) -> AppResult<&'a Printer> {
    let known = printers(state);
    known
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| AppError::UnknownPrinter {
            name: name.to_owned(),
            known: known.iter().map(|p| p.name.clone()).collect(),
        })
}

/// What to print.
#[derive(Debug, Clone)]
pub struct PrintJob<'a> {
    pub kind: PrintKind,
    /// The vial, lot, dose, patient or donation.
    pub id: Uuid,
    /// Copies of each label, 1 to `labels::MAX_COPIES`.
    pub copies: i32,
    /// Why; required for a reprint (labels issued before).
    pub reason: Option<&'a str>,
}

/// What was sent, and the issue recorded for it.
#[derive(Debug, Clone)]
pub struct Printed {
    pub printer: String,
    pub address: String,
    pub kind: PrintKind,
    /// Labels the printer took, copies included.
    pub labels_sent: usize,
    /// Every label sent is recorded.
    pub issue: LabelIssue,
}

/// Prints `job` on the printer named `printer_name` for `actor`.
pub async fn print(
    state: &AppState,
    actor: &Actor,
    printer_name: &str,
    job: PrintJob<'_>,
) -> AppResult<Printed> {
    if let Some(role) = actor.role
        && !job.kind.printed_by().contains(&role)
    {
        return Err(AppError::Forbidden {
            required: job.kind.printed_by(),
            role,
        });
    }
    let printer = find_printer(state, printer_name)?.clone();
    let reason = check_request(job.copies, job.reason)?;
    let labels = labels_to_print(state, job.kind, job.id, reason.is_some()).await?;
    let zpl = render(state, labels, job.copies).await?;
    send(&printer, zpl.bytes.as_bytes()).await?;
    let (copies, reason) = (job.copies, reason.as_deref());
    let issue = match (job.kind, record_label(job.kind)) {
        (_, Some(label)) => {
            labels::issue_for_record(state, actor, label, job.id, copies, reason).await
        }
        (PrintKind::Vial, None) => {
            labels::issue_for_vial(state, actor, job.id, copies, reason).await
        }
        (_, None) => labels::issue_for_lot(state, actor, job.id, copies, reason).await,
    }
    .inspect_err(|error| {
        // Only a change between the check and the record gets here (a
        // vial discarded meanwhile, a first print racing another).
        tracing::warn!(printer = %printer.name, %error, "labels printed but not recorded");
    })?;
    Ok(Printed {
        printer: printer.name.clone(),
        address: printer.address(),
        kind: job.kind,
        labels_sent: zpl.labels,
        issue,
    })
}

/// The label recorded once per record (one event, no count on a row);
/// `None` for the vial labels, counted on each vial.
pub fn record_label(kind: PrintKind) -> Option<RecordLabel> {
    match kind {
        PrintKind::Vial | PrintKind::LotSheet => None,
        PrintKind::Lot => Some(RecordLabel::LotBox),
        PrintKind::Dose => Some(RecordLabel::Dose),
        PrintKind::Wristband => Some(RecordLabel::Wristband),
        PrintKind::Donation => Some(RecordLabel::Donation),
        PrintKind::StorageBox => Some(RecordLabel::StorageBox),
    }
}

/// The labels of the job, after the checks issuing them would make: a
/// refused issue must not print first.
async fn labels_to_print(
    state: &AppState,
    kind: PrintKind,
    id: Uuid,
    has_reason: bool,
) -> AppResult<Vec<LabelData>> {
    let db = state.db.conn();
    Ok(match kind {
        PrintKind::Vial => {
            let current = store::find_or_404::<vial::Entity>(db, id).await?;
            check_labellable(current.status)?;
            if current.labels_issued > 0 && !has_reason {
                return Err(AppError::ReprintReasonRequired);
            }
            vec![labels::vial_label(state, id).await?]
        }
        PrintKind::LotSheet => {
            let (_, sheet) = labels::lot_sheet(state, id).await?;
            if sheet.is_empty() {
                return Err(AppError::invalid(
                    "lot",
                    "the lot has no vials to label (it is not frozen yet, or none is left)",
                ));
            }
            let labelled_before = vial::Entity::find()
                .filter(vial::Column::LotId.eq(id))
                .filter(vial::Column::Status.is_not_in(UNLABELLED.map(VialStatus::as_str)))
                .filter(vial::Column::LabelsIssued.gt(0))
                .count(db)
                .await?;
            if labelled_before > 0 && !has_reason {
                return Err(AppError::ReprintReasonRequired);
            }
            sheet
        }
        PrintKind::Lot
        | PrintKind::Dose
        | PrintKind::Wristband
        | PrintKind::Donation
        | PrintKind::StorageBox => {
            // the label first: an unknown record is a 404 before the count
            let label = match kind {
                PrintKind::Lot => labels::lot_label(state, id).await?,
                PrintKind::Dose => labels::dose_label(state, id).await?,
                PrintKind::Wristband => labels::wristband_label(state, id).await?,
                PrintKind::StorageBox => labels::box_label(state, id).await?,
                _ => labels::donation_label(state, id).await?,
            };
            if let Some(recorded) = record_label(kind)
                && !has_reason
                && labels::label_issues(db, recorded, id).await? > 0
            {
                return Err(AppError::ReprintReasonRequired);
            }
            vec![label]
        }
    })
}

struct Zpl {
    bytes: String,
    labels: usize,
}

/// Each label as ZPL, `copies` times over, one `^XA … ^XZ` per label
/// printed (the copies of a vial's label side by side on the roll).
/// Rendered off the async workers: a sheet is tens of milliseconds of CPU.
async fn render(state: &AppState, labels: Vec<LabelData>, copies: i32) -> AppResult<Zpl> {
    let renderer = state.labels.clone();
    let copies = usize::try_from(copies).unwrap_or(1);
    tokio::task::spawn_blocking(move || {
        let mut bytes = String::new();
        for label in &labels {
            let one = renderer.render(label, Format::Zpl)?;
            let one = String::from_utf8(one).map_err(AppError::internal)?;
            for _ in 0..copies {
                bytes.push_str(&one);
                if !one.ends_with('\n') {
                    bytes.push('\n');
                }
            }
        }
        Ok(Zpl {
            bytes,
            labels: labels.len() * copies,
        })
    })
    .await
    .map_err(AppError::internal)?
}

/// Connects, writes every byte and closes: only then has the printer taken
/// the job. Any failure (no route, refused, timed out) is the printer not
/// answering.
async fn send(printer: &Printer, bytes: &[u8]) -> AppResult<()> {
    let sent = async {
        let mut stream = tokio::time::timeout(
            CONNECT_TIMEOUT,
            TcpStream::connect((printer.host.as_str(), printer.port)),
        )
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        tokio::time::timeout(WRITE_TIMEOUT, async {
            stream.write_all(bytes).await?;
            stream.flush().await?;
            stream.shutdown().await
        })
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
    }
    .await;
    sent.map_err(|error| {
        tracing::warn!(printer = %printer.name, address = %printer.address(), %error, "printer did not take the labels");
        AppError::PrinterUnreachable {
            printer: printer.name.clone(),
            address: printer.address(),
        }
    })
}
