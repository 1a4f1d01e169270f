//! The free English text some refusals carry (an `InvalidField`'s message,
//! an exhausted counter, a QC value's expected form, a likely slip),
//! translated by a table: each message the code base builds, written as
//! its English text with the values it interpolates as `{holes}`, beside
//! the catalogue key that says it in Chinese. A hole's value is carried
//! over as the argument of its name (times into the site's zone, lists
//! joined with `、`, statuses in words). A message the table does not know
//! is said as "this field cannot be accepted", followed by the English
//! specifics, so nothing is lost.

use chrono::{DateTime, Utc};

use super::{word, zh};
use crate::domain::zone::SiteZone;

/// Every message the services and the domain build, `{name}` where they
/// interpolate a value, with its key. Order matters only for the last,
/// catch-all shapes (`{min} to {max}`).
#[rustfmt::skip]
const TABLE: &[(&str, &str)] = &[
    // signatures, reasons and free text
    ("the meaning of a signature is 1 to 200 characters", "refusal-signature-meaning"),
    ("a reason of 1 to 1000 characters is required", "refusal-reason-required"),
    ("at most 1000 characters", "refusal-at-most-1000"),
    ("text may not contain the NUL character (U+0000)", "refusal-nul"),
    ("{at} is in the future", "refusal-in-future"),
    ("{path}: \"{text}\" is not a date between 1900 and 2200", "refusal-date-range"),
    ("choose en (English) or zh-CN (简体中文)", "refusal-language"),
    // accounts
    ("a username is 3 to 64 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter", "refusal-username"),
    ("a full name is 1 to 200 characters, without control characters", "refusal-full-name"),
    ("unknown role \"{role}\"; expected one of lab, pharmacist, quality, clinician, admin", "refusal-unknown-role"),
    ("a password needs at least {min} characters", "refusal-password-short"),
    ("a password may have at most {max} characters", "refusal-password-long"),
    ("a password may not be the username", "refusal-password-username"),
    // lists and search
    ("a page holds 1 to {max} items", "refusal-page-limit"),
    ("a search is at most {max} characters: a code, a DIN or a subject code", "refusal-search-length"),
    ("the check character {given} does not match this DIN; read the DIN and its boxed check character again from the label", "refusal-search-check-character"),
    ("search by a code, a DIN or a subject code: letters, digits and '-' only", "refusal-search-characters"),
    ("this cursor was not given by this list; start again from the first page", "refusal-cursor"),
    ("look 1 to {max} days ahead", "refusal-expiring-days"),
    // donors and donations
    ("a donor code is 3 to 32 capital letters, digits or '-', never a name", "refusal-donor-code"),
    ("a cord is received after it is collected", "refusal-cord-received"),
    ("collection precedes the donor's consent of {consent}", "refusal-collected-before-consent"),
    // withdrawals
    ("{at} is before the consent was given ({consent})", "refusal-withdrawn-before-consent"),
    ("{at} is before the patient was enrolled ({started})", "refusal-withdrawn-before-enrolment"),
    ("type the date and time of the withdrawal, as 2026-11-25T09:40", "refusal-withdrawal-time"),
    ("decide eligible or ineligible", "refusal-decide"),
    ("an ineligible decision needs a reason", "refusal-ineligible-reason"),
    ("all 999999 DINs of facility {facility} for 20{yy} are used", "refusal-dins-exhausted"),
    ("donation {din} already has {max} lots", "refusal-lots-exhausted"),
    // lots, QC and labels
    ("a passage number from 0 to 50", "refusal-passage"),
    ("a lot expires after it is manufactured", "refusal-lot-expiry-order"),
    ("a lot is made after its cord is collected", "refusal-lot-made-after-collection"),
    ("a lot is frozen after it is manufactured", "refusal-lot-frozen-after"),
    ("1 to {max} vials", "refusal-vial-count"),
    ("a whole number of cells, 1 to 10^12", "refusal-cells-per-vial"),
    ("1 µL to 100 mL, in whole microlitres", "refusal-vial-volume"),
    ("5 to 8 capital letters and digits, starting with a letter", "refusal-product-code"),
    ("only a failing result is investigated", "refusal-investigate-failing-only"),
    ("a percentage from 0 to 100", "refusal-percentage"),
    ("1 to {max} labels per vial at a time", "refusal-label-copies"),
    ("a vial that is {status} gets no new labels", "refusal-vial-no-labels"),
    ("the lot has no vials to label (it is not frozen yet, or none is left)", "refusal-lot-no-vials-to-label"),
    // storage
    ("a name of 1 to 100 characters is required", "refusal-storage-name"),
    ("'›' separates the parts of a path", "refusal-storage-name-separator"),
    // patients, weights and assessments
    ("a subject code is 2 to 20 capital letters, digits or '-' (e.g. PV-007), never a name", "refusal-subject-code"),
    ("female or male", "refusal-sex"),
    ("a height from 50 to 250 cm, at most one decimal", "refusal-height"),
    ("a PASI from 0 to 72 with at most one decimal", "refusal-baseline-pasi"),
    ("before the enrolment", "refusal-birth-before-enrolment"),
    ("long before the patient's enrolment", "refusal-weighed-long-before"),
    ("more than 30 days before the enrolment", "refusal-assessed-too-early"),
    ("a positive decimal number with at most 6 decimals, e.g. 72.5", "refusal-positive-decimal-6"),
    ("a positive decimal number, e.g. 72.5", "refusal-positive-decimal"),
    ("was it typed in pounds? {typed} lb would be {kg} kg", "refusal-slip-pounds"),
    ("was it weighed in kilograms? {typed} kg would be {kg} kg", "refusal-slip-kilograms"),
    ("is the decimal point in the right place? {kg} kg would be close", "refusal-slip-decimal"),
    // doses and counts
    ("give either a patient_id (its latest weight is used) or a weight_kg", "refusal-patient-or-weight"),
    ("1 to 10^10 cells per kg", "refusal-dose-per-kg"),
    ("the lot is not frozen into vials yet", "refusal-lot-not-frozen"),
    ("0 to 10^10 viable cells per mL", "refusal-viable-cells"),
    ("confirming an implausible count needs the reason it is right", "refusal-count-reason"),
    ("a vial is counted twice", "refusal-counted-twice"),
    ("a count is for a vial that is not in this dose; its vials are {codes}", "refusal-count-foreign-vial"),
    ("one count for each vial not counted yet: {codes} (missing {missing})", "refusal-count-missing"),
    ("no count: the dose's counts are recorded; correct one with a signed recount", "refusal-count-none"),
    ("{codes} already counted: a correction of a recorded count is signed, with a reason", "refusal-count-correction-unsigned"),
    ("a correction of a recorded count is signed", "refusal-correction-signed"),
    ("before the dose's vials were reserved", "refusal-thawed-before-reserved"),
    ("not one of the dose's vials", "refusal-not-dose-vial"),
    // infusions
    ("{started} is more than 5 minutes from the server's clock ({now}); an infusion given earlier, during an outage, is recorded as a late entry (signed, with a reason)", "refusal-started-skew"),
    ("before the product was thawed", "refusal-started-before-thaw"),
    ("before the infusion started", "refusal-ended-before-start"),
    ("confirming an unusual volume needs the reason (a primed line, a leak, an infusion stopped early)", "refusal-volume-reason"),
    ("0 to the {thawed} thawed ({prepared} prepared), in µL", "refusal-volume-range"),
    ("event {n}: a term of 1 to 200 characters", "refusal-ae-term"),
    ("event {n}: a CTCAE grade from 1 to 5", "refusal-ae-grade"),
    ("an adverse event of this infusion begins after it started", "refusal-ae-onset"),
    ("the correction changes nothing: the grade, term and onset are as recorded", "refusal-ae-correction-unchanged"),
    ("a late entry is signed: add your signature", "refusal-late-entry-unsigned"),
    ("only a late entry is signed at the start of an infusion", "refusal-signed-not-late"),
    // the protocol and its amendments
    ("the amendment changes nothing", "refusal-amendment-unchanged"),
    ("1 to 20 visits", "refusal-visits-count"),
    ("week {week} is not 0 to 260", "refusal-visit-week"),
    ("the window of week {week} is not 0 to 90 days either side", "refusal-visit-window"),
    ("the window of week {week} overlaps the visit before it", "refusal-visit-overlap"),
    ("1 to 40 characters", "refusal-chars-1-40"),
    ("1 to 300 characters", "refusal-chars-1-300"),
    ("above bmi_min", "refusal-bmi-order"),
    ("above weight_min_g", "refusal-weight-order"),
    ("every infusion must fit in the window at this interval", "refusal-interval-fits"),
    ("ages 0 to 120, the maximum not below the minimum", "refusal-ages"),
    ("\"{key}\" is not a key (a-z, 0-9, _)", "refusal-criterion-key"),
    ("\"{key}\" is not a test name (a-z, 0-9, _)", "refusal-test-name"),
    ("{test}: \"{limit}\" is not a limit", "refusal-qc-limit"),
    ("{test}: a word result has no unit and a number has one", "refusal-qc-unit-rule"),
    ("the specification has no test", "refusal-qc-no-test"),
    ("{key} is listed twice", "refusal-listed-twice"),
    // signed corrections of typed fields (issue 16)
    ("a lot of this cord was made at {at}, before this collection time", "refusal-corr-lot-before-collection"),
    ("a cord of this donor was collected at {at}, before this consent", "refusal-corr-collected-before-consent"),
    ("the lot was frozen at {at}, before this manufacture time", "refusal-corr-frozen-before"),
    ("with this birth date the patient was {age} at enrolment on {day}, outside the protocol's {min} to {max} years: report it to quality as a protocol deviation", "refusal-corr-age"),
    ("a baseline PASI of {pasi} is below the protocol's {threshold} for enrolment: report it to quality as a protocol deviation", "refusal-corr-baseline-pasi"),
    ("the donor was found eligible on screening this collection time would leave uncovered ({tests}): ask quality to review the donor's eligibility first", "refusal-corr-screening"),
    ("a time in RFC 3339, e.g. 2026-11-27T08:00:00Z", "refusal-corr-time"),
    ("a date as YYYY-MM-DD", "refusal-corr-date"),
    ("each DLQI answer is 0 to 3", "refusal-corr-dlqi"),
    ("an area score is 0 to 6", "refusal-corr-area"),
    ("a severity score is 0 to 4", "refusal-corr-severity"),
    ("a word or a decimal number, as at entry", "refusal-corr-qc-value"),
    ("one of donor, donation, lot, vial, patient, assessment, qc_result", "refusal-corr-subject-kind"),
    ("a string or a number", "refusal-corr-value-shape"),
    ("{min} to {max}", "refusal-number-range"),
];

