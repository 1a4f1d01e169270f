//! Cryogenic storage: tanks hold racks, racks hold boxes, boxes hold vials
//! in positions `A1`… (row letter, column number).

use std::fmt;

use crate::domain::invalid::Invalid;
use crate::domain::lifecycle::string_enum;

string_enum!(
    /// A level of the storage hierarchy.
    StorageKind {
        Tank => "tank",
        Rack => "rack",
        Box => "box",
    }
);

/// Largest box: 26 rows (A-Z) by 30 columns.
pub const MAX_ROWS: u8 = 26;
pub const MAX_COLS: u8 = 30;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageRuleBroken {
    #[error("a tank stands alone; it has no parent")]
    TankWithParent,
    #[error("a rack goes into a tank")]
    RackOutsideTank,
    #[error("a box goes into a rack or a tank")]
    BoxOutsideRackOrTank,
    #[error("a box has 1-{MAX_ROWS} rows and 1-{MAX_COLS} columns")]
    BadBoxSize,
    #[error("only a box has rows and columns")]
    SizeOnNonBox,
}

/// A unit's name: 1 to 100 characters on one line, without the `›` that
/// separates the parts of a path.
pub fn unit_name(raw: &str) -> Result<&str, Invalid> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Invalid::new(
            "name",
            "a name of 1 to 100 characters is required",
        ));
    }
    if name.contains('›') {
        return Err(Invalid::new("name", "'›' separates the parts of a path"));
    }
    Ok(name)
}

/// Checks a new unit's place in the hierarchy.
pub fn check_new_unit(
    kind: StorageKind,
    parent: Option<StorageKind>,
    rows: Option<i32>,
    cols: Option<i32>,
) -> Result<(), StorageRuleBroken> {
    match (kind, parent) {
        (StorageKind::Tank, Some(_)) => return Err(StorageRuleBroken::TankWithParent),
        (StorageKind::Rack, parent) if parent != Some(StorageKind::Tank) => {
            return Err(StorageRuleBroken::RackOutsideTank);
        }
        (StorageKind::Box, None | Some(StorageKind::Box)) => {
            return Err(StorageRuleBroken::BoxOutsideRackOrTank);
        }
        _ => {}
    }
    match (kind, rows, cols) {
        (StorageKind::Box, Some(r), Some(c))
            if (1..=i32::from(MAX_ROWS)).contains(&r) && (1..=i32::from(MAX_COLS)).contains(&c) =>
        {
            Ok(())
        }
        (StorageKind::Box, _, _) => Err(StorageRuleBroken::BadBoxSize),
        (_, None, None) => Ok(()),
        _ => Err(StorageRuleBroken::SizeOnNonBox),
    }
}

/// A position inside a box, e.g. `B4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    /// 0-based row (A = 0).
    pub row: u8,
    /// 1-based column.
    pub col: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not a position of a {rows}×{cols} box (A1 to {last})")]
pub struct InvalidPosition {
    pub given: String,
    pub rows: u8,
    pub cols: u8,
    pub last: String,
}

impl Position {
    /// Parses `b4`, `B04`, ` B4 ` within a box of `rows` × `cols`.
    pub fn parse(raw: &str, rows: u8, cols: u8) -> Result<Self, InvalidPosition> {
        let invalid = || InvalidPosition {
            given: raw.to_owned(),
            rows,
            cols,
            last: Position {
                row: rows.saturating_sub(1),
                col: cols,
            }
            .to_string(),
        };
        let text = raw.trim().to_ascii_uppercase();
        let mut chars = text.chars();
        let letter = chars
            .next()
            .filter(char::is_ascii_uppercase)
            .ok_or_else(invalid)?;
        let digits = chars.as_str();
        if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let row = letter as u8 - b'A';
        let col: u8 = digits.parse().map_err(|_| invalid())?;
        if row >= rows || col == 0 || col > cols {
            return Err(invalid());
        }
        Ok(Position { row, col })
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", char::from(b'A' + self.row), self.col)
    }
}

/// The first empty position of a `rows` × `cols` box, row by row (A1,
/// A2, …, B1, …): where the next vial goes when none is chosen.
pub fn next_free(rows: u8, cols: u8, occupied: impl Fn(&Position) -> bool) -> Option<Position> {
    (0..rows)
        .flat_map(|row| (1..=cols).map(move |col| Position { row, col }))
        .find(|p| !occupied(p))
}

