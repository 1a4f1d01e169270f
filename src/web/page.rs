//! The page shell (header, navigation by role, messages), the one small
//! stylesheet, and the pieces every page uses. Everything is served from
//! the binary: no fonts, scripts or styles from any other host.

use axum::http::StatusCode;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use crate::domain::accounts::Role;
use crate::domain::language::Language;
use crate::i18n::{self, t};
use crate::web::user::WebUser;

const STYLE: &str = r#"
:root{--ink:#1b1f24;--muted:#5b6470;--line:#d5d9de;--bg:#f6f7f9;--card:#fff;--accent:#0b5cad;--ok:#146c2e;--okbg:#e3f4e8;--bad:#a4161a;--badbg:#fbe4e4;--warn:#7a4d00;--warnbg:#fff1d6}
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
a{color:var(--accent)}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.25rem;padding:.6rem 1rem;background:#102a43;color:#fff}
header a{color:#fff;text-decoration:none;padding:.35rem .5rem;border-radius:4px;display:inline-flex;align-items:center;justify-content:center;min-height:44px;min-width:44px}
header a:hover,header a:focus{background:#243b53;outline:2px solid #9fb3c8}
header .who{margin-left:auto;font-size:.9rem;color:#d9e2ec}
header form{display:inline}
header form.language button{padding:.3rem .6rem;font-size:.9rem}
header form.find input{width:14rem;padding:.3rem .5rem;font-size:.9rem}
form.filters{display:flex;flex-wrap:wrap;gap:.2rem 1rem;align-items:flex-end}
form.filters label{margin:0}
form.filters .actions{margin:0}
main{max-width:1200px;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;margin:.4rem 0 1rem}
h2{font-size:1.2rem;margin:1.4rem 0 .6rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem;margin-bottom:1rem;overflow-x:auto}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:1rem}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.85rem;color:var(--muted);font-weight:600}
.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:var(--muted)}
.small{font-size:.8rem}
tr.correction td{background:#fffaf0}
.code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:nowrap}
.nowrap{white-space:nowrap}
.scroll{overflow-x:auto;max-width:100%}
.scroll td>a:first-child{display:inline-flex;align-items:center;min-height:44px;min-width:44px}
.pill{display:inline-block;white-space:nowrap;padding:.05rem .5rem;border-radius:999px;font-size:.85rem;background:#e4e7eb}
.pill.ok,.pill.available,.pill.released,.pill.eligible,.pill.completed,.pill.infused,.pill.verified{background:var(--okbg);color:var(--ok)}
.pill.bad,.pill.recalled,.pill.discarded,.pill.rejected,.pill.ineligible,.pill.cancelled{background:var(--badbg);color:var(--bad)}
.pill.warn,.pill.quarantine,.pill.reserved,.pill.thawed,.pill.pending,.pill.infusing,.pill.in_process{background:var(--warnbg);color:var(--warn)}
.msg{padding:.7rem 1rem;border-radius:6px;margin-bottom:1rem;border:1px solid}
.msg.ok{background:var(--okbg);color:var(--ok);border-color:#9fd5ae}
.msg.bad{background:var(--badbg);color:var(--bad);border-color:#efa3a3}
.msg.warn{background:#fff6d6;color:#6b4e00;border-color:#e6c55a}
label{display:block;font-weight:600;margin:.5rem 0 .2rem}
label>input,label>select{display:block;margin-top:.2rem;font-weight:400}
label>input[type=checkbox]{display:inline;width:auto;margin:0 .4rem 0 0}
input,select,textarea{font:inherit;padding:.45rem .55rem;border:1px solid #9aa5b1;border-radius:5px;width:100%;max-width:28rem;background:#fff}
input:focus,select:focus,button:focus,a:focus{outline:3px solid #5aa0e0;outline-offset:1px}
button,.button{display:inline-block;font:inherit;font-weight:600;padding:.55rem 1rem;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;text-decoration:none}
button.secondary,.button.secondary{background:#fff;color:var(--accent)}
button.danger{background:var(--bad);border-color:var(--bad)}
.actions{display:flex;flex-wrap:wrap;gap:.6rem;margin:.8rem 0}
.actions .button,.actions button{font-size:1.15rem;padding:.8rem 1.3rem;min-width:9rem;text-align:center}
.scanbox{font-size:1.6rem;padding:.7rem;max-width:100%}
.big{font-size:2.6rem;font-weight:700;letter-spacing:.02em}
.match{font-size:1.4rem;font-weight:700;padding:1rem;border-radius:8px}
.match.ok{background:var(--okbg);color:var(--ok)}
.match.bad{background:var(--badbg);color:var(--bad)}
fieldset{border:1px solid var(--line);border-radius:6px;padding:.6rem 1rem;margin:.6rem 0}
details summary{cursor:pointer;font-weight:600;margin:.4rem 0}
.places{display:grid;gap:4px;max-width:100%;overflow-x:auto;margin:.6rem 0}
.places .axis{text-align:center;align-self:center;font-size:.8rem;color:var(--muted,#5b6470)}
.places button{min-height:44px;min-width:2.75rem;padding:0;font-size:.85rem;font-weight:600;background:#fff;color:var(--accent);border:1px dashed #b8c0c8}
.places button.next{border:3px solid var(--accent);background:#e8f1fb}
.places button.taken{background:#dfe3e8;color:#5b6470;border:1px solid #b8c0c8;cursor:not-allowed}
.places button.here{background:#fff1d6;color:#7a4d00;border:2px solid #7a4d00}
ol.steps li{margin:.3rem 0}
svg text{font:12px system-ui,sans-serif}
.demo{margin:0;padding:.6rem 1rem;background:repeating-linear-gradient(135deg,#ffd400 0 18px,#ffe766 18px 36px);color:#000;border-bottom:3px solid #000;text-align:center;font-size:1.05rem}
.demo strong{letter-spacing:.04em}
input:not([type=checkbox]):not([type=radio]):not([type=hidden]),select,button,.button{min-height:44px}
input[type=checkbox],input[type=radio]{width:1.4rem;height:1.4rem}
label:has(>input[type=checkbox]),label:has(>input[type=radio]){min-height:44px;display:flex;align-items:center}
@media print{header,.demo+header,nav,form.find,.actions,form,script{display:none!important}body{background:#fff}.card{border:none;padding:0}main{max-width:none}}
@media (max-width:820px){main{padding:.6rem}.big{font-size:2rem}th,td{padding:.3rem}}
"#;

/// Escapes text for a query string value.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A count of cells as people read it: `68 200 000 (68.2 × 10⁶)`.
pub fn cells(n: i64) -> String {
    format!(
        "{} ({})",
        crate::domain::units::grouped(n),
        crate::domain::units::millions(n)
    )
}

/// A status as a coloured pill (the word is always there, so colour is
/// never the only signal).
pub fn pill(status: impl AsRef<str>) -> Markup {
    let status = status.as_ref();
    let words =
        i18n::t_maybe(&format!("status-{status}")).unwrap_or_else(|| status.replace('_', " "));
    html! { span class={ "pill " (status) } { (words) } }
}

/// Messages carried across a redirect.
#[derive(Debug, Default, Deserialize)]
pub struct Flash {
    #[serde(default)]
    pub ok: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

impl Flash {
    pub fn render(&self) -> Markup {
        html! {
            @if let Some(ok) = &self.ok { div class="msg ok" role="status" { (ok) } }
            @if let Some(error) = &self.error { div class="msg bad" role="alert" { (error) } }
        }
    }
}

/// A 303 to `path?ok=…` or `path?error=…`: where a form goes after its action.
pub fn redirect_with(path: &str, ok: bool, message: impl std::fmt::Display) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    let key = if ok { "ok" } else { "error" };
    see_other(&format!(
        "{path}{sep}{key}={}",
        url_encode(&message.to_string())
    ))
}

fn nav(user: &WebUser) -> Markup {
    let role = user.user.role;
    html! {
        nav aria-label="main" {
            a href="/" { (t("nav-home")) }
            @if role != Role::Admin {
                a href="/scan" { (t("nav-scan")) }
                @if matches!(role, Role::Lab | Role::Quality) {
                    a href="/lots" { (t("nav-lots")) }
                    a href="/vials" { (t("nav-vials")) }
                    a href="/storage" { (t("nav-storage")) }
                    a href="/imports" { (t("nav-imports")) }
                }
                @if matches!(role, Role::Lab | Role::Quality | Role::Pharmacist) {
                    a href="/stock" { (t("nav-stock")) }
                }
                @if matches!(role, Role::Lab | Role::Quality) { a href="/donors" { (t("nav-donors")) } }
                @if matches!(role, Role::Lab | Role::Pharmacist) { a href="/shipments" { (t("nav-shipments")) } }
                a href="/patients" { (t("nav-patients")) }
                @if matches!(role, Role::Pharmacist | Role::Clinician | Role::Quality) {
                    a href="/doses" { (t("nav-doses")) }
                }
                @if matches!(role, Role::Quality | Role::Clinician) {
                    a href="/exports" { (t("nav-exports")) }
                }
            }
            @if role == Role::Admin { a href="/accounts" { (t("acct-title")) } }
            @else { a href="/protocol" { (t("proto-title")) } }
            a href="/docs/" { (t("nav-api")) }
        }
        @if role != Role::Admin {
            form class="find" method="get" action="/search" role="search" {
                input type="search" name="q" placeholder=(t("find-placeholder")) aria-label=(t("find-label")) autocomplete="off";
            }
        }
    }
}

tokio::task_local! {
    /// Whether the database behind this request holds demo data; set for
    /// each page request by [`demo_scope`], read by [`shell`], so no page,
    /// error page or sign-in page can leave the banner out.
    static DEMO: bool;
}

/// Runs a page request knowing whether the database holds demo data
/// (`services::demo_mark`) and in which language it is shown (`i18n`):
/// the API and static files are not asked.
pub async fn demo_scope(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path();
    let page = !["/api", "/docs", "/assets", "/healthz", "/readyz"]
        .iter()
        .any(|prefix| path.starts_with(prefix));
    if !page {
        return next.run(request).await;
    }
    // A database that cannot be asked fails the page itself; the banner
    // then has nothing to mark.
    let demo = crate::services::demo_mark::is_demo(&state)
        .await
        .unwrap_or(false);
    // the browser's language until the signed-in person's own choice
    // replaces it (`web::session`)
    let language = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|h| h.to_str().ok())
        .and_then(Language::from_accept_language)
        .unwrap_or(state.settings.language);
    i18n::scope(language, DEMO.scope(demo, next.run(request))).await
}

/// The banner across the top of every page while the database holds demo
/// data, so nothing on it is taken for a real patient or product.
fn demo_banner() -> Markup {
    html! {
        p class="demo" role="note" {
            strong { (t("demo-notice")) }
            " · " (t("demo-banner"))
        }
    }
}

/// A whole page.
pub fn shell(title: &str, user: Option<&WebUser>, body: Markup) -> Html<String> {
    let page = html! {
        (DOCTYPE)
        html lang=(i18n::current().tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · celltrail" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                @if DEMO.try_with(|demo| *demo).unwrap_or(false) { (demo_banner()) }
                header {
                    strong { "celltrail" }
                    @if let Some(user) = user {
                        (nav(user))
                        span class="who" {
                            (user.user.full_name) " · " (user.user.role.as_str())
                        }
                        (language_chooser(user))
                        form method="post" action="/sign-out" {
                            input type="hidden" name="csrf" value=(user.csrf());
                            button class="secondary" type="submit" { (t("sign-out")) }
                        }
                    }
                }
                main { (body) }
                script src="/assets/keep.js" data-restored=(t("keep-restored")) {}
            }
        }
    };
    Html(page.into_string())
}

/// The other languages, each a button that makes it the person's own.
fn language_chooser(user: &WebUser) -> Markup {
    let now = i18n::current();
    html! {
        form class="language" method="post" action="/preferences/language" aria-label=(t("language-label")) {
            input type="hidden" name="csrf" value=(user.csrf());
            @for language in Language::ALL {
                @if language != now {
                    button class="secondary" type="submit" name="language" value=(language.tag()) lang=(language.tag()) { (language.own_name()) }
                }
            }
        }
    }
}

/// A signed-in person's page.
pub fn show(title: &str, user: &WebUser, body: Markup) -> Html<String> {
    shell(title, Some(user), body)
}

/// A page for something that went wrong; never a stack trace.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = html! {
        h1 { (title) }
        div class="msg bad" role="alert" { (message) }
        p { a href="/" { (t("home-link")) } }
    };
    (status, shell(title, None, body)).into_response()
}

/// The sign-in form. It carries a token that the browser also holds in a
/// cookie of its own (SameSite=Strict), so no other site can sign a browser
/// in to an account of its choosing.
pub fn sign_in_page(
    secure_cookie: bool,
    next: &str,
    error: Option<&str>,
    username: &str,
) -> Response {
    sign_in_form(secure_cookie, next, error, username, false)
}

/// What a form sent after its session ended is answered with (401): the
/// sign-in form, saying in words that nothing was saved, and returning the
/// person to the page the form was on (`next`, a page, never the form's
/// POST route). The page's script keeps what they typed and puts it back
/// there (`keep.js`).
pub fn session_ended_page(secure_cookie: bool, next: &str) -> Response {
    let mut response = sign_in_form(secure_cookie, next, Some(SESSION_ENDED_SENT), "", true);
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response
}

/// Said when a form arrives after its session ended.
pub const SESSION_ENDED_SENT: &str = "Your session had ended, so what you sent was not saved. Sign in again: you will return to the page you were on, with what you typed put back for you to check and send.";
/// Said when a page is opened after its session ended.
pub const SESSION_ENDED: &str =
    "Your session had ended. Sign in again to return to the page you were on.";

fn sign_in_form(
    secure_cookie: bool,
    next: &str,
    error: Option<&str>,
    username: &str,
    ended: bool,
) -> Response {
    let token = crate::services::auth::new_token().unwrap_or_default();
    let token = &token[token.len().saturating_sub(32)..];
    let mut response = shell(
        &t("sign-in-title"),
        None,
        sign_in_view(token, next, error, username, ended),
    )
    .into_response();
    let cookie = format!(
        "{SIGN_IN_COOKIE}={token}; Path=/sign-in; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        if secure_cookie { "; Secure" } else { "" }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn sign_in_view(
    token: &str,
    next: &str,
    error: Option<&str>,
    username: &str,
    ended: bool,
) -> Markup {
    html! {
        h1 { (t("sign-in-title")) }
        @let error = error.map(|e| match e {
            SESSION_ENDED => t("session-ended"),
            SESSION_ENDED_SENT => t("session-ended-sent"),
            other => other.to_owned(),
        });
        @if let Some(error) = error {
            @if ended {
                div class="msg warn" role="alert" data-session-ended="1" { (error) }
            } @else {
                div class="msg bad" role="alert" { (error) }
            }
        }
        form class="card" method="post" action="/sign-in" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="next" value=(next);
            label for="username" { (t("sign-in-username")) }
            input id="username" name="username" autocomplete="username" required autofocus value=(username);
            label for="password" { (t("sign-in-password")) }
            input id="password" name="password" type="password" autocomplete="current-password" required;
            div class="actions" { button type="submit" { (t("sign-in-button")) } }
        }
        p class="muted" { (t("sign-in-tagline")) }
    }
}

/// The cookie holding the sign-in form's token.
pub const SIGN_IN_COOKIE: &str = "celltrail_sign_in";

/// The fields of an electronic signature (21 CFR Part 11): the signer's
/// password again and what the signature means.
pub fn signature_fields(meaning: &str) -> Markup {
    html! {
        fieldset {
            legend { (t("signature-legend")) }
            label { (t("signature-password")) input name="password" type="password" autocomplete="current-password" required; }
            label { (t("signature-meaning")) input name="meaning" value=(meaning) required; }
        }
    }
}

/// A redirect after a form (303: the browser follows it with a GET).
pub fn see_other(path: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(axum::http::header::LOCATION, path.to_owned())],
    )
        .into_response()
}