/// Holes whose value is a whole number: a shape such as `{min} to {max}`
/// matches numbers only, not any sentence with "to" in it.
const NUMBERS: &[&str] = &["min", "max", "n", "week", "yy"];
/// Holes that hold an instant as `DateTime<Utc>` prints it.
const TIMES: &[&str] = &["at", "started", "now", "consent"];
/// Holes that hold a list joined with ", ".
const LISTS: &[&str] = &["codes", "missing"];

/// The values of `pattern`'s holes in `message`, by name, or `None` when
/// the message does not have the pattern's shape.
fn capture(pattern: &'static str, message: &str) -> Option<Vec<(&'static str, String)>> {
    let mut literals = Vec::new();
    let mut holes = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}')?;
        literals.push(&rest[..open]);
        holes.push(&rest[open + 1..close]);
        rest = &rest[close + 1..];
    }
    literals.push(rest);
    let mut text = message.strip_prefix(literals[0])?;
    let mut found = Vec::new();
    for (n, hole) in holes.iter().enumerate() {
        let next = literals[n + 1];
        let end = if n + 1 == holes.len() {
            text.strip_suffix(next)?.len()
        } else {
            text.find(next)?
        };
        let value = &text[..end];
        let number = value.parse::<i64>().is_ok();
        if value.is_empty() || (NUMBERS.contains(hole) && !number) {
            return None;
        }
        found.push((*hole, value.to_owned()));
        text = &text[end + next.len()..];
    }
    text.is_empty().then_some(found)
}

