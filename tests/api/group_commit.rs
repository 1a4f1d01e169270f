//! Writers queued together share one commit on SQLite (`db::write`): what
//! each is told must be what the database holds. A write acknowledged is
//! on disk; a write refused, dropped or caught in a failed commit left
//! nothing, whoever else shared its transaction. On PostgreSQL each write
//! is its own transaction and the same must hold.

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tokio::sync::Barrier;

use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    every_write_is_told_what_the_database_holds,
    a_refused_write_takes_nothing_of_its_neighbours,
    a_broken_statement_fails_the_writes_that_shared_its_commit,
    a_commit_given_up_half_way_still_ends_its_transaction,
    a_write_that_carries_on_past_a_broken_statement_is_not_committed,
);

async fn probe_table(app: &TestApp) {
    app.state
        .db
        .conn()
        .execute_unprepared("CREATE TABLE group_commit_probe (id BIGINT PRIMARY KEY)")
        .await
        .unwrap();
}

fn insert(backend: DbBackend, id: i64) -> Statement {
    Statement::from_sql_and_values(
        backend,
        "INSERT INTO group_commit_probe (id) VALUES ($1)",
        [id.into()],
    )
}

/// A statement that ends the transaction it runs in: a trigger's
/// `RAISE(ROLLBACK)` on SQLite (as a full disk would), any error on
/// PostgreSQL.
async fn breaking_statement(app: &TestApp) -> &'static str {
    if app.state.db.backend() != DbBackend::Sqlite {
        return "SELECT * FROM no_such_table";
    }
    app.state
        .db
        .conn()
        .execute_unprepared(
            "CREATE TABLE group_commit_trap (id INTEGER); \
             CREATE TRIGGER group_commit_sprung BEFORE INSERT ON group_commit_trap \
             BEGIN SELECT RAISE(ROLLBACK, 'the whole transaction is rolled back'); END",
        )
        .await
        .unwrap();
    "INSERT INTO group_commit_trap (id) VALUES (1)"
}

/// Runs `work` in a task of its own and returns once the task is queued
/// for the write lock (it signals, then asks for the lock in the same
/// poll; the pause covers a loaded machine: 20 ms was seen to be too short
/// on two cores with the whole suite and two compilers running).
async fn queued<T, F>(db: &celltrail::db::Db, work: F) -> tokio::task::JoinHandle<T>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let before = db.writers_waiting();
    let (ready, started) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let _ = ready.send(());
        work.await
    });
    started.await.unwrap();
    if db.backend() == DbBackend::Sqlite {
        // until it waits for the write lock: a fixed pause was not always
        // long enough on a loaded machine
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while db.writers_waiting() <= before && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    } else {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    task
}

/// A writer, queued behind whoever holds the lock, that writes row 2,
/// runs `failing` (which must fail) and gives up.
async fn refused_writer(app: &TestApp, failing: &'static str) -> tokio::task::JoinHandle<()> {
    let db = app.state.db.clone();
    queued(&app.state.db, async move {
        let txn = db.write().await.unwrap();
        txn.execute_raw(insert(db.backend(), 2)).await.unwrap();
        assert!(txn.execute_unprepared(failing).await.is_err());
        drop(txn);
    })
    .await
}

async fn stored(app: &TestApp) -> Vec<i64> {
    let conn = app.state.db.conn();
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT id FROM group_commit_probe ORDER BY id",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<i64>("", "id").unwrap())
        .collect()
}