/// The human-readable location: `Tank 1 › Rack A › Box 3 › B4`.
pub fn location_path<'a>(
    names: impl IntoIterator<Item = &'a str>,
    position: Option<&str>,
) -> String {
    let mut parts: Vec<&str> = names.into_iter().collect();
    if let Some(position) = position {
        parts.push(position);
    }
    parts.join(" › ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_name_is_one_short_line() {
        assert_eq!(unit_name("  Tank A "), Ok("Tank A"));
        assert!(unit_name(&"x".repeat(100)).is_ok());
        assert_eq!(unit_name(&"x".repeat(101)).unwrap_err().field, "name");
        assert!(unit_name(" ").is_err() && unit_name("a\nb").is_err());
        assert_eq!(
            unit_name("A › B").unwrap_err().message,
            "'›' separates the parts of a path"
        );
    }

    #[test]
    fn positions_parse_within_the_box() {
        assert_eq!(Position::parse("A1", 9, 9), Ok(Position { row: 0, col: 1 }));
        assert_eq!(Position::parse(" i9 ", 9, 9).unwrap().to_string(), "I9");
        assert_eq!(Position::parse("B04", 9, 9).unwrap().to_string(), "B4");
        assert_eq!(Position::parse("J10", 10, 10).unwrap().to_string(), "J10");
        for bad in [
            "", "A", "1A", "A0", "J1", "A10", "AA1", "A-1", "A100", "Ä1", "A 1",
        ] {
            assert!(Position::parse(bad, 9, 9).is_err(), "{bad:?}");
        }
        let error = Position::parse("K1", 9, 9).unwrap_err();
        assert_eq!(error.last, "I9");
    }

    #[test]
    fn the_hierarchy_is_tank_rack_box() {
        use StorageKind::*;
        assert!(check_new_unit(Tank, None, None, None).is_ok());
        assert!(check_new_unit(Rack, Some(Tank), None, None).is_ok());
        assert!(check_new_unit(Box, Some(Rack), Some(9), Some(9)).is_ok());
        assert!(check_new_unit(Box, Some(Tank), Some(10), Some(10)).is_ok());
        assert_eq!(
            check_new_unit(Tank, Some(Tank), None, None),
            Err(StorageRuleBroken::TankWithParent)
        );
        assert_eq!(
            check_new_unit(Rack, None, None, None),
            Err(StorageRuleBroken::RackOutsideTank)
        );
        assert_eq!(
            check_new_unit(Rack, Some(Box), None, None),
            Err(StorageRuleBroken::RackOutsideTank)
        );
        assert_eq!(
            check_new_unit(Box, Some(Box), Some(9), Some(9)),
            Err(StorageRuleBroken::BoxOutsideRackOrTank)
        );
        assert_eq!(
            check_new_unit(Box, Some(Rack), None, Some(9)),
            Err(StorageRuleBroken::BadBoxSize)
        );
        assert_eq!(
            check_new_unit(Box, Some(Rack), Some(27), Some(9)),
            Err(StorageRuleBroken::BadBoxSize)
        );
        assert_eq!(
            check_new_unit(Box, Some(Rack), Some(0), Some(9)),
            Err(StorageRuleBroken::BadBoxSize)
        );
        assert_eq!(
            check_new_unit(Rack, Some(Tank), Some(3), None),
            Err(StorageRuleBroken::SizeOnNonBox)
        );
    }

    #[test]
    fn paths_read_from_tank_to_position() {
        assert_eq!(
            location_path(["Tank 1", "Rack A", "Box 3"], Some("B4")),
            "Tank 1 › Rack A › Box 3 › B4"
        );
        assert_eq!(location_path(["Tank 1"], None), "Tank 1");
    }

    #[test]
    fn the_next_free_position_is_the_first_empty_one_row_by_row() {
        let taken = |list: &'static [&'static str]| {
            move |p: &Position| list.contains(&p.to_string().as_str())
        };
        assert_eq!(next_free(2, 3, taken(&[])).unwrap().to_string(), "A1");
        assert_eq!(
            next_free(2, 3, taken(&["A1", "A2"])).unwrap().to_string(),
            "A3"
        );
        assert_eq!(
            next_free(2, 3, taken(&["A1", "A2", "A3", "B2"]))
                .unwrap()
                .to_string(),
            "B1"
        );
        assert_eq!(next_free(2, 2, taken(&["A1", "A2", "B1", "B2"])), None);
    }
}
