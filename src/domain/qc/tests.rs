use super::*;

fn judge(test: &str, value: &str, unit: Option<&str>) -> Result<bool, QcInputError> {
    Specification::seed()
        .judge(test, value, unit)
        .map(|j| j.pass)
}

#[test]
fn decimals_parse_exactly() {
    assert_eq!(Decimal::parse("0.5"), Decimal::parse("0.500000000"));
    assert!(Decimal::parse("0.49").unwrap() < Decimal::parse("0.5").unwrap());
    assert_eq!(Decimal::parse("95").unwrap().to_string(), "95");
    assert_eq!(Decimal::parse("94.990").unwrap().to_string(), "94.99");
    for bad in [
        "",
        ".5",
        "5.",
        "-1",
        "1e3",
        "0.12345678912345678912345678912345678912345",
        "1,5",
        " 1",
        "NaN",
    ] {
        assert_eq!(Decimal::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn limits_are_judged_at_their_edges() {
    assert_eq!(judge("cd73", "95", Some("%")), Ok(true));
    assert_eq!(judge("cd73", "94.999999999", Some("%")), Ok(false));
    assert_eq!(judge("cd45", "2", Some("%")), Ok(true));
    assert_eq!(judge("cd45", "2.000000001", Some("%")), Ok(false));
    assert_eq!(judge("endotoxin", "0.499", Some("EU/mL")), Ok(true));
    assert_eq!(judge("endotoxin", "0.5", Some("EU/mL")), Ok(false));
    assert_eq!(judge("viability", "80", Some("%")), Ok(true));
    assert_eq!(judge("viability", "79.9", Some("%")), Ok(false));
    assert_eq!(judge("sterility", "Negative", None), Ok(true));
    assert_eq!(judge("mycoplasma", "positive", None), Ok(false));
    assert_eq!(judge("sterility", "indeterminate", None), Ok(false));
}

#[test]
fn what_cannot_be_judged_is_refused() {
    assert!(matches!(
        judge("cd200", "1", Some("%")),
        Err(QcInputError::UnknownTest { .. })
    ));
    assert!(matches!(
        judge("endotoxin", "0.1", Some("%")),
        Err(QcInputError::UnitMismatch { .. })
    ));
    assert!(matches!(
        judge("cd73", "96", None),
        Err(QcInputError::UnitMismatch { .. })
    ));
    assert!(matches!(
        judge("sterility", "negative", Some("%")),
        Err(QcInputError::UnitMismatch { .. })
    ));
    assert!(matches!(
        judge("sterility", "clean", None),
        Err(QcInputError::InvalidValue { .. })
    ));
    assert!(matches!(
        judge("cd73", "ninety", Some("%")),
        Err(QcInputError::InvalidValue { .. })
    ));
    assert!(matches!(
        judge("cd73", "101", Some("%")),
        Err(QcInputError::InvalidValue { .. })
    ));
    // units compare without regard to case
    assert_eq!(judge("endotoxin", "0.1", Some("eu/ml")), Ok(true));
}

#[test]
fn limits_parse_as_people_write_them() {
    let d = |s| Decimal::parse(s).unwrap();
    assert_eq!(Limit::parse("negative"), Some(Limit::Negative));
    assert_eq!(Limit::parse("< 0.5"), Some(Limit::LessThan(d("0.5"))));
    assert_eq!(Limit::parse("≥95"), Some(Limit::AtLeast(d("95"))));
    assert_eq!(Limit::parse(">= 95"), Some(Limit::AtLeast(d("95"))));
    assert_eq!(Limit::parse("<= 2"), Some(Limit::AtMost(d("2"))));
    assert_eq!(Limit::parse("≤ 2"), Some(Limit::AtMost(d("2"))));
    for bad in ["", "> 5", "= 3", "about 4", "< -1"] {
        assert_eq!(Limit::parse(bad), None, "{bad:?}");
    }
    // every seed limit prints back as it parses
    for test in Specification::seed().tests {
        assert_eq!(Limit::parse(&test.limit.to_string()), Some(test.limit));
    }
}

#[test]
fn a_protocol_specification_is_checked() {
    let mut entries = Specification::seed_entries();
    entries.push(entries[0].clone());
    assert!(
        Specification::from_entries(&entries)
            .unwrap_err()
            .contains("twice")
    );
    let bad_unit = vec![SpecEntry {
        test: "cd73".into(),
        limit: "≥ 95".into(),
        unit: None,
    }];
    assert!(Specification::from_entries(&bad_unit).is_err());
    assert!(Specification::from_entries(&[]).is_err());
}

fn fact(test: &str, pass: bool) -> ResultFact<'_> {
    ResultFact {
        test,
        pass,
        investigation: None,
    }
}

fn all_passing(spec: &Specification) -> Vec<ResultFact<'_>> {
    spec.tests.iter().map(|t| fact(&t.test, true)).collect()
}

#[test]
fn standing_lists_missing_and_failed_tests() {
    let spec = Specification::seed();
    assert!(standing(&spec, &all_passing(&spec)).passes());
    let mut some: Vec<_> = all_passing(&spec)
        .into_iter()
        .filter(|r| r.test != "cd19")
        .collect();
    some.push(fact("cd73", false));
    let s = standing(&spec, &some);
    assert_eq!(s.failed, ["cd73"]);
    assert_eq!(s.missing, ["cd19"]);
    assert!(!s.passes());
    // a numeric retest supersedes
    some.push(fact("cd73", true));
    assert_eq!(standing(&spec, &some).failed, Vec::<String>::new());
}

#[test]
fn a_positive_sterility_result_needs_an_investigation_before_a_retest_counts() {
    let spec = Specification::seed();
    let mut results = all_passing(&spec);
    results.push(fact("sterility", false));
    results.push(fact("sterility", true));
    let s = standing(&spec, &results);
    assert_eq!(s.failed, ["sterility"]);
    assert_eq!(s.investigation_required, ["sterility"]);
    // quality finds the test invalid: the negative retest counts
    let n = results.len();
    results[n - 2].investigation = Some(Conclusion::InvalidTest);
    let s = standing(&spec, &results);
    assert!(s.passes(), "{s:?}");
    // a confirmed positive fails for good
    results[n - 2].investigation = Some(Conclusion::Confirmed);
    let s = standing(&spec, &results);
    assert_eq!(s.failed, ["sterility"]);
    assert!(s.investigation_required.is_empty());
    // an invalid test with no retest leaves the test without a result
    let mut only: Vec<_> = all_passing(&spec)
        .into_iter()
        .filter(|r| r.test != "mycoplasma")
        .collect();
    only.push(ResultFact {
        test: "mycoplasma",
        pass: false,
        investigation: Some(Conclusion::InvalidTest),
    });
    assert_eq!(standing(&spec, &only).missing, ["mycoplasma"]);
}

#[test]
fn values_below_a_detection_limit_are_judged_against_the_limit() {
    // endotoxin < 0.5 EU/mL: "<0.25" is below 0.5 whatever it is
    assert_eq!(judge("endotoxin", "<0.25", Some("EU/mL")), Ok(true));
    assert_eq!(judge("endotoxin", "< 0.5", Some("EU/mL")), Ok(true));
    // "<1" could be 0.4 or 0.9: it cannot be judged
    assert!(matches!(
        judge("endotoxin", "<1", Some("EU/mL")),
        Err(QcInputError::InvalidValue { .. })
    ));
    // CD34 ≤ 2 %: "<0.1" passes; CD73 ≥ 95 %: "<0.1" fails
    assert_eq!(judge("cd34", "<0.1", Some("%")), Ok(true));
    assert_eq!(judge("cd73", "<0.1", Some("%")), Ok(false));
    let judged = Specification::seed()
        .judge("endotoxin", " < 0.250 ", Some("EU/mL"))
        .unwrap();
    assert_eq!(judged.value, "<0.250");
    // exact decimals at their edges, however many places
    assert_eq!(judge("cd73", "94.99999999", Some("%")), Ok(false));
    assert_eq!(judge("cd73", "94.99999999999999999", Some("%")), Ok(false));
    assert_eq!(judge("cd73", "95.00000000000000000", Some("%")), Ok(true));
    assert_eq!(judge("cd45", "2.00000000000000001", Some("%")), Ok(false));
    assert_eq!(judge("cd45", "1.99999999999999999", Some("%")), Ok(true));
    assert_eq!(
        judge("endotoxin", "0.49999999999999999", Some("EU/mL")),
        Ok(true)
    );
    assert!(matches!(
        judge("cd73", ">99", Some("%")),
        Err(QcInputError::InvalidValue { .. })
    ));
}
