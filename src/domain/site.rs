//! Sites: the places a trial's cells are made, kept and given. Each has a
//! name, a kind, its ISBT 128 facility identification number (FIN) and the
//! time zone its people read times in. Storage trees, lots, patients and
//! accounts belong to sites; a one-site install has one, the default site,
//! which every record made before sites existed belongs to.

use uuid::Uuid;

use crate::domain::din::FacilityCode;
use crate::domain::invalid::Invalid;
use crate::domain::lifecycle::string_enum;
use crate::domain::zone::SiteZone;

/// The default site's id: every row made before sites existed carries it
/// (the migration's column default), so nothing is rewritten to move a
/// one-site install onto sites.
pub const DEFAULT_SITE_ID: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001);

string_enum!(
    /// What a site does: `manufacturing` (a GMP cell lab: processes cords,
    /// freezes and releases lots), `clinical` (a hospital pharmacy and
    /// ward: thaws, doses and infuses), `storage` (a store of frozen
    /// product) or `combined` (cell lab and clinic in one place, as a
    /// one-site install is).
    SiteKind {
        Manufacturing => "manufacturing",
        Clinical => "clinical",
        Storage => "storage",
        Combined => "combined",
    }
);

/// A new site as asked for, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSite {
    pub name: String,
    pub kind: SiteKind,
    pub facility_code: FacilityCode,
    pub zone: SiteZone,
}

impl NewSite {
    /// Checks each field; the first wrong one is named.
    pub fn parse(
        name: &str,
        kind: &str,
        facility_code: &str,
        time_zone: &str,
    ) -> Result<NewSite, Invalid> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(Invalid::new(
                "name",
                "a site's name of 1 to 100 characters on one line is required",
            ));
        }
        let kind = kind.parse::<SiteKind>().map_err(|_| {
            Invalid::new(
                "kind",
                "a site is manufacturing, clinical, storage or combined",
            )
        })?;
        let facility_code = FacilityCode::parse(facility_code.trim())
            .map_err(|e| Invalid::new("facility_code", e.to_string()))?;
        let zone = SiteZone::parse(time_zone.trim()).ok_or_else(|| {
            Invalid::new(
                "time_zone",
                "an IANA time zone name such as Asia/Shanghai or Europe/Berlin",
            )
        })?;
        Ok(NewSite {
            name: name.to_owned(),
            kind,
            facility_code,
            zone,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_is_named_kinded_coded_and_zoned() {
        let site = NewSite::parse(
            " Beijing cell lab ",
            "manufacturing",
            "A9999",
            "Asia/Shanghai",
        )
        .unwrap();
        assert_eq!(site.name, "Beijing cell lab");
        assert_eq!(site.kind, SiteKind::Manufacturing);
        assert_eq!(site.facility_code.as_str(), "A9999");
        assert_eq!(site.zone.name(), "Asia/Shanghai");
    }

    #[test]
    fn each_wrong_field_is_named() {
        fn field(n: &str, k: &str, f: &str, z: &str) -> &'static str {
            NewSite::parse(n, k, f, z).unwrap_err().field
        }
        assert_eq!(field("", "clinical", "A9999", "UTC"), "name");
        assert_eq!(field(&"x".repeat(101), "clinical", "A9999", "UTC"), "name");
        assert_eq!(field("Ward", "hospital", "A9999", "UTC"), "kind");
        assert_eq!(field("Ward", "clinical", "a9999", "UTC"), "facility_code");
        assert_eq!(field("Ward", "clinical", "A999", "UTC"), "facility_code");
        assert_eq!(
            field("Ward", "clinical", "A9999", "Mars/Olympus"),
            "time_zone"
        );
    }

    #[test]
    fn the_default_site_id_is_fixed() {
        assert_eq!(
            DEFAULT_SITE_ID.to_string(),
            "00000000-0000-7000-8000-000000000001"
        );
    }
}
