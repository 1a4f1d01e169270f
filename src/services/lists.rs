//! The lists: lots, donors, patients, doses and vials, each filtered by
//! what people ask of it and paged by code (`domain::paging`). A page is
//! read as the single-record routes read one record, so its items carry
//! the same shapes; it is always the database's answer, never a cache.
//! Lots, vials, patients and doses are shown only at the sites asked for
//! (`SiteScope`: an account's own, issue 15); donors have no site.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use uuid::Uuid;

use crate::domain::donor::Eligibility;
use crate::domain::invalid::{Invalid, ensure};
use crate::domain::lifecycle::{DoseStatus, LotStatus, VialStatus};
use crate::domain::paging::{PageRequest, cursor_after};
use crate::entities::{donation, donor, dose, lot, patient, vial};
use crate::error::{AppError, AppResult};
use crate::services::donors::{self, DonorRecord};
use crate::services::doses::{self, DoseRecord};
use crate::services::lots::{self, LotRecord};
use crate::services::patients::{self, PatientRecord};
use crate::services::sites;
use crate::services::vials::{self, VialRecord};
use crate::state::AppState;

/// Most days ahead an expiry filter looks (ten years).
const MAX_EXPIRY_DAYS: u32 = 3_650;

/// One page of a list, and where the next one starts (`None`: this was
/// the last).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }

    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, E>>()?,
            next_cursor: self.next_cursor,
        })
    }
}

/// Records whose expiry falls from now to `days` days ahead (not those
/// already expired: they are another question).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiringWithin {
    from: DateTime<Utc>,
    until: DateTime<Utc>,
}

impl ExpiringWithin {
    /// Judged at `now`, the server's time.
    pub fn parse(days: u32, now: DateTime<Utc>) -> Result<ExpiringWithin, Invalid> {
        ensure(
            (1..=MAX_EXPIRY_DAYS).contains(&days),
            "expiring_within_days",
            format!("look 1 to {MAX_EXPIRY_DAYS} days ahead"),
        )?;
        Ok(ExpiringWithin {
            from: now,
            until: now + Duration::days(i64::from(days)),
        })
    }

    fn on(&self, expires_at: lot::Column) -> SimpleExpr {
        expires_at.gte(self.from).and(expires_at.lt(self.until))
    }
}

/// The sites whose records a list shows: those an account works at (or
/// the one of them it asked for), or every site, for the service acting
/// on its own (the command line, a bench) and the traceability views
/// that follow a record wherever it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteScope {
    Everywhere,
    Only(Vec<Uuid>),
}

impl SiteScope {
    /// The sites `user_id` works at, or the one of them `asked` names; a
    /// site not theirs is `403 not_your_site` (one that does not exist,
    /// 404). An account at no site sees nothing: an empty list, not an
    /// error.
    pub async fn of_user(
        state: &AppState,
        user_id: Uuid,
        asked: Option<Uuid>,
    ) -> AppResult<SiteScope> {
        let mine = sites::of_user(state, user_id).await?;
        match asked {
            None => Ok(SiteScope::Only(mine)),
            Some(id) if mine.contains(&id) => Ok(SiteScope::Only(vec![id])),
            Some(id) => Err(AppError::NotYourSite {
                site: sites::get(state, id).await?.name,
            }),
        }
    }

    /// No site at all: the list is empty without asking the database.
    pub(crate) fn is_nowhere(&self) -> bool {
        matches!(self, SiteScope::Only(ids) if ids.is_empty())
    }

