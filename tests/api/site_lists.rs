//! Lists narrowed to the user's sites (issue 15), on both databases: with
//! records at the default site and at a ward, an account sees in the API
//! lists (lots, vials, patients, doses, storage) and on the list pages only
//! what is at the sites it works at; `site_id` narrows to one of them and
//! is refused for a site not theirs; an account at no site sees empty
//! lists; paging follows the narrowed list.

use serde_json::{Value, json};

use crate::clinic::Clinic;
use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::{Team, id};
use reqwest::header::{COOKIE, LOCATION};

use crate::web::{browser, page, sign_in};

on_both_databases!(
    each_account_lists_what_is_at_its_sites,
    site_id_narrows_to_one_of_the_callers_sites_and_pages_follow,
    list_pages_show_what_is_at_the_users_sites,
);

const DEFAULT_SITE: &str = "00000000-0000-7000-8000-000000000001";
const NO_SITE: &str = "00000000-0000-7000-8000-0000000000ff";

/// What one site holds: a released lot of four vials, a box, a weighed
/// patient and the dose ordered for them.
struct AtSite {
    lot: Value,
    vials: Vec<Value>,
    storage_box: Value,
    patient: Value,
    dose: Value,
}

/// The default site's records (made while it was the only one), a ward
/// with its own staff and records, and the accounts that look: `home`
/// (the first team's quality, at the default site), `ward` (the ward's
/// quality), `both` (a quality officer given both) and `nowhere` (a new
/// account given no site).
struct TwoSites {
    ward_site: String,
    home: AtSite,
    ward: AtSite,
    tokens: Tokens,
}

struct Tokens {
    home: String,
    ward: String,
    both: String,
    nowhere: String,
}

async fn at_site(app: &TestApp, team: &Team, clinic: &Clinic, tag: &str) -> AtSite {
    let (lot, vials) = app
        .dosing_stock(team, &format!("UCD-{tag}01"), 4, 200)
        .await;
    let storage_box = app.storage_box(team, tag, 9, 9).await;
    let patient = app
        .weighed_patient(clinic, &format!("PV-{tag}01"), 70)
        .await;
    let dose = app.order(clinic, &id(&patient)).await.expect(201);
    AtSite {
        lot,
        vials,
        storage_box,
        patient,
        dose,
    }
}

async fn two_sites(app: &TestApp) -> TwoSites {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let home = at_site(app, &team, &clinic, "H").await;

    let admin = app.admin_token().await;
    let ward_site = id(&app
        .post(
            "/api/v1/sites",
            Some(&admin),
            json!({ "name": "Ward 3", "kind": "combined", "facility_code": "B1234", "time_zone": "Asia/Shanghai" }),
        )
        .await
        .expect(201));
    // accounts made now work nowhere until given a site
    let staff_at = |username: &'static str, role: &'static str, sites: Vec<String>| {
        let admin = admin.clone();
        async move {
            let (user, token) = app.staff(username, role).await;
            for site in sites {
                app.post(
                    &format!("/api/v1/users/{user}/sites"),
                    Some(&admin),
                    json!({ "site_id": site }),
                )
                .await
                .expect(200);
            }
            token
        }
    };
    let at_ward = || vec![ward_site.clone()];
    let ward_team = Team {
        lab: staff_at("lab.ward", "lab", at_ward()).await,
        quality: staff_at("qa.ward", "quality", at_ward()).await,
    };
    let ward_clinic = Clinic {
        pharmacist: staff_at("pharm.ward", "pharmacist", at_ward()).await,
        clinician: staff_at("nurse.ward", "clinician", at_ward()).await,
        verifier: staff_at("pharm.ward2", "pharmacist", at_ward()).await,
    };
    let ward = at_site(app, &ward_team, &ward_clinic, "W").await;
    assert_eq!(ward.patient["site_id"], json!(ward_site));

    let both = staff_at(
        "qa.both",
        "quality",
        vec![DEFAULT_SITE.to_owned(), ward_site.clone()],
    )
    .await;
    let nowhere = staff_at("lab.none", "lab", vec![]).await;
    TwoSites {
        ward_site,
        home,
        ward,
        tokens: Tokens {
            home: team.quality,
            ward: ward_team.quality,
            both,
            nowhere,
        },
    }
}