/// A captured value as a Chinese sentence shows it.
fn shown(hole: &str, value: String, zone: SiteZone) -> String {
    if TIMES.contains(&hole) {
        let utc = value.replace(" UTC", " +0000");
        if let Ok(t) = DateTime::parse_from_str(&utc, "%Y-%m-%d %H:%M:%S%.f %z") {
            return zone.minute(t.with_timezone(&Utc));
        }
    }
    if LISTS.contains(&hole) {
        return value.replace(", ", "、");
    }
    if hole == "status" {
        return word("status-", &value);
    }
    value
}

/// The field as the form names it, when the catalogue has a word for it
/// (`refusal-field-…`, or the protocol page's `proto-f-…`).
fn field_label(field: &str) -> Option<String> {
    let plain: String = field
        .split('[')
        .next()
        .unwrap_or(field)
        .chars()
        .map(|c| if c == '.' { '_' } else { c })
        .collect();
    let ours = word("refusal-field-", &plain);
    if ours != plain {
        return Some(ours);
    }
    let protocol = word("proto-f-", &plain.replace('_', "-"));
    (protocol != plain.replace('_', "-")).then_some(protocol)
}

/// The key and arguments the table gives `message`, if it knows it.
fn lookup(message: &str, zone: SiteZone) -> Option<(&'static str, Vec<(&'static str, String)>)> {
    let message = message.trim();
    TABLE.iter().find_map(|(pattern, key)| {
        let found = capture(pattern, message)?;
        let args = found
            .into_iter()
            .map(|(hole, value)| (hole, shown(hole, value, zone)))
            .collect();
        Some((*key, args))
    })
}

