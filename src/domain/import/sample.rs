//! A well-formed bank file of any size: what the tests, the benchmark and
//! the template's examples are built from. Each donor gives one cord and
//! one lot; boxes are 9×9, ten to a rack, ten racks to a tank.

use chrono::{DateTime, Duration, Utc};

use crate::domain::din::{Din, FacilityCode};

/// The header of a complete file (every optional column too), with the
/// seed protocol's QC tests.
pub const HEADER: &str = "donor_code,consent_at,screened_at,specimen,screen_hiv,screen_hbv,screen_hcv,screen_syphilis,screen_htlv,screen_cmv,eligibility,eligibility_reason,din,collected_at,received_at,lot_number,lot_code,product_code,passage,manufactured_at,expires_at,frozen_at,qc_sterility,qc_mycoplasma,qc_endotoxin,qc_viability,qc_cd73,qc_cd90,qc_cd105,qc_cd34,qc_cd45,qc_cd14,qc_cd19,qc_hla_dr,vial_number,vial_code,cells_per_vial,volume_ul,tank,rack,box,box_rows,box_cols,position";

/// Box side: 9 × 9 positions.
pub const BOX_SIDE: usize = 9;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Sample {
    pub lots: usize,
    pub vials_per_lot: usize,
    /// Facility of the DINs (another bank's by default).
    pub facility: String,
    /// DIN sequence numbers start after this.
    pub first_sequence: u32,
    /// Storage names start with this (`T1`…), so two files do not share boxes.
    pub storage_prefix: String,
    /// The times are days before this.
    pub now: DateTime<Utc>,
}

impl Sample {
    pub fn new(lots: usize, vials_per_lot: usize, now: DateTime<Utc>) -> Sample {
        Sample {
            lots,
            vials_per_lot,
            facility: "B1234".into(),
            first_sequence: 0,
            storage_prefix: String::new(),
            now,
        }
    }

    /// The file's text (LF line ends, no BOM).
    pub fn csv(&self) -> String {
        let mut out = String::with_capacity(self.lots * self.vials_per_lot * 330 + 700);
        out.push_str(HEADER);
        out.push('\n');
        let t = |days: i64| {
            (self.now - Duration::days(days))
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        };
        let consent = t(60);
        let collected = t(40);
        let screened = t(41);
        let received = t(39);
        let made = t(20);
        let frozen = t(19);
        let expires = (self.now + Duration::days(700))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let facility = FacilityCode::parse(&self.facility).expect("a facility code");
        let per_box = BOX_SIDE * BOX_SIDE;
        let mut vial_index = 0usize;
        for lot in 0..self.lots {
            let sequence = self.first_sequence + lot as u32 + 1;
            let din = Din::new(facility.clone(), 25, sequence).expect("a sequence in range");
            let donor = format!(
                "{}D{:06}",
                self.storage_prefix.to_ascii_uppercase(),
                sequence
            );
            let din_text = format!("{}{}", din.compact(), din.check_character());
            let lot_code = format!("{}-L01", din.compact());
            for v in 1..=self.vials_per_lot {
                let box_no = vial_index / per_box;
                let slot = vial_index % per_box;
                let rack = box_no / 10;
                let tank = rack / 10;
                let position = format!(
                    "{}{}",
                    (b'A' + (slot / BOX_SIDE) as u8) as char,
                    slot % BOX_SIDE + 1
                );
                let p = &self.storage_prefix;
                out.push_str(&format!(
                    "{donor},{consent},{screened},maternal,negative,negative,negative,negative,negative,negative,eligible,,{din_text},{collected},{received},1,{lot_code},S1395,3,{made},{expires},{frozen},negative,negative,<0.25,95.1,98.2,97.5,99.0,0.4,0.3,0.2,0.1,0.5,{v},{lot_code}-V{v:03},2000000,1000,{p}Tank {},{p}Rack {},{p}Box {},{BOX_SIDE},{BOX_SIDE},{position}\n",
                    tank + 1,
                    rack + 1,
                    box_no + 1,
                ));
                vial_index += 1;
            }
        }
        out
    }
}