/// 48 writers at once: every third gives up after writing (dropped, as a
/// refused request is), every seventh runs a statement that is refused
/// and gives up too. Exactly the writes whose commit succeeded are stored,
/// and every writer that did not give up succeeded.
async fn every_write_is_told_what_the_database_holds(app: TestApp) {
    probe_table(&app).await;
    let backend = app.state.db.backend();
    let start = Arc::new(Barrier::new(48));
    let writers = (0..48i64).map(|id| {
        let (db, start) = (app.state.db.clone(), start.clone());
        tokio::spawn(async move {
            start.wait().await;
            let txn = db.write().await.unwrap();
            txn.execute_raw(insert(backend, id)).await.unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
            if id % 7 == 3 {
                let broken = txn.execute_unprepared("SELECT * FROM no_such_table").await;
                assert!(broken.is_err());
                return false;
            }
            if id % 3 == 0 {
                return false;
            }
            txn.commit().await.is_ok()
        })
    });
    let told: Vec<bool> = futures::future::join_all(writers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let acknowledged: Vec<i64> = (0..48i64).filter(|id| told[*id as usize]).collect();
    assert_eq!(stored(&app).await, acknowledged);
    let committed: Vec<i64> = (0..48i64).filter(|id| id % 3 != 0 && id % 7 != 3).collect();
    assert_eq!(acknowledged, committed);
    // and the next write goes through
    let txn = app.state.db.write().await.unwrap();
    txn.execute_raw(insert(backend, 100)).await.unwrap();
    txn.commit().await.unwrap();
    assert!(stored(&app).await.contains(&100));
}

/// The first writer commits while a second waits for the lock; the second
/// joins the same transaction and is refused: the first is on disk.
async fn a_refused_write_takes_nothing_of_its_neighbours(app: TestApp) {
    probe_table(&app).await;
    let backend = app.state.db.backend();
    let first = app.state.db.write().await.unwrap();
    first.execute_raw(insert(backend, 1)).await.unwrap();
    // a duplicate key is a refusal, not a broken transaction
    let second = refused_writer(&app, "INSERT INTO group_commit_probe (id) VALUES (1)").await;
    first.commit().await.unwrap();
    second.await.unwrap();
    assert_eq!(stored(&app).await, vec![1]);
}

/// As above, but the second writer's statement ends the transaction (a
/// trigger's `RAISE(ROLLBACK)` on SQLite, as a full disk would): the first
/// writer is told its write failed, and nothing of either is stored.
async fn a_broken_statement_fails_the_writes_that_shared_its_commit(app: TestApp) {
    probe_table(&app).await;
    let backend = app.state.db.backend();
    let breaking = breaking_statement(&app).await;
    let first = app.state.db.write().await.unwrap();
    first.execute_raw(insert(backend, 1)).await.unwrap();
    let second = refused_writer(&app, breaking).await;
    // a third writer queues behind the second: it must not find itself in
    // what is left of the rolled-back transaction
    let db = app.state.db.clone();
    let third = queued(&app.state.db, async move {
        let txn = db.write().await.unwrap();
        txn.execute_raw(insert(backend, 3)).await.unwrap();
        txn.commit().await.is_ok()
    })
    .await;
    let told = first.commit().await;
    second.await.unwrap();
    assert!(third.await.unwrap(), "the third writer's own transaction");
    match backend {
        // the first shared the second's transaction
        DbBackend::Sqlite => {
            assert!(told.is_err());
            assert_eq!(stored(&app).await, vec![3]);
        }
        // its own transaction
        _ => {
            told.unwrap();
            assert_eq!(stored(&app).await, vec![1, 3]);
        }
    }
}

/// A request given up while its commit waits (its client went away): the
/// transaction still ends, so the database is not left locked, and what
/// was committed is whole.
async fn a_commit_given_up_half_way_still_ends_its_transaction(app: TestApp) {
    probe_table(&app).await;
    let backend = app.state.db.backend();
    let txn = app.state.db.write().await.unwrap();
    txn.execute_raw(insert(backend, 1)).await.unwrap();
    // polled once, then dropped
    assert!(txn.commit().now_or_never().is_none_or(|told| told.is_ok()));
    // a write by another connection is not kept waiting
    let other = tokio::time::timeout(
        Duration::from_secs(3),
        app.state.db.conn().execute_raw(insert(backend, 2)),
    )
    .await
    .expect("the database is not left locked");
    other.unwrap();
    let stored = stored(&app).await;
    assert!(stored == vec![1, 2] || stored == vec![2], "{stored:?}");
}

/// A writer that goes on after a statement ended its transaction and
/// commits is told it failed, on both engines; the writer after it finds
/// a transaction of its own, not the remains of that one.
async fn a_write_that_carries_on_past_a_broken_statement_is_not_committed(app: TestApp) {
    probe_table(&app).await;
    let backend = app.state.db.backend();
    let breaking = breaking_statement(&app).await;
    let txn = app.state.db.write().await.unwrap();
    txn.execute_raw(insert(backend, 1)).await.unwrap();
    assert!(txn.execute_unprepared(breaking).await.is_err());
    // what a careless caller would do: carry on and commit
    let _ = txn.execute_raw(insert(backend, 2)).await;
    // told so, on PostgreSQL too (where the COMMIT would quietly roll back)
    assert!(txn.commit().await.is_err());
    let txn = app.state.db.write().await.unwrap();
    txn.execute_raw(insert(backend, 3)).await.unwrap();
    txn.commit().await.unwrap();
    assert_eq!(stored(&app).await, vec![3]);
}
