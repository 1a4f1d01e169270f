//! The assessment visits on the clinician's and quality officer's home
//! pages, as the test clock moves past the first infusion.

use chrono::Duration;
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::{id, rfc3339};
use crate::web::{page, sign_in};

on_both_databases!(a_visit_due_shows_on_the_home_pages_until_it_is_assessed);

/// The home page's card of visits due, as HTML.
fn visits_card(html: &str) -> &str {
    let at = html.find("id=\"follow-ups-due\"").expect("the visits card");
    let rest = &html[at..];
    &rest[..rest.find("</section>").unwrap()]
}

async fn a_visit_due_shows_on_the_home_pages_until_it_is_assessed(app: TestApp) {
    let team = app.team().await;
    let mut clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-4001", 20, 20).await;
    let patient = app.weighed_patient(&clinic, "PV-401", 64).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    app.infuse(&clinic, &patient, &dose).await;

    let nurse = sign_in(&app, "nurse.one").await;
    let (_, html) = page(&app, "/", &nurse).await;
    // on Day 1 the baseline is due (the enrolment's PASI is there, its DLQI not)
    assert!(
        visits_card(&html).contains("PV-401") && visits_card(&html).contains("Baseline"),
        "{html}"
    );

    // four weeks later: week 4 is due today, the baseline's window has closed
    app.days_later(&mut clinic, 28).await;
    let nurse = sign_in(&app, "nurse.one").await;
    let (_, html) = page(&app, "/", &nurse).await;
    let card = visits_card(&html);
    assert!(
        card.contains(&format!("href=\"/patients/{}\"", id(&patient))),
        "{card}"
    );
    assert!(
        card.contains("Week 4") && card.contains("PASI") && card.contains("DLQI"),
        "{card}"
    );
    assert!(!card.contains("Baseline"), "{card}");
    // quality sees it too; here in Chinese, by the officer's own choice
    let team = app.team_again().await;
    app.put(
        "/api/v1/users/me/preferences",
        Some(&team.quality),
        json!({ "language": "zh-CN" }),
    )
    .await
    .expect(200);
    let quality = sign_in(&app, "qa.officer").await;
    let (_, html) = page(&app, "/", &quality).await;
    let card = visits_card(&html);
    assert!(
        card.contains("PV-401") && card.contains("到期的随访评估"),
        "{card}"
    );
    assert!(card.contains("第 4 周") && card.contains("到期"), "{card}");
    // others do not get the card
    let lab = sign_in(&app, "lab.tech").await;
    let (_, html) = page(&app, "/", &lab).await;
    assert!(!html.contains("id=\"follow-ups-due\""));

    // a day late it is overdue, still listed
    app.days_later(&mut clinic, 1).await;
    let nurse = sign_in(&app, "nurse.one").await;
    let (_, html) = page(&app, "/", &nurse).await;
    assert!(visits_card(&html).contains("overdue"), "{html}");

    // PASI and DLQI recorded: gone
    let path = format!("/api/v1/patients/{}/assessments", id(&patient));
    let now = rfc3339(app.clock.now() - Duration::minutes(1));
    let region = json!({ "erythema": 1, "induration": 1, "desquamation": 1, "area": 2 });
    app.post(
        &path,
        Some(&clinic.clinician),
        json!({ "kind": "pasi", "assessed_at": now,
            "regions": { "head": region, "upper_limbs": region, "trunk": region, "lower_limbs": region } }),
    )
    .await
    .expect(201);
    let (_, html) = page(&app, "/", &nurse).await;
    assert!(
        visits_card(&html).contains("PV-401"),
        "DLQI still to record"
    );
    app.post(
        &path,
        Some(&clinic.clinician),
        json!({ "kind": "dlqi", "assessed_at": now, "answers": [1, 0, 0, 1, 0, 0, 0, 0, 0, 0] }),
    )
    .await
    .expect(201);
    let (_, html) = page(&app, "/", &nurse).await;
    assert!(!visits_card(&html).contains("PV-401"), "{html}");
}
