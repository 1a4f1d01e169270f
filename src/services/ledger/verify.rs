//! Verifying the custody ledger: the whole chain recomputed, oldest first,
//! while the next pages are read, held against the signed checkpoints and
//! replayed against the tables; the last full check, for the home page.

use std::borrow::Cow;
use std::collections::VecDeque;

use chrono::DateTime;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use uuid::Uuid;

use super::content;
use crate::db::Db;
use crate::domain::checkpoint::CheckpointJudge;
use crate::domain::ledger::{ChainReport, ChainVerifier};
use crate::domain::replay::{EventView, Replay};
use crate::entities::custody_event;
use crate::state::ledger::LedgerCheck;

/// Events read per query while verifying.
const VERIFY_BATCH: u64 = 10_000;
/// Pages read at once while verifying, each on a connection of its own.
const READ_AHEAD: usize = 3;

/// Recomputes the whole chain, oldest first, names the first broken link,
/// and replays the events against the tables. The next page is read while
/// the current one is hashed, so verification runs at about the speed of
/// reading.
pub async fn verify(db: &Db) -> Result<ChainReport, DbErr> {
    verify_with(db, None).await
}

/// The same, and every signed checkpoint held against the chain: each
/// checkpointed event must still be there with the hash that was signed
/// (removed, rewritten or reordered events after a checkpoint are named).
pub async fn verify_with(db: &Db, judge: Option<CheckpointJudge>) -> Result<ChainReport, DbErr> {
    walk(db, judge, true).await
}

/// The chain alone, without the replay (what verification cost before the
/// replay; the benchmark's baseline).
pub async fn verify_chain(db: &Db) -> Result<ChainReport, DbErr> {
    walk(db, None, false).await
}

async fn walk(
    db: &Db,
    mut judge: Option<CheckpointJudge>,
    replay: bool,
) -> Result<ChainReport, DbErr> {
    // The tables first, with the last event they reflect: the replay stops
    // there, however many events are appended meanwhile.
    let snapshot = if replay {
        Some(crate::services::replay::snapshot(db).await?)
    } else {
        None
    };
    let replay_until = snapshot.as_ref().map_or(0, |(_, seq)| *seq);
    let mut replayed = snapshot.as_ref().map(|_| Replay::default());
    let mut verifier = ChainVerifier::default();
    let mut last_seq = 0;
    let mut broken = false;
    let mut pages = Pages::open(db).await?;
    'pages: while let Some(page) = pages.next().await? {
        for event in &page {
            last_seq = event.seq;
            if let Some(judge) = judge.as_mut() {
                judge.event(event.seq, &event.hash);
            }
            if !broken && !verifier.check(&content(event), &event.hash) {
                broken = true;
                if judge.is_none() {
                    break 'pages;
                }
            }
            if let Some(replay) = replayed.as_mut()
                && event.seq <= replay_until
            {
                replay.apply(&EventView {
                    seq: event.seq,
                    occurred_at: event.occurred_at,
                    actor_id: event.actor_id,
                    actor_username: &event.actor_username,
                    action: &event.action,
                    subject_id: event.subject_id,
                    details: &event.details,
                    hash: &event.hash,
                });
            }
        }
    }
    let mut report = verifier.finish();
    if let Some(judge) = judge {
        let checked = judge.finish(last_seq);
        report.ok &= checked.problems.is_empty();
        report.checkpoints = Some(checked);
    }
    // A chain cut short of the snapshot leaves the replay incomplete: its
    // differences would be the missing events', already named above.
    if let (Some(replay), Some((tables, _))) = (replayed, snapshot)
        && last_seq >= replay_until
    {
        let compared = replay.compare(&tables);
        report.ok &= compared.is_clean();
        report.replay = Some(compared);
    }
    report.last_seq = last_seq;
    Ok(report)
}

type Page = Vec<custody_event::Model>;

