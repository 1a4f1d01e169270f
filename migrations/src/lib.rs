//! Schema migrations of celltrail.
//!
//! One change per file, written with the sea-orm-migration schema builder so
//! the same migration runs on SQLite and PostgreSQL. Every `create` is
//! `if_not_exists`, and sea-orm-migration records what has been applied, so
//! running the migrator twice is harmless.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_users;
mod m20261124_000002_create_sessions;
mod m20261124_000003_create_custody_events;
mod m20261124_000004_create_signatures;
mod m20261125_000005_create_donors;
mod m20261125_000006_create_donations;
mod m20261125_000007_create_lots;
mod m20261125_000008_create_storage_units;
mod m20261125_000009_create_vials;
mod m20261125_000010_create_protocol_versions;
mod m20261125_000011_create_patients;
mod m20261125_000012_create_doses;
mod m20261125_000013_create_infusions;
mod m20261125_000014_create_assessments;
mod m20261125_000015_add_vial_previous_location;
mod m20261126_000016_add_weight_voids;
mod m20261126_000017_add_enrolment_weight;
mod m20261126_000018_add_count_judgement;
mod m20261126_000019_add_dose_count_failure;
mod m20261126_000020_add_infusion_late_entry;
mod m20261126_000021_add_screening_invalidation;
mod m20261126_000022_add_qc_investigation;
mod m20261126_000023_unique_storage_names;
mod m20261126_000024_create_ledger_checkpoints;
mod m20261126_000025_create_sign_in_failures;
mod m20261126_000026_create_demo_marks;
mod m20261126_000027_create_session_epoch;
mod m20261126_000028_create_ledger_head;
mod m20261127_000029_index_vials_by_lot_status_code;
mod m20261128_000030_index_lists_by_status_code;
mod m20261128_000031_create_user_preferences;
mod m20261129_000032_add_adverse_event_corrections;
mod m20261129_000033_create_form_sendings;
mod m20261129_000034_create_sites;
mod m20261130_000035_create_shipments;
mod m20261130_000036_create_temperature;
mod m20261130_000037_add_chain_of_identity;
mod m20261130_000038_index_lists_by_site;
mod m20261201_000039_create_imports;
mod m20261201_000040_create_withdrawals;
mod m20261201_000041_create_corrections;

mod add_columns;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_users::Migration),
            Box::new(m20261124_000002_create_sessions::Migration),
            Box::new(m20261124_000003_create_custody_events::Migration),
            Box::new(m20261124_000004_create_signatures::Migration),
            Box::new(m20261125_000005_create_donors::Migration),
            Box::new(m20261125_000006_create_donations::Migration),
            Box::new(m20261125_000007_create_lots::Migration),
            Box::new(m20261125_000008_create_storage_units::Migration),
            Box::new(m20261125_000009_create_vials::Migration),
            Box::new(m20261125_000010_create_protocol_versions::Migration),
            Box::new(m20261125_000011_create_patients::Migration),
            Box::new(m20261125_000012_create_doses::Migration),
            Box::new(m20261125_000013_create_infusions::Migration),
            Box::new(m20261125_000014_create_assessments::Migration),
            Box::new(m20261125_000015_add_vial_previous_location::Migration),
            Box::new(m20261126_000016_add_weight_voids::Migration),
            Box::new(m20261126_000017_add_enrolment_weight::Migration),
            Box::new(m20261126_000018_add_count_judgement::Migration),
            Box::new(m20261126_000019_add_dose_count_failure::Migration),
            Box::new(m20261126_000020_add_infusion_late_entry::Migration),
            Box::new(m20261126_000021_add_screening_invalidation::Migration),
            Box::new(m20261126_000022_add_qc_investigation::Migration),
            Box::new(m20261126_000023_unique_storage_names::Migration),
            Box::new(m20261126_000024_create_ledger_checkpoints::Migration),
            Box::new(m20261126_000025_create_sign_in_failures::Migration),
            Box::new(m20261126_000026_create_demo_marks::Migration),
            Box::new(m20261126_000027_create_session_epoch::Migration),
            Box::new(m20261126_000028_create_ledger_head::Migration),
            Box::new(m20261127_000029_index_vials_by_lot_status_code::Migration),
            Box::new(m20261128_000030_index_lists_by_status_code::Migration),
            Box::new(m20261128_000031_create_user_preferences::Migration),
            Box::new(m20261129_000032_add_adverse_event_corrections::Migration),
            Box::new(m20261129_000033_create_form_sendings::Migration),
            Box::new(m20261129_000034_create_sites::Migration),
            Box::new(m20261130_000035_create_shipments::Migration),
            Box::new(m20261130_000036_create_temperature::Migration),
            Box::new(m20261130_000037_add_chain_of_identity::Migration),
            Box::new(m20261130_000038_index_lists_by_site::Migration),
            Box::new(m20261201_000039_create_imports::Migration),
            Box::new(m20261201_000040_create_withdrawals::Migration),
            Box::new(m20261201_000041_create_corrections::Migration),
        ]
    }
}
