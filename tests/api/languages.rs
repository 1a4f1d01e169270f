//! The pages in English and Simplified Chinese: each person's own choice
//! (`/api/v1/users/me/preferences`, or the header's buttons), the
//! browser's `Accept-Language` before they sign in, and codes never
//! translated.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_LANGUAGE, COOKIE, LOCATION, REFERER};
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::web::{browser, csrf, page, sign_in};

on_both_databases!(
    each_person_chooses_their_language_through_the_api,
    pages_speak_the_chosen_language_and_codes_stay_codes,
    the_sign_in_page_follows_the_browser,
);

async fn each_person_chooses_their_language_through_the_api(app: TestApp) {
    let team = app.team().await;
    let mine = app
        .get("/api/v1/users/me/preferences", Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(mine, json!({"language": "en", "chosen": false}));
    let chosen = app
        .put(
            "/api/v1/users/me/preferences",
            Some(&team.lab),
            json!({"language": "zh-CN"}),
        )
        .await
        .expect(200);
    assert_eq!(chosen, json!({"language": "zh-CN", "chosen": true}));
    let mine = app
        .get("/api/v1/users/me/preferences", Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(mine["language"], "zh-CN");
    // another person's choice is their own
    let theirs = app
        .get("/api/v1/users/me/preferences", Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(theirs["language"], "en");
    // choosing again replaces the choice
    app.put(
        "/api/v1/users/me/preferences",
        Some(&team.lab),
        json!({"language": "en"}),
    )
    .await
    .expect(200);
    let mine = app
        .get("/api/v1/users/me/preferences", Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(mine, json!({"language": "en", "chosen": true}));
    // refusals change nothing
    for language in ["fr", "zh", "ZH-CN", ""] {
        let refused = app
            .put(
                "/api/v1/users/me/preferences",
                Some(&team.lab),
                json!({"language": language}),
            )
            .await
            .expect_error(422, "invalid_field");
        assert_eq!(refused["field"], "language");
    }
    app.put(
        "/api/v1/users/me/preferences",
        Some(&team.lab),
        json!({"language": "zh-CN", "theme": "dark"}),
    )
    .await
    .expect_error(400, "malformed_request");
    app.put(
        "/api/v1/users/me/preferences",
        None,
        json!({"language": "zh-CN"}),
    )
    .await
    .expect_error(401, "unauthenticated");
    let mine = app
        .get("/api/v1/users/me/preferences", Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(mine["language"], "en");
}

async fn pages_speak_the_chosen_language_and_codes_stay_codes(app: TestApp) {
    let team = app.team().await;
    let (lot, _) = app.dosing_stock(&team, "UCD-5001", 2, 300).await;
    let code = lot["code"].as_str().unwrap();
    let quality = sign_in(&app, "qa.officer").await;
    let (_, html) = page(&app, "/lots", &quality).await;
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains(">Lots</h1>") && html.contains("released"));

    // the header's button: the page comes back in Chinese, said in Chinese
    let (_, html) = page(&app, "/lots", &quality).await;
    let response = browser()
        .post(app.url("/preferences/language"))
        .header(COOKIE, &quality)
        .header(REFERER, app.url("/lots"))
        .form(&[("csrf", csrf(&html).as_str()), ("language", "zh-CN")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with("/lots?ok="), "{location}");
    let (status, html) = page(&app, &location, &quality).await;
    assert_eq!(status, StatusCode::OK);
    for words in [
        "<html lang=\"zh-CN\">",
        ">批次</h1>",
        "已放行",
        "页面已切换为简体中文",
        "退出登录",
    ] {
        assert!(html.contains(words), "{words}: {html}");
    }
    assert!(html.contains(code), "codes are never translated");
    // the choice is the person's, read by the API too
    let token = crate::helpers::token_of(
        app.login("qa.officer", crate::helpers::STAFF_PASSWORD)
            .await,
    );
    let mine = app
        .get("/api/v1/users/me/preferences", Some(&token))
        .await
        .expect(200);
    assert_eq!(mine["language"], "zh-CN");
    // the home page too (it signs its person in by itself)
    let (_, html) = page(&app, "/", &quality).await;
    assert!(html.contains("<html lang=\"zh-CN\">"), "{html}");
    // the history and the search box speak it too
    let (_, html) = page(
        &app,
        &format!("/lots/{}", lot["id"].as_str().unwrap()),
        &quality,
    )
    .await;
    assert!(
        html.contains("历史记录") && html.contains("已放行"),
        "{html}"
    );
    let (_, html) = page(&app, "/search?q=ZZZ", &quality).await;
    assert!(html.contains("没有以 ZZZ 开头的编码"), "{html}");
    // a filter refused: in words, in Chinese
    let (_, html) = page(&app, "/lots?status=lost", &quality).await;
    assert!(html.contains("请从列表中选择状态。"), "{html}");
    // the browser asking for English does not override the person's choice
    let response = browser()
        .get(app.url("/lots"))
        .header(COOKIE, &quality)
        .header(ACCEPT_LANGUAGE, "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(response.text().await.unwrap().contains(">批次</h1>"));
    // a language that is not one of the pages' is refused in words
    let (_, html) = page(&app, "/lots", &quality).await;
    let response = browser()
        .post(app.url("/preferences/language"))
        .header(COOKIE, &quality)
        .form(&[("csrf", csrf(&html).as_str()), ("language", "fr")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn the_sign_in_page_follows_the_browser(app: TestApp) {
    let ask = |language: Option<&'static str>| {
        let app = &app;
        async move {
            let mut request = browser().get(app.url("/"));
            if let Some(language) = language {
                request = request.header(ACCEPT_LANGUAGE, language);
            }
            request.send().await.unwrap().text().await.unwrap()
        }
    };
    let html = ask(Some("zh-CN,zh;q=0.9,en;q=0.8")).await;
    assert!(
        html.contains("<html lang=\"zh-CN\">")
            && html.contains(">登录</h1>")
            && html.contains("用户名"),
        "{html}"
    );
    let html = ask(Some("en-GB,en;q=0.9")).await;
    assert!(html.contains(">Sign in</h1>"));
    // neither of ours: the site's default (English here)
    let html = ask(Some("fr-FR,de;q=0.5")).await;
    assert!(html.contains(">Sign in</h1>"));
    let html = ask(None).await;
    assert!(html.contains(">Sign in</h1>"));
}
