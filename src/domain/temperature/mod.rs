//! Temperature, in transit and at rest: readings as exact hundredths of a
//! degree Celsius ([`CentiCelsius`]), the product's limits ([`Limits`]), the
//! excursions and gaps of a series ([`analyse`]), the vials that were inside
//! during an excursion ([`vials_inside`]), and data logger exports read into
//! readings ([`csv::parse`]).
//!
//! No floating point anywhere: values are read from text digit by digit,
//! rounded toward warm when finer than a hundredth (which never changes
//! whether a reading is above a limit; see [`celsius`]), and °F converted as
//! exact fractions. No clock: every time is a reading's own.

pub mod celsius;
pub mod csv;
pub mod excursion;
pub mod presence;

pub use celsius::{CentiCelsius, DecimalMark, ParsedTemperature, TemperatureError, Unit};
pub use excursion::{Analysis, DEFAULT_MAX_GAP_MINUTES, Excursion, Gap, Limits, Reading, analyse};
pub use presence::{Presence, overlaps, vials_inside};