    /// `select` narrowed to these sites, for a list paged by code. On
    /// PostgreSQL a list of one site is ordered by the site first (then
    /// the code, which `keyset` adds): the site's rows in code order are
    /// then read from the `(site_id, code)` index (migration 038), where
    /// the code index would be read from its start, skipping every other
    /// site's rows (a site's codes sit together: its facility number is in
    /// them). Several sites: the code index, filtered. (The site id is a
    /// UUID, written into the statement as one: nothing typed reaches it.)
    pub(crate) fn narrow<E: EntityTrait, C: ColumnTrait>(
        &self,
        backend: DbBackend,
        mut select: Select<E>,
        column: C,
    ) -> Select<E> {
        match self {
            // `= ANY(ARRAY[…])`, not `=`: PostgreSQL drops an `ORDER BY`
            // column it knows equal to a constant, and would again take
            // the code index, priced as if the site's rows were spread
            // evenly through it
            SiteScope::Only(ids) if backend == DbBackend::Postgres && ids.len() == 1 => {
                select = select
                    .filter(Expr::cust(format!(
                        "\"{}\".\"{}\" = ANY(ARRAY['{}']::uuid[])",
                        column.entity_name(),
                        column.as_str(),
                        ids[0]
                    )))
                    .order_by_asc(column);
            }
            _ => {
                if let Some(at) = self.on(backend, column) {
                    select = select.filter(at);
                }
            }
        }
        select
    }

    /// `column` (a `site_id`) is one of these sites; `None`: every site.
    ///
    /// On SQLite the column is written `+site_id`, which keeps the
    /// planner off the `site_id` index: without statistics it takes
    /// `site_id IN (…)` for a narrow lookup, and would read every row of
    /// a site (a one-site install: all of them) to sort them by code for
    /// one page, where the code index (or `(status, code)`) reads the
    /// page's rows in order and checks each one's site. PostgreSQL
    /// weighs the site's share of the table from its statistics.
    pub(crate) fn on<C: ColumnTrait>(&self, backend: DbBackend, column: C) -> Option<SimpleExpr> {
        let SiteScope::Only(ids) = self else {
            return None;
        };
        let ids = ids.iter().copied();
        Some(match backend {
            DbBackend::Sqlite => Expr::cust_with_expr("+?", column.into_expr()).is_in(ids),
            _ => column.is_in(ids),
        })
    }
}

fn empty<T>() -> Page<T> {
    Page {
        items: Vec::new(),
        next_cursor: None,
    }
}

#[derive(Debug, Clone, Default)]
pub struct LotFilter {
    pub status: Option<LotStatus>,
    pub expiring: Option<ExpiringWithin>,
}

#[derive(Debug, Clone, Default)]
pub struct DoseFilter {
    pub status: Option<DoseStatus>,
    pub patient_id: Option<Uuid>,
    pub lot_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default)]
pub struct VialFilter {
    pub status: Option<VialStatus>,
    pub lot_id: Option<Uuid>,
    pub box_id: Option<Uuid>,
    pub expiring: Option<ExpiringWithin>,
}

/// Lots by code; `q` matches a lot code or its DIN (every lot code starts
/// with its DIN).
pub async fn lots(
    state: &AppState,
    sites: &SiteScope,
    filter: &LotFilter,
    page: &PageRequest,
) -> AppResult<Page<LotRecord>> {
    if sites.is_nowhere() {
        return Ok(empty());
    }
    let db = state.db.conn();
    let mut select = lot::Entity::find();
    select = sites.narrow(db.get_database_backend(), select, lot::Column::SiteId);
    if let Some(status) = filter.status {
        select = select.filter(lot::Column::Status.eq(status));
    }
    if let Some(expiring) = &filter.expiring {
        select = select.filter(expiring.on(lot::Column::ExpiresAt));
    }
    let found = keyset(db, select, lot::Column::Code, |l| &l.code, page).await?;
    let items = lots::records(db, found.items).await?;
    Ok(Page {
        items,
        next_cursor: found.next_cursor,
    })
}