/// The ledger in `seq` order, read ahead on several connections: up to the
/// head found at the start, pages are ranges of `seq` numbers
/// (`VERIFY_BATCH` each, `READ_AHEAD` in flight), so none waits for the one
/// before; after it, pages follow one another until the end, so events
/// appended meanwhile are read too. A range that comes back empty (a gap,
/// which the verifier names) makes the reader jump to the next event.
struct Pages {
    db: Db,
    /// The last `seq` of the last range asked for.
    asked: i64,
    /// The head when reading began.
    head: i64,
    /// The last `seq` handed out.
    last: Option<i64>,
    in_flight: VecDeque<tokio::task::JoinHandle<Result<Page, DbErr>>>,
}

impl Drop for Pages {
    fn drop(&mut self) {
        for read in &self.in_flight {
            read.abort();
        }
    }
}

impl Pages {
    async fn open(db: &Db) -> Result<Pages, DbErr> {
        let (first, head) = custody_event::Entity::find()
            .select_only()
            .column_as(custody_event::Column::Seq.min(), "first")
            .column_as(custody_event::Column::Seq.max(), "head")
            .into_tuple::<(Option<i64>, Option<i64>)>()
            .one(db.conn())
            .await?
            .unwrap_or_default();
        let mut pages = Pages {
            db: db.clone(),
            asked: first.map_or(0, |f| f.saturating_sub(1)),
            head: head.unwrap_or(0),
            last: None,
            in_flight: VecDeque::new(),
        };
        pages.ask();
        Ok(pages)
    }

    /// Keeps `READ_AHEAD` ranges in flight up to the head.
    fn ask(&mut self) {
        while self.in_flight.len() < READ_AHEAD && self.asked < self.head {
            let (after, to) = (self.asked, self.asked.saturating_add(VERIFY_BATCH as i64));
            let db = self.db.clone();
            self.in_flight.push_back(tokio::spawn(
                async move { read_range(&db, after, to).await },
            ));
            self.asked = to;
        }
    }

    async fn next(&mut self) -> Result<Option<Page>, DbErr> {
        loop {
            let Some(read) = self.in_flight.pop_front() else {
                // past the starting head: whatever was appended since
                let after = self.last.unwrap_or(self.asked.min(self.head));
                let page = read_after(&self.db, after).await?;
                self.last = page.last().map(|e| e.seq).or(self.last);
                return Ok((!page.is_empty()).then_some(page));
            };
            let page = read
                .await
                .map_err(|e| DbErr::Custom(format!("reading the ledger failed: {e}")))??;
            if page.is_empty() {
                // a gap of a whole range: jump to the next event there is
                for read in self.in_flight.drain(..) {
                    read.abort();
                }
                let after = self.last.unwrap_or(i64::MIN);
                let next = custody_event::Entity::find()
                    .select_only()
                    .column_as(custody_event::Column::Seq.min(), "next")
                    .filter(custody_event::Column::Seq.gt(after))
                    .into_tuple::<Option<i64>>()
                    .one(self.db.conn())
                    .await?
                    .flatten();
                match next {
                    Some(next) if next <= self.head => {
                        self.asked = next - 1;
                        self.ask();
                    }
                    _ => self.asked = self.head,
                }
                continue;
            }
            self.last = page.last().map(|e| e.seq);
            self.ask();
            return Ok(Some(page));
        }
    }
}

async fn read_range(db: &Db, after: i64, to: i64) -> Result<Page, DbErr> {
    if db.backend() == DbBackend::Sqlite
        && let Some(page) = read_range_sqlite(db, after, to).await?
    {
        return Ok(page);
    }
    custody_event::Entity::find()
        .filter(custody_event::Column::Seq.gt(after))
        .filter(custody_event::Column::Seq.lte(to))
        .order_by_asc(custody_event::Column::Seq)
        .all(db.conn())
        .await
}

