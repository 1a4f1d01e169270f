//! Labels and scanning, in one run:
//!
//! 1. the baseline, a bare `qrcode` encode of a vial payload rendered to a
//!    PNG (same error correction, module size and quiet zone as the label),
//!    against full vial labels as PNG, SVG and ZPL (layout, fitted text,
//!    QR, encoding), per second, alternating so noise hits all;
//! 2. the PDF sheet of a 96-vial lot (composing 96 labels and writing the
//!    PDF), in milliseconds;
//! 3. `POST /api/v1/scan` of a stored vial's label against `GET /healthz`:
//!    requests per second and p50/p99 latency under 64 concurrent
//!    connections and with one, on loopback; served in the bench's process,
//!    then by the release binary (`target/release/celltrail serve` on the
//!    same SQLite file) with this process as the load generator outside it.
//!    Both log at `info`, as a deployed server does (`BENCH_LOG=off`: no
//!    logging).
//!
//! `cargo bench --bench labels`. `BENCH_SECONDS` sets a round (default 2).

mod support;

use std::time::{Duration, Instant};

use chrono::Utc;
use image::Luma;
use qrcode::{EcLevel, QrCode};
use serde_json::json;

use celltrail::domain::storage::StorageKind;
use celltrail::labels::{Format, LabelKind, Labels, png, sample};
use celltrail::services::{Actor, accounts, donations, donors, labels, lots, storage, vials};
use support::{Load, alternate, client, compare, login, spawn_sqlite};

fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let round = Duration::from_secs(seconds);
    rendering(round);
    sheet();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(scanning(round));
}

/// Calls `f` for `round` and returns calls per second.
fn rate(round: Duration, mut f: impl FnMut() -> usize) -> f64 {
    let started = Instant::now();
    let mut calls = 0u64;
    let mut bytes = 0usize;
    while started.elapsed() < round {
        bytes += f();
        calls += 1;
    }
    std::hint::black_box(bytes);
    calls as f64 / started.elapsed().as_secs_f64()
}

fn rendering(round: Duration) {
    let labels = Labels::builtin();
    let data = sample(LabelKind::Vial);
    let payload = data.payload.clone();
    let layout = &labels.vial;
    let bare = || {
        let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::Q).unwrap();
        let image = code
            .render::<Luma<u8>>()
            .module_dimensions(layout.qr.module, layout.qr.module)
            .quiet_zone(true)
            .build();
        png::encode(&image, layout.dpi).len()
    };
    let render = |format| labels.render(&data, format).unwrap().len();
    println!("vial label {payload:?}, rounds of {} s", round.as_secs());
    let mut ratios = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..3 {
        let base = rate(round, bare);
        let png = rate(round, || render(Format::Png));
        let svg = rate(round, || render(Format::Svg));
        let zpl = rate(round, || render(Format::Zpl));
        println!(
            "bare QR + PNG {base:>8.0}/s   label PNG {png:>8.0}/s   SVG {svg:>8.0}/s   ZPL {zpl:>8.0}/s"
        );
        ratios[0].push(png / base);
        ratios[1].push(svg / png);
        ratios[2].push(zpl / png);
    }
    for r in &mut ratios {
        r.sort_by(f64::total_cmp);
    }
    println!(
        "label PNG ÷ bare QR+PNG: median {:.2} (target ≥ 0.50)\nSVG ÷ PNG: {:.1}×   ZPL ÷ PNG: {:.1}× (target > 1)\n",
        ratios[0][1], ratios[1][1], ratios[2][1]
    );
}

fn sheet() {
    let labels = Labels::builtin();
    let sheet: Vec<_> = (1..=96)
        .map(|n| {
            let mut data = sample(LabelKind::Vial);
            let code = format!("A999926000123-L01-V{n:03}");
            data.payload = format!("CT1:V:{code}");
            data.set("vial_code", code);
            data
        })
        .collect();
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..7 {
        let started = Instant::now();
        size = labels.sheet(&sheet).unwrap().len();
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "PDF sheet of 96 vial labels ({} pages, {} KB): median {:.1} ms, worst {:.1} ms (target < 250 ms)\n",
        96usize.div_ceil(labels.sheet.per_page()),
        size / 1024,
        times[3].as_secs_f64() * 1e3,
        times[6].as_secs_f64() * 1e3
    );
}