/// Donors by code; `status` is the eligibility decision, and `q` matches a
/// donor code or the DIN of any of the donor's donations.
pub async fn donors(
    state: &AppState,
    status: Option<Eligibility>,
    page: &PageRequest,
) -> AppResult<Page<DonorRecord>> {
    let db = state.db.conn();
    let mut select = donor::Entity::find();
    if let Some(status) = status {
        select = select.filter(donor::Column::Eligibility.eq(status));
    }
    // the code's prefix, or a donation's: searched here, not by `keyset`
    let mut unsearched = page.clone();
    if let Some(q) = unsearched.search.take() {
        let by_din = Query::select()
            .column(donation::Column::DonorId)
            .from(donation::Entity)
            .and_where(starts_with(
                db.get_database_backend(),
                donation::Column::Din,
                &q,
            ))
            .to_owned();
        select = select.filter(
            starts_with(db.get_database_backend(), donor::Column::Code, &q)
                .or(donor::Column::Id.in_subquery(by_din)),
        );
    }
    let found = keyset(db, select, donor::Column::Code, |d| &d.code, &unsearched).await?;
    let items = donors::records(db, found.items).await?;
    Ok(Page {
        items,
        next_cursor: found.next_cursor,
    })
}

/// Patients by subject code.
pub async fn patients(
    state: &AppState,
    sites: &SiteScope,
    page: &PageRequest,
) -> AppResult<Page<PatientRecord>> {
    if sites.is_nowhere() {
        return Ok(empty());
    }
    let db = state.db.conn();
    let mut select = patient::Entity::find();
    select = sites.narrow(db.get_database_backend(), select, patient::Column::SiteId);
    let found = keyset(
        db,
        select,
        patient::Column::SubjectCode,
        |p| &p.subject_code,
        page,
    )
    .await?;
    let items = patients::records(db, found.items).await?;
    Ok(Page {
        items,
        next_cursor: found.next_cursor,
    })
}

/// Doses by code (a dose code starts with its patient's subject code);
/// a dose is at its patient's site.
pub async fn doses(
    state: &AppState,
    sites: &SiteScope,
    filter: &DoseFilter,
    page: &PageRequest,
) -> AppResult<Page<DoseRecord>> {
    if sites.is_nowhere() {
        return Ok(empty());
    }
    let db = state.db.conn();
    let backend = db.get_database_backend();
    let mut select = dose::Entity::find();
    if let Some(at) = sites.on(backend, patient::Column::SiteId) {
        let patients = Query::select()
            .column(patient::Column::Id)
            .from(patient::Entity)
            .and_where(at)
            .to_owned();
        // `+patient_id` on SQLite as `SiteScope::on` says: the page is
        // read in code order, not patient by patient
        let patient_id = match backend {
            DbBackend::Sqlite => Expr::cust_with_expr("+?", dose::Column::PatientId.into_expr()),
            _ => dose::Column::PatientId.into_expr(),
        };
        select = select.filter(patient_id.in_subquery(patients));
    }
    if let Some(status) = filter.status {
        select = select.filter(dose::Column::Status.eq(status));
    }
    if let Some(patient_id) = filter.patient_id {
        select = select.filter(dose::Column::PatientId.eq(patient_id));
    }
    if let Some(lot_id) = filter.lot_id {
        select = select.filter(dose::Column::LotId.eq(lot_id));
    }
    let found = keyset(db, select, dose::Column::Code, |d| &d.code, page).await?;
    let items = doses::records(state, db, found.items).await?;
    Ok(Page {
        items,
        next_cursor: found.next_cursor,
    })
}

/// Vials by code; `q` matches a vial code, its lot's code or its DIN.
pub async fn vials(
    state: &AppState,
    sites: &SiteScope,
    filter: &VialFilter,
    page: &PageRequest,
) -> AppResult<Page<VialRecord>> {
    if sites.is_nowhere() {
        return Ok(empty());
    }
    let db = state.db.conn();
    let mut select = vial::Entity::find();
    select = sites.narrow(db.get_database_backend(), select, vial::Column::SiteId);
    if let Some(status) = filter.status {
        select = select.filter(vial::Column::Status.eq(status));
    }
    if let Some(lot_id) = filter.lot_id {
        select = select.filter(vial::Column::LotId.eq(lot_id));
    }
    if let Some(box_id) = filter.box_id {
        select = select.filter(vial::Column::BoxId.eq(box_id));
    }
    if let Some(expiring) = &filter.expiring {
        let lots = Query::select()
            .column(lot::Column::Id)
            .from(lot::Entity)
            .and_where(expiring.on(lot::Column::ExpiresAt))
            .to_owned();
        select = select.filter(vial::Column::LotId.in_subquery(lots));
    }
    let found = keyset(db, select, vial::Column::Code, |v| &v.code, page).await?;
    let mut items = Vec::with_capacity(found.items.len());
    for vial in found.items {
        items.push(vials::record(state, vial).await?);
    }
    Ok(Page {
        items,
        next_cursor: found.next_cursor,
    })
}

