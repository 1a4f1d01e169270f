//! The protocol in force, kept in memory by each instance
//! (`services::protocol`): the instance that amends it calculates with the
//! new version at once, and every other instance on the same database
//! within a second; a calculation never mixes two versions.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::clinic::signature;
use crate::helpers::TestApp;
use crate::processes::{Client, ServerProcess};
use crate::{on_both_databases, on_postgresql};

on_both_databases!(an_amendment_is_calculated_with_at_once_on_the_instance_that_made_it);
on_postgresql!(an_amendment_on_one_instance_is_calculated_with_by_the_other_within_a_second);

/// The body that amends the protocol of `current` to `dose_cells_per_kg`.
fn amendment(current: &Value, dose_cells_per_kg: i64, reason: &str) -> Value {
    let mut protocol = current.clone();
    for field in ["version", "effective_at", "recorded_by", "reason"] {
        protocol.as_object_mut().unwrap().remove(field);
    }
    protocol["dose_cells_per_kg"] = json!(dose_cells_per_kg);
    json!({ "protocol": protocol, "reason": reason, "signature": signature("approval") })
}

/// (protocol version, target cells) of a 70 kg calculation's answer.
fn version_and_target(answer: &Value) -> (i64, i64) {
    (
        answer["protocol_version"].as_i64().unwrap(),
        answer["target_cells"].as_i64().unwrap(),
    )
}

async fn an_amendment_is_calculated_with_at_once_on_the_instance_that_made_it(app: TestApp) {
    let team = app.team().await;
    let (_, pharmacist) = app.staff("calc.pharm", "pharmacist").await;
    let calc = || {
        app.post(
            "/api/v1/dose-calculations",
            Some(&pharmacist),
            json!({ "weight_kg": 70 }),
        )
    };
    // used several times, so the version in force is kept in memory
    for _ in 0..5 {
        let answer = calc().await.expect(200);
        assert_eq!(version_and_target(&answer), (1, 70_000_000));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let current = app
        .get("/api/v1/protocol", Some(&team.lab))
        .await
        .expect(200);
    app.put(
        "/api/v1/protocol",
        Some(&team.quality),
        amendment(&current, 2_000_000, "double dose"),
    )
    .await
    .expect(200);
    let answer = calc().await.expect(200);
    assert_eq!(version_and_target(&answer), (2, 140_000_000));
    assert_eq!(
        app.get("/api/v1/protocol", Some(&team.lab))
            .await
            .expect(200)["version"],
        2
    );
    // a patient that does not exist is still a 404, not "no weight"
    app.post(
        "/api/v1/dose-calculations",
        Some(&pharmacist),
        json!({ "patient_id": uuid::Uuid::new_v4() }),
    )
    .await
    .expect_error(404, "not_found");
}

async fn an_amendment_on_one_instance_is_calculated_with_by_the_other_within_a_second(
    app: TestApp,
) {
    let b_files = tempfile::tempdir().unwrap();
    let b = ServerProcess::start(
        &app.database_url,
        &app.files.path().join("celltrail-ledger.key"),
        &b_files.path().join("checkpoints"),
        &b_files.path().join("serve.log"),
    );
    let client = Client::new();
    let team = app.team().await;
    let (_, pharmacist) = app.staff("two.pharm", "pharmacist").await;
    let on_b = || {
        let (client, base, token) = (&client, b.base.clone(), pharmacist.clone());
        async move {
            let (status, body) = client
                .post(
                    &base,
                    "/api/v1/dose-calculations",
                    &token,
                    json!({ "weight_kg": 70 }),
                )
                .await
                .expect("B answers");
            assert_eq!(status, 200, "{body}");
            version_and_target(&body)
        }
    };
    let on_a = || async {
        let answer = app
            .post(
                "/api/v1/dose-calculations",
                Some(&pharmacist),
                json!({ "weight_kg": 70 }),
            )
            .await
            .expect(200);
        version_and_target(&answer)
    };
    // B keeps version 1 (its watcher has read the version number)
    for _ in 0..5 {
        assert_eq!(on_b().await, (1, 70_000_000));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    /// How long until `calc` answers `want`, asking every 20 ms; every
    /// answer before is the previous version, whole.
    async fn until<F, Fut>(mut calc: F, before: (i64, i64), want: (i64, i64)) -> Duration
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = (i64, i64)>,
    {
        let started = Instant::now();
        loop {
            let got = calc().await;
            if got == want {
                return started.elapsed();
            }
            assert_eq!(got, before, "neither the old version nor the new");
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the amendment was not used after 5 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    // amended on A: at once on A, within a second on B
    let current = app
        .get("/api/v1/protocol", Some(&team.lab))
        .await
        .expect(200);
    app.put(
        "/api/v1/protocol",
        Some(&team.quality),
        amendment(&current, 2_000_000, "double dose"),
    )
    .await
    .expect(200);
    assert_eq!(on_a().await, (2, 140_000_000), "at once on A");
    let mut took = vec![until(on_b, (1, 70_000_000), (2, 140_000_000)).await];

    // amended on B: at once on B, within a second on A
    let quality = client
        .login(&b.base, "qa.officer", crate::helpers::STAFF_PASSWORD)
        .await;
    let (status, current) = client
        .get(&b.base, "/api/v1/protocol", &quality)
        .await
        .expect("B answers");
    assert_eq!(status, 200);
    let (status, body) = client
        .send(
            client
                .http
                .put(format!("{}/api/v1/protocol", b.base))
                .bearer_auth(&quality)
                .json(&amendment(&current, 3_000_000, "triple dose")),
        )
        .await
        .expect("B answers");
    assert_eq!(status, 200, "{body}");
    assert_eq!(on_b().await, (3, 210_000_000), "at once on B");
    took.push(until(on_a, (2, 140_000_000), (3, 210_000_000)).await);

    for t in &took {
        assert!(*t <= Duration::from_secs(1), "used after {took:?}");
    }
    assert_eq!(b.errors(), Vec::<String>::new(), "instance B logged errors");
}