/// The ids a list answered, in its order.
fn ids(list: &Value) -> Vec<String> {
    let items = list.get("items").unwrap_or(list);
    items.as_array().unwrap().iter().map(id).collect()
}

/// The ids of what a site holds, list by list: lots, vials, patients,
/// doses; and its box (the storage list holds its tank and rack too).
fn expected(at: &AtSite) -> [Vec<String>; 4] {
    [
        vec![id(&at.lot)],
        at.vials.iter().map(id).collect(),
        vec![id(&at.patient)],
        vec![id(&at.dose)],
    ]
}

const LISTS: [&str; 4] = ["lots", "vials", "patients", "doses"];

/// Every list as `token` sees it, with `query` (`""` or `site_id=…`).
async fn lists_of(app: &TestApp, token: &str, query: &str) -> [Vec<String>; 4] {
    let mut out: [Vec<String>; 4] = Default::default();
    for (i, list) in LISTS.iter().enumerate() {
        let answer = app
            .get(&format!("/api/v1/{list}?{query}"), Some(token))
            .await
            .expect(200);
        assert_eq!(answer["next_cursor"], json!(null), "{list}: one page");
        out[i] = ids(&answer);
    }
    out
}

async fn storage_of(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let units = app
        .get(&format!("/api/v1/storage?{query}"), Some(token))
        .await
        .expect(200);
    let names: Vec<&str> = units
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    let mut found = ids(&units);
    for tank in ["Tank H", "Tank W"] {
        if names.contains(&tank) {
            found.push(tank.to_owned());
        }
    }
    found
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

fn union(a: &[Vec<String>; 4], b: &[Vec<String>; 4]) -> [Vec<String>; 4] {
    std::array::from_fn(|i| sorted([a[i].clone(), b[i].clone()].concat()))
}

async fn each_account_lists_what_is_at_its_sites(app: TestApp) {
    let world = two_sites(&app).await;
    let home = expected(&world.home);
    let ward = expected(&world.ward);
    let t = &world.tokens;

    let seen = lists_of(&app, &t.home, "").await;
    for i in 0..4 {
        assert_eq!(
            sorted(seen[i].clone()),
            sorted(home[i].clone()),
            "{}: the default site's only",
            LISTS[i]
        );
    }
    let seen = lists_of(&app, &t.ward, "").await;
    for i in 0..4 {
        assert_eq!(
            sorted(seen[i].clone()),
            sorted(ward[i].clone()),
            "{}: the ward's only",
            LISTS[i]
        );
    }
    let seen = lists_of(&app, &t.both, "").await;
    let all = union(&home, &ward);
    for i in 0..4 {
        assert_eq!(sorted(seen[i].clone()), all[i], "{}: both sites'", LISTS[i]);
    }
    // an account at no site sees empty lists, not an error
    let seen = lists_of(&app, &t.nowhere, "").await;
    assert_eq!(seen, <[Vec<String>; 4]>::default());
    assert_eq!(storage_of(&app, &t.nowhere, "").await, Vec::<String>::new());

    // storage: the units of the caller's sites
    let home_box = id(&world.home.storage_box);
    let ward_box = id(&world.ward.storage_box);
    let units = storage_of(&app, &t.home, "").await;
    assert!(
        units.contains(&home_box) && units.contains(&"Tank H".to_owned()),
        "{units:?}"
    );
    assert!(
        !units.contains(&ward_box) && !units.contains(&"Tank W".to_owned()),
        "{units:?}"
    );
    let units = storage_of(&app, &t.ward, "").await;
    assert!(
        units.contains(&ward_box) && units.contains(&"Tank W".to_owned()),
        "{units:?}"
    );
    assert!(
        !units.contains(&home_box) && !units.contains(&"Tank H".to_owned()),
        "{units:?}"
    );
    let units = storage_of(&app, &t.both, "").await;
    assert!(
        units.contains(&home_box) && units.contains(&ward_box),
        "{units:?}"
    );

    // the search box follows the lists: the ward's lot is not found from home
    let ward_lot = world.ward.lot["code"].as_str().unwrap();
    let found = app
        .get(&format!("/api/v1/lots?q={ward_lot}"), Some(&t.home))
        .await
        .expect(200);
    assert_eq!(found["items"], json!([]));
    let found = app
        .get(&format!("/api/v1/lots?q={ward_lot}"), Some(&t.ward))
        .await
        .expect(200);
    assert_eq!(ids(&found), vec![id(&world.ward.lot)]);
}

async fn site_id_narrows_to_one_of_the_callers_sites_and_pages_follow(app: TestApp) {
    let world = two_sites(&app).await;
    let home = expected(&world.home);
    let ward = expected(&world.ward);
    let t = &world.tokens;
    let at_ward = format!("site_id={}", world.ward_site);
    let at_home = format!("site_id={DEFAULT_SITE}");

    let seen = lists_of(&app, &t.both, &at_ward).await;
    for i in 0..4 {
        assert_eq!(
            sorted(seen[i].clone()),
            sorted(ward[i].clone()),
            "{} at the ward",
            LISTS[i]
        );
    }
    let seen = lists_of(&app, &t.both, &at_home).await;
    for i in 0..4 {
        assert_eq!(
            sorted(seen[i].clone()),
            sorted(home[i].clone()),
            "{} at home",
            LISTS[i]
        );
    }
    let units = storage_of(&app, &t.both, &at_ward).await;
    assert!(units.contains(&id(&world.ward.storage_box)), "{units:?}");
    assert!(!units.contains(&id(&world.home.storage_box)), "{units:?}");
    // with the other filters: the ward's reserved vials (the dose's), none of home's
    let reserved = app
        .get(
            &format!("/api/v1/vials?status=reserved&{at_ward}"),
            Some(&t.both),
        )
        .await
        .expect(200);
    let reserved = ids(&reserved);
    assert!(!reserved.is_empty());
    assert!(reserved.iter().all(|v| ward[1].contains(v)), "{reserved:?}");
    // a site the caller does not work at, on every list; one that does
    // not exist is not found
    for list in LISTS.iter().chain(&["storage"]) {
        app.get(&format!("/api/v1/{list}?{at_ward}"), Some(&t.home))
            .await
            .expect_error(403, "not_your_site");
        app.get(&format!("/api/v1/{list}?{at_home}"), Some(&t.ward))
            .await
            .expect_error(403, "not_your_site");
        app.get(&format!("/api/v1/{list}?{at_home}"), Some(&t.nowhere))
            .await
            .expect_error(403, "not_your_site");
        app.get(&format!("/api/v1/{list}?site_id={NO_SITE}"), Some(&t.both))
            .await
            .expect_error(404, "not_found");
        app.get(&format!("/api/v1/{list}?site_id=ward"), Some(&t.both))
            .await
            .expect_error(400, "malformed_request");
    }

    // paging walks the narrowed list: the ward's four vials one at a time
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => format!("/api/v1/vials?limit=1&{at_ward}"),
            Some(c) => format!("/api/v1/vials?limit=1&{at_ward}&cursor={c}"),
        };
        let page = app.get(&path, Some(&t.both)).await.expect(200);
        assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
        walked.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(walked.len() < 10, "the walk ends");
    }
    assert_eq!(sorted(walked.clone()), sorted(ward[1].clone()));
    // and the unnarrowed lots, two sites' worth, one page each
    let first = app
        .get("/api/v1/lots?limit=1", Some(&t.both))
        .await
        .expect(200);
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = app
        .get(
            &format!("/api/v1/lots?limit=1&cursor={cursor}"),
            Some(&t.both),
        )
        .await
        .expect(200);
    assert_eq!(second["next_cursor"], json!(null));
    assert_eq!(
        sorted([ids(&first), ids(&second)].concat()),
        union(&home, &ward)[0]
    );
    // the home account pages its own: one lot, no second page
    let only = app
        .get("/api/v1/lots?limit=1", Some(&t.home))
        .await
        .expect(200);
    assert_eq!(ids(&only), home[0]);
    assert_eq!(only["next_cursor"], json!(null));
}