/// The page of `select` after the cursor, by `code` ascending: one more
/// row than the page is read, to know whether another page follows.
async fn keyset<E, C>(
    db: &impl ConnectionTrait,
    mut select: Select<E>,
    code: C,
    code_of: fn(&E::Model) -> &str,
    page: &PageRequest,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    if let Some(after) = &page.after {
        select = select.filter(code.gt(after.as_str()));
    }
    if let Some(q) = &page.search {
        select = select.filter(starts_with(db.get_database_backend(), code, q));
    }
    let mut rows = select
        .order_by_asc(code)
        .limit(page.limit + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > page.limit;
    rows.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
    let next_cursor = match more {
        true => rows.last().map(|row| cursor_after(code_of(row))),
        false => None,
    };
    Ok(Page {
        items: rows,
        next_cursor,
    })
}

/// `column` starts with `prefix`, which holds only capitals, digits and
/// `-` (`domain::paging::search_term`), so nothing in it is a pattern.
/// SQLite compares text byte by byte: a range on the index. PostgreSQL
/// may order text by a language's rules, under which a range misses
/// codes; `LIKE` is exact, and uses the index under the C collation.
fn starts_with<C: ColumnTrait>(backend: DbBackend, column: C, prefix: &str) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => column.like(format!("{prefix}%")),
        _ => column.gte(prefix).and(column.lt(format!("{prefix}~"))),
    }
}

/// Released lots by expiry, soonest first, with their vials counted by
/// status: the stock a pharmacy draws on, against the dates it must be
/// used by. Lots that expired in the last `EXPIRED_SHOWN_DAYS` stay in
/// view while they still hold vials someone must discard.
pub async fn stock_by_expiry(state: &AppState, limit: u64) -> AppResult<Vec<LotRecord>> {
    const EXPIRED_SHOWN_DAYS: i64 = 90;
    let db = state.db.conn();
    let since = state.clock.now() - Duration::days(EXPIRED_SHOWN_DAYS);
    let found = lot::Entity::find()
        .filter(lot::Column::Status.eq(LotStatus::Released))
        .filter(lot::Column::ExpiresAt.gt(since))
        .order_by_asc(lot::Column::ExpiresAt)
        .order_by_asc(lot::Column::Code)
        .limit(limit)
        .all(db)
        .await?;
    lots::records(db, found).await
}

/// Sites by facility code (`q` matches its start).
pub async fn sites(
    state: &AppState,
    page: &PageRequest,
) -> AppResult<Page<crate::entities::site::Model>> {
    use crate::entities::site;
    keyset(
        state.db.conn(),
        site::Entity::find(),
        site::Column::FacilityCode,
        |s| &s.facility_code,
        page,
    )
    .await
}

/// Shipments by code, leaving or coming to the sites asked for; `q`
/// matches the start of a code (`SH-2026`).
pub async fn shipments(
    state: &AppState,
    sites: &SiteScope,
    status: Option<crate::domain::shipment::ShipmentStatus>,
    page: &PageRequest,
) -> AppResult<Page<crate::entities::shipment::Model>> {
    use crate::entities::shipment;
    if sites.is_nowhere() {
        return Ok(empty());
    }
    let db = state.db.conn();
    let backend = db.get_database_backend();
    let mut select = shipment::Entity::find();
    if let (Some(from), Some(to)) = (
        sites.on(backend, shipment::Column::FromSiteId),
        sites.on(backend, shipment::Column::ToSiteId),
    ) {
        select = select.filter(from.or(to));
    }
    if let Some(status) = status {
        select = select.filter(shipment::Column::Status.eq(status));
    }
    keyset(db, select, shipment::Column::Code, |s| &s.code, page).await
}