/// A field refused with `message`, in Chinese: the table's sentence, a
/// message a page already wrote in its own language as it is, or "this
/// field cannot be accepted" with the English specifics in brackets.
pub fn invalid_field(field: &str, message: &str, zone: SiteZone) -> String {
    let label = field_label(field);
    if let Some((key, mut args)) = lookup(message, zone) {
        args.push((
            "field",
            label.unwrap_or_else(|| zh("refusal-this-field", &[])),
        ));
        return zh(key, &args);
    }
    // a page's own refusal (`t("filter-bad-status")`) is in its language
    if message
        .chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    {
        return message.to_owned();
    }
    let details = message.trim().to_owned();
    match label {
        Some(field) => zh(
            "refusal-field-unaccepted",
            &[("field", field), ("details", details)],
        ),
        None => zh("refusal-input-unaccepted", &[("details", details)]),
    }
}

/// Which of `messages` the table does not know (those a Chinese page says
/// with the English specifics in brackets).
pub fn untranslated<'a>(messages: &[&'a str]) -> Vec<&'a str> {
    messages
        .iter()
        .copied()
        .filter(|m| lookup(m, SiteZone::UTC).is_none())
        .collect()
}

/// An assessment score out of range: where on the form, and the rule.
pub fn assessment(field: &str, message: &str) -> String {
    let rule = match message {
        "an area score is 0 to 6" => zh("refusal-pasi-area", &[]),
        "a severity score is 0 to 4" => zh("refusal-pasi-severity", &[]),
        "the DLQI has exactly 10 answers" => zh("refusal-dlqi-count", &[]),
        "each DLQI answer is 0 to 3" => zh("refusal-dlqi-answer", &[]),
        other => return invalid_field(field, other, SiteZone::UTC),
    };
    let place = match field.split('.').collect::<Vec<_>>().as_slice() {
        ["regions", region, part] => zh(
            "refusal-pasi-place",
            &[
                ("region", word("refusal-region-", region)),
                ("part", word("refusal-part-", part)),
            ],
        ),
        _ => match field
            .strip_prefix("answers[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|n| n.parse::<u32>().ok())
        {
            Some(n) => zh("refusal-dlqi-place", &[("n", (n + 1).to_string())]),
            None => return rule,
        },
    };
    format!("{place}{rule}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_carries_its_values_over_and_matches_only_its_shape() {
        assert_eq!(
            capture("1 to {max} vials", "1 to 500 vials"),
            Some(vec![("max", "500".to_owned())])
        );
        assert_eq!(capture("1 to {max} vials", "1 to 500 vials!"), None);
        assert_eq!(capture("{min} to {max}", "1 to 20 visits"), None);
        assert_eq!(
            capture("before the enrolment", "long before the enrolment"),
            None
        );
        assert_eq!(
            capture(
                "one count for each vial not counted yet: {codes} (missing {missing})",
                "one count for each vial not counted yet: V1, V2 (missing V2)"
            ),
            Some(vec![
                ("codes", "V1, V2".to_owned()),
                ("missing", "V2".to_owned())
            ])
        );
    }

    #[test]
    fn free_text_is_said_in_chinese_with_its_values() {
        let zone = SiteZone::parse("Asia/Shanghai").unwrap();
        let said = invalid_field("vial_count", "1 to 500 vials", zone);
        assert!(said.contains("500") && said.contains("冻存管"), "{said}");
        let said = invalid_field(
            "vials",
            "one count for each vial not counted yet: V-1, V-2 (missing V-2)",
            zone,
        );
        assert!(said.contains("V-1、V-2") && said.contains("V-2"), "{said}");
        let said = invalid_field(
            "measured_at",
            "2026-11-26 01:30:00 UTC is in the future",
            zone,
        );
        assert!(said.contains("2026-11-26 09:30 +08:00"), "{said}");
        let said = invalid_field("vial", "a vial that is thawed gets no new labels", zone);
        assert!(said.contains("已复苏"), "{said}");
        let said = invalid_field("dose_cells_per_kg", "1 to 10000000000", zone);
        assert!(
            said.contains("10000000000") && !said.contains("dose_cells"),
            "{said}"
        );
        let said = invalid_field("", "was it typed in pounds? 154 lb would be 69.9 kg", zone);
        assert!(
            said.contains("154") && said.contains("69.9") && said.contains("磅"),
            "{said}"
        );
    }

    #[test]
    fn an_unknown_message_keeps_its_english_specifics_and_hides_the_field_name() {
        let said = invalid_field("value", "a new rule nobody translated", SiteZone::UTC);
        assert!(said.contains("（a new rule nobody translated）"), "{said}");
        assert!(said.contains("体重"), "{said}");
        let said = invalid_field("zzz_field", "something else", SiteZone::UTC);
        assert!(
            !said.contains("zzz_field") && said.contains("something else"),
            "{said}"
        );
        // a page's own words in Chinese pass as they are
        assert_eq!(
            invalid_field("status", "无法识别此状态。", SiteZone::UTC),
            "无法识别此状态。"
        );
    }

    #[test]
    fn every_key_of_the_table_is_in_the_catalogues() {
        let known = crate::i18n::keys(crate::domain::language::Language::ZhCn);
        let missing: Vec<&str> = TABLE
            .iter()
            .map(|(_, key)| *key)
            .filter(|key| !known.iter().any(|k| k == key))
            .collect();
        assert!(missing.is_empty(), "{missing:?}");
    }
}
