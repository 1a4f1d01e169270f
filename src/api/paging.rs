//! A page of a list as every list route answers it, and how a request
//! names its page.

use serde::Serialize;
use utoipa::ToSchema;

use crate::api::donors::DonorView;
use crate::api::doses::DoseView;
use crate::api::lots::LotView;
use crate::api::patients::PatientView;
use crate::api::vials::VialView;
use crate::domain::paging::PageRequest;
use crate::error::AppResult;
use crate::services::lists::Page;

macro_rules! page_of {
    ($($page:ident => $item:ty),+ $(,)?) => {$(
        /// One page of a list, by code. Ask for the next with `cursor` set
        /// to `next_cursor`; `null` there means this page is the last.
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $page {
            pub items: Vec<$item>,
            /// Opaque: pass it back as `cursor`, unchanged.
            pub next_cursor: Option<String>,
        }

        impl From<Page<$item>> for $page {
            fn from(page: Page<$item>) -> Self {
                $page {
                    items: page.items,
                    next_cursor: page.next_cursor,
                }
            }
        }
    )+};
}

page_of!(
    LotPage => LotView,
    DonorPage => DonorView,
    PatientPage => PatientView,
    DosePage => DoseView,
    VialPage => VialView,
);

/// The search, size and cursor every list takes, parsed.
pub fn page_request(
    q: Option<&str>,
    limit: Option<u64>,
    cursor: Option<&str>,
) -> AppResult<PageRequest> {
    Ok(PageRequest::parse(q, limit, cursor)?)
}
