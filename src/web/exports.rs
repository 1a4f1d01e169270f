//! `/exports`: the sponsor's SDTM datasets, one download each, for quality
//! and clinicians (the API's `/api/v1/exports/sdtm`, which a signed-in
//! browser reads with its session).

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use maud::{Markup, html};

use crate::domain::sdtm::SdtmDomain;
use crate::i18n::{arg, t, t_with};
use crate::state::AppState;
use crate::web::extract::{PageUser, roles};
use crate::web::page;

pub fn routes() -> Router<AppState> {
    Router::new().route("/exports", get(exports_page))
}

async fn exports_page(user: PageUser<roles::TrialData>) -> Html<String> {
    page::show(&t("exports-title"), &user, exports_view())
}

fn exports_view() -> Markup {
    let datasets = [
        (SdtmDomain::Ex, "exports-ex"),
        (SdtmDomain::Ae, "exports-ae"),
        (SdtmDomain::Qs, "exports-qs"),
        (SdtmDomain::Ds, "exports-ds"),
    ];
    html! {
        h1 { (t("exports-title")) }
        p { (t("exports-intro")) }
        @for (domain, sentence) in datasets {
            section class="card" {
                h2 { (domain.code()) }
                p { (t(sentence)) }
                a class="button" download
                    href={ "/api/v1/exports/sdtm?domain=" (domain.code()) } {
                    (t_with("exports-download", &[("domain", arg(domain.code()))]))
                }
            }
        }
    }
}
