//! A page of a list as every list route answers it, and how a request
//! names its page.

use crate::domain::paging::PageRequest;
use crate::error::AppResult;

/// The page type of a list: `page_of!(LotPage => LotView);` beside the
/// item's view, so this module needs none of them.
macro_rules! page_of {
    ($($page:ident => $item:ty),+ $(,)?) => {$(
        /// One page of a list, by code. Ask for the next with `cursor` set
        /// to `next_cursor`; `null` there means this page is the last.
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $page {
            pub items: Vec<$item>,
            /// Opaque: pass it back as `cursor`, unchanged.
            pub next_cursor: Option<String>,
        }

        impl From<$crate::services::lists::Page<$item>> for $page {
            fn from(page: $crate::services::lists::Page<$item>) -> Self {
                $page {
                    items: page.items,
                    next_cursor: page.next_cursor,
                }
            }
        }
    )+};
}

pub(crate) use page_of;

/// The search, size and cursor every list takes, parsed.
pub fn page_request(
    q: Option<&str>,
    limit: Option<u64>,
    cursor: Option<&str>,
) -> AppResult<PageRequest> {
    Ok(PageRequest::parse(q, limit, cursor)?)
}