/// One row per event costs SQLite's driver a hand-over between threads
/// and a decode per column; a page as one JSON array built by SQLite
/// costs one. `None` when a row is not as celltrail writes it (a time in
/// another format, an id that is not 16 bytes): the caller then reads the
/// page row by row, and the verifier judges what it finds.
async fn read_range_sqlite(db: &Db, after: i64, to: i64) -> Result<Option<Page>, DbErr> {
    type Row<'a> = (
        i64,
        &'a str,
        Option<&'a str>,
        Cow<'a, str>,
        Cow<'a, str>,
        Cow<'a, str>,
        &'a str,
        Option<Cow<'a, str>>,
        Option<Cow<'a, str>>,
        Cow<'a, str>,
        &'a str,
        &'a str,
    );
    let row = db
        .conn()
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT json_group_array(json_array(seq, occurred_at, nullif(hex(actor_id), ''), \
             actor_username, action, subject_kind, hex(subject_id), from_location, to_location, \
             details, prev_hash, hash)) AS page \
             FROM (SELECT * FROM custody_events WHERE seq > $1 AND seq <= $2 ORDER BY seq)",
            [after.into(), to.into()],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(Some(Vec::new()));
    };
    let text: String = row.try_get("", "page")?;
    let Ok(rows) = serde_json::from_str::<Vec<Row<'_>>>(&text) else {
        return Ok(None);
    };
    let mut page = Vec::with_capacity(rows.len());
    for (seq, at, actor, username, action, kind, subject, from, to, details, prev, hash) in rows {
        let occurred_at = DateTime::parse_from_rfc3339(at).map(|t| t.to_utc());
        let actor_id = actor.map(Uuid::try_parse).transpose();
        let subject_id = Uuid::try_parse(subject);
        let (Ok(occurred_at), Ok(actor_id), Ok(subject_id)) = (occurred_at, actor_id, subject_id)
        else {
            return Ok(None);
        };
        page.push(custody_event::Model {
            seq,
            occurred_at,
            actor_id,
            actor_username: username.into_owned(),
            action: action.into_owned(),
            subject_kind: kind.into_owned(),
            subject_id,
            from_location: from.map(Cow::into_owned),
            to_location: to.map(Cow::into_owned),
            details: details.into_owned(),
            prev_hash: prev.to_owned(),
            hash: hash.to_owned(),
        });
    }
    Ok(Some(page))
}

async fn read_after(db: &Db, after: i64) -> Result<Page, DbErr> {
    custody_event::Entity::find()
        .filter(custody_event::Column::Seq.gt(after))
        .order_by_asc(custody_event::Column::Seq)
        .limit(VERIFY_BATCH)
        .all(db.conn())
        .await
}

/// Verifies the whole chain against the trusted checkpoints and remembers
/// the result for the home page. A chain found behind its checkpoint, or
/// rewritten under it, raises the alarm: appends are refused from then on.
pub async fn check(state: &crate::state::AppState) -> Result<LedgerCheck, DbErr> {
    let (checkpoints, key) = crate::services::checkpoints::trusted(state);
    let report = verify_with(&state.db, Some(CheckpointJudge::new(key, checkpoints))).await?;
    if let Some(problem) = report.checkpoints.as_ref().and_then(|c| {
        c.problems.iter().find(|p| {
            !matches!(
                p,
                crate::domain::checkpoint::CheckpointProblem::BadSignature { .. }
            )
        })
    }) {
        state.db.floor().raise(problem.to_string());
    }
    let check = LedgerCheck {
        at: state.clock.now(),
        report,
    };
    if !check.report.ok {
        tracing::error!(
            first_bad_seq = check.report.first_bad_seq,
            "the custody ledger does not verify"
        );
    }
    if let Ok(mut last) = state.ledger_check.write() {
        *last = Some(check.clone());
    }
    Ok(check)
}

/// The last check, if one ran.
pub fn last_check(state: &crate::state::AppState) -> Option<LedgerCheck> {
    state.ledger_check.read().ok().and_then(|c| c.clone())
}