async fn scanning(round: Duration) {
    let app = spawn_sqlite().await;
    let state = &app.state;
    let actor = Actor::system("bench");
    accounts::create(
        state,
        &actor,
        accounts::NewAccount {
            username: "lab.bench",
            full_name: "Lab Bench",
            role: "lab",
            password: "lab-bench-password",
        },
    )
    .await
    .unwrap();
    let now = Utc::now();
    let day = chrono::Duration::days(1);
    let donor = donors::register(state, &actor, "BENCH-SCAN", now - day * 3)
        .await
        .unwrap();
    let donation = donations::create(state, &actor, donor.donor.id, now - day * 2, now - day * 2)
        .await
        .unwrap();
    let lot = lots::create(
        state,
        &actor,
        lots::NewLot {
            donation_id: donation.id,
            product_code: "S1395",
            passage: 3,
            manufactured_at: now - day,
            expires_at: now + day * 365,
            site_id: None,
        },
    )
    .await
    .unwrap();
    let (_, frozen) = lots::freeze(
        state,
        &actor,
        lot.lot.id,
        lots::Freezing {
            vial_count: 96,
            cells_per_vial: 25_000_000,
            volume_ul: 1_500,
            frozen_at: now,
        },
    )
    .await
    .unwrap();
    let unit = |name, kind, parent_id, size: Option<i32>| storage::NewUnit {
        name,
        kind,
        parent_id,
        rows: size,
        cols: size,
        site_id: None,
    };
    let tank = storage::create(state, &actor, unit("T1", StorageKind::Tank, None, None))
        .await
        .unwrap();
    let the_box = storage::create(
        state,
        &actor,
        unit("B1", StorageKind::Box, Some(tank.id), Some(10)),
    )
    .await
    .unwrap();
    vials::store(state, &actor, frozen[0].id, the_box.id, "A1")
        .await
        .unwrap();
    let payload = labels::vial_label(state, frozen[0].id)
        .await
        .unwrap()
        .payload;

    let connections = 64;
    let http = client(connections);
    let token = login(&http, &app.base, "lab.bench", "lab-bench-password").await;
    let loads = [
        Load::new("GET /healthz", 200, |c, base| {
            c.get(format!("{base}/healthz"))
        }),
        Load::new("POST /api/v1/scan", 200, move |c, base| {
            c.post(format!("{base}/api/v1/scan"))
                .bearer_auth(&token)
                .json(&json!({ "payload": payload }))
        }),
    ];
    let logging = if support::logging() {
        "logging at info"
    } else {
        "logging off"
    };
    let mut summary = Vec::new();
    for outside in [false, true] {
        let binary = if outside {
            Some(support::spawn_binary(&app).await)
        } else {
            None
        };
        let (server, base) = match &binary {
            Some(b) => ("release binary, load from outside", b.base.clone()),
            None => ("in process", app.base.clone()),
        };
        for n in [connections, 1] {
            println!(
                "POST /api/v1/scan of a stored vial against GET /healthz: SQLite, {server}, {logging}, {n} connection(s)"
            );
            let reports = alternate(&http, &base, &loads, n, round, 3).await;
            summary.push(format!(
                "[{server}, {n} conn.] {}",
                compare("scan ÷ healthz", &reports[1], &reports[0])
            ));
        }
    }
    println!("\nMedians of 3 rounds (range), each ratio within its round:");
    for line in summary {
        println!("{line}");
    }
    println!("targets: at 64 connections scan ≥ 0.30× requests/s and p99 ≤ 3×; at one, p50 ≤ 2.5×");
}