async fn list_pages_show_what_is_at_the_users_sites(app: TestApp) {
    let world = two_sites(&app).await;
    let code = |v: &Value, field: &str| v[field].as_str().unwrap().to_owned();
    // (page, the default site's record, the ward's)
    let shown = [
        (
            "/lots",
            code(&world.home.lot, "code"),
            code(&world.ward.lot, "code"),
        ),
        (
            "/vials",
            code(&world.home.vials[0], "code"),
            code(&world.ward.vials[0], "code"),
        ),
        (
            "/patients",
            code(&world.home.patient, "subject_code"),
            code(&world.ward.patient, "subject_code"),
        ),
        (
            "/doses",
            code(&world.home.dose, "code"),
            code(&world.ward.dose, "code"),
        ),
    ];
    let home = sign_in(&app, "qa.officer").await;
    let ward = sign_in(&app, "qa.ward").await;
    let both = sign_in(&app, "qa.both").await;
    let nowhere = sign_in(&app, "lab.none").await;
    for (path, home_code, ward_code) in &shown {
        let (status, html) = page(&app, path, &home).await;
        assert_eq!(status, reqwest::StatusCode::OK);
        assert!(html.contains(home_code.as_str()), "{path}: {html}");
        assert!(!html.contains(ward_code.as_str()), "{path}: {html}");
        let (_, html) = page(&app, path, &ward).await;
        assert!(html.contains(ward_code.as_str()), "{path}: {html}");
        assert!(!html.contains(home_code.as_str()), "{path}: {html}");
        let (_, html) = page(&app, path, &both).await;
        assert!(
            html.contains(home_code.as_str()) && html.contains(ward_code.as_str()),
            "{path}: {html}"
        );
        let (_, html) = page(&app, &format!("{path}?site_id={}", world.ward_site), &both).await;
        assert!(html.contains(ward_code.as_str()), "{path}: {html}");
        assert!(!html.contains(home_code.as_str()), "{path}: {html}");
        // another site's, in words above an empty table
        let (status, html) =
            page(&app, &format!("{path}?site_id={}", world.ward_site), &home).await;
        assert_eq!(status, reqwest::StatusCode::OK);
        assert!(html.contains("You do not work at Ward 3"), "{path}: {html}");
        assert!(!html.contains(ward_code.as_str()), "{path}: {html}");
        let (status, html) = page(&app, path, &nowhere).await;
        assert_eq!(status, reqwest::StatusCode::OK);
        assert!(
            !html.contains(home_code.as_str()) && !html.contains(ward_code.as_str()),
            "{path}: {html}"
        );
    }
    // the search box finds only what is at the user's sites: the ward's
    // vial opens for the ward, and is nothing from the default site
    let ward_vial = code(&world.ward.vials[1], "code");
    let (status, html) = page(&app, &format!("/search?q={ward_vial}"), &home).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(
        html.contains("Nothing has a code, DIN or subject code that starts with"),
        "{html}"
    );
    let opened = browser()
        .get(app.url(&format!("/search?q={ward_vial}")))
        .header(COOKIE, &ward)
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(
        opened.headers()[LOCATION],
        format!("/vials/{}", id(&world.ward.vials[1])).as_str()
    );
}
