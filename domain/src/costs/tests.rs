//! One table row per rule: what triggers it, and that its code, severity, field and details (the
//! values its message names, in app::i18n) are what the catalogue promises.

use super::*;
use proptest::prelude::*;
use time::macros::date;

fn code(active: bool) -> Code {
    Code { active }
}

fn reference() -> Reference {
    let mut r = Reference::new(date!(2026 - 11 - 20), Currency::KRW);
    r.closed_months.insert((2026, Month::September));
    r.games.extend([("LINEAGE".into(), code(true)), ("OLDGAME".into(), code(false))]);
    r.channels.extend([("GADS".into(), code(true)), ("META".into(), code(true)), ("OLDNET".into(), code(false))]);
    r.countries.extend([("KR".into(), code(true)), ("US".into(), code(true)), ("RU".into(), code(false))]);
    r.vendors.extend([("AGENCY1".into(), code(true)), ("GONE".into(), code(false))]);
    for (c, active) in [("KRW", true), ("USD", true), ("KWD", true), ("EUR", true), ("GBP", false)] {
        r.currencies.insert(Currency::from_code(c).unwrap(), code(active));
    }
    r.cost_types.extend([
        ("CPI".into(), CostTypeInfo { active: true, unit_priced: true, per_mille_band: Some((500_000, 20_000_000)) }),
        ("FLAT".into(), CostTypeInfo { active: true, unit_priced: false, per_mille_band: None }),
        ("CPX".into(), CostTypeInfo { active: false, unit_priced: false, per_mille_band: None }),
    ]);
    let campaign = |game: &str, channel: &str, active| CampaignInfo {
        game: game.into(),
        channel: channel.into(),
        flight_start: date!(2026 - 10 - 10),
        flight_end: date!(2026 - 11 - 30),
        active,
    };
    r.campaigns.extend([
        ("WINTER".into(), campaign("LINEAGE", "GADS", true)),
        ("METAFALL".into(), campaign("LINEAGE", "META", true)),
        ("ENDED".into(), campaign("LINEAGE", "GADS", false)),
    ]);
    r.campaigns.get_mut("METAFALL").unwrap().flight_start = date!(2026 - 09 - 01);
    let usd = Currency::USD;
    r.fx.insert(
        usd,
        vec![
            FxRate { date: date!(2026 - 11 - 01), micros: 1_380_000_000 },
            FxRate { date: date!(2026 - 11 - 10), micros: 1_400_000_000 },
        ],
    );
    r.fx.insert(
        Currency::from_code("KWD").unwrap(),
        vec![FxRate { date: date!(2026 - 10 - 01), micros: 4_500_000_000 }],
    );
    r.natural_keys.insert(natural_key(date!(2026 - 11 - 02), "GADS", "WINTER", "KR", "CPI", Currency::KRW), 41);
    r.invoices.insert(invoice_key("AGENCY1", "INV-0042"), 42);
    r.entries.extend([41, 42]);
    r.budgets
        .entry("WINTER".into())
        .or_default()
        .insert((2026, Month::November), BudgetMonth { budget: 10_000_000, spent: 9_000_000 });
    r
}

fn valid() -> CostForm {
    CostForm {
        date: "2026-11-12".into(),
        game: "LINEAGE".into(),
        channel: "GADS".into(),
        campaign: "WINTER".into(),
        country: "kr".into(),
        vendor: "AGENCY1".into(),
        cost_type: "CPI".into(),
        currency: "KRW".into(),
        amount: "120,000".into(),
        units: "60".into(),
        invoice_number: "INV-0100".into(),
        memo: String::new(),
        vat_included: false,
        corrects: None,
        editing: None,
    }
}

#[test]
fn a_valid_entry_passes_and_carries_its_reporting_amount() {
    let report = validate(&valid(), &reference());
    assert_eq!(report.codes(), Vec::<&str>::new());
    let entry = report.entry.unwrap();
    assert_eq!(
        (entry.amount, entry.reporting_minor, entry.country.as_str()),
        (Money::new(120_000, Currency::KRW), 120_000, "KR")
    );
    assert_eq!(entry.fx_micros, None, "no rate for the reporting currency itself");

    let usd = CostForm { currency: "USD".into(), amount: "85.50".into(), ..valid() };
    let entry = validate(&usd, &reference()).entry.unwrap();
    assert_eq!(entry.amount.minor, 8_550);
    assert_eq!(entry.reporting_minor, 119_700, "85.50 USD at 1,400 KRW on 11-10, the newest rate on or before 11-12");
    assert_eq!((entry.fx_micros, entry.fx_date), (Some(1_400_000_000), Some(date!(2026 - 11 - 10))));
}

/// (rule, change to the valid form, details expected in the finding)
type Case = (Rule, Box<dyn Fn(&mut CostForm)>, Vec<&'static str>);

fn cases() -> Vec<Case> {
    vec![
        (Rule::DateMissing, Box::new(|f| f.date = " ".into()), vec![]),
        (Rule::DateInvalid, Box::new(|f| f.date = "2026-13-01".into()), vec!["\"2026-13-01\""]),
        (Rule::MemoFormula, Box::new(|f| f.memo = "=1+2".into()), vec!["\"=1+2\""]),
        (Rule::InvoiceFormula, Box::new(|f| f.invoice_number = "+cmd|calc".into()), vec!["\"+cmd|calc\""]),
        (
            Rule::DateOutOfRange,
            Box::new(|f| f.date = "9999-12-31".into()),
            vec!["9999-12-31", "2000-01-01", "2099-12-31"],
        ),
        (Rule::DateInFuture, Box::new(|f| f.date = "2026-11-21".into()), vec!["2026-11-21"]),
        (
            Rule::PeriodClosed,
            Box::new(|f| {
                f.date = "2026-09-30".into();
                f.campaign = "METAFALL".into();
                f.channel = "META".into();
            }),
            vec!["2026-09"],
        ),
        (Rule::GameUnknown, Box::new(|f| f.game = "NOPE".into()), vec!["\"NOPE\""]),
        (Rule::GameInactive, Box::new(|f| f.game = "OLDGAME".into()), vec!["OLDGAME"]),
        (Rule::ChannelUnknown, Box::new(|f| f.channel = String::new()), vec!["(empty)"]),
        (Rule::ChannelInactive, Box::new(|f| f.channel = "OLDNET".into()), vec!["OLDNET"]),
        (Rule::CampaignUnknown, Box::new(|f| f.campaign = "SPRING".into()), vec!["\"SPRING\""]),
        (Rule::CampaignInactive, Box::new(|f| f.campaign = "ENDED".into()), vec!["ENDED"]),
        (Rule::CampaignMismatch, Box::new(|f| f.campaign = "METAFALL".into()), vec!["METAFALL", "LINEAGE / META"]),
        (
            Rule::OutsideFlight,
            Box::new(|f| f.date = "2026-10-06".into()),
            vec!["2026-10-06", "2026-10-10 – 2026-11-30"],
        ),
        (Rule::CountryUnknown, Box::new(|f| f.country = "XX".into()), vec!["\"XX\""]),
        (Rule::CountryInactive, Box::new(|f| f.country = "ru".into()), vec!["RU"]),
        (Rule::VendorUnknown, Box::new(|f| f.vendor = "WHO".into()), vec!["\"WHO\""]),
        (Rule::VendorInactive, Box::new(|f| f.vendor = "GONE".into()), vec!["GONE"]),
        (Rule::CostTypeUnknown, Box::new(|f| f.cost_type = "CPZ".into()), vec!["\"CPZ\""]),
        (Rule::CostTypeInactive, Box::new(|f| f.cost_type = "CPX".into()), vec!["CPX"]),
        (Rule::CurrencyUnknown, Box::new(|f| f.currency = "WON".into()), vec!["\"WON\""]),
        (Rule::CurrencyInactive, Box::new(|f| f.currency = "GBP".into()), vec!["GBP"]),
        (Rule::AmountMissing, Box::new(|f| f.amount = String::new()), vec![]),
        (Rule::AmountMalformed, Box::new(|f| f.amount = "12O".into()), vec!["\"12O\""]),
        (Rule::AmountGrouping, Box::new(|f| f.amount = "12,00".into()), vec!["12,00"]),
        (Rule::AmountPrecision, Box::new(|f| f.amount = "1200.5".into()), vec!["KRW", "0", "1200.5"]),
        (Rule::AmountTooLarge, Box::new(|f| f.amount = "99999999999999999999".into()), vec!["99999999999999999999"]),
        (Rule::AmountNotPositive, Box::new(|f| f.amount = "-5000".into()), vec![]),
        (
            Rule::CorrectedEntryUnknown,
            Box::new(|f| {
                f.amount = "-5000".into();
                f.corrects = Some(7);
            }),
            vec!["7"],
        ),
        (
            Rule::NoFxRate,
            Box::new(|f| {
                f.currency = "EUR".into();
                f.amount = "10".into();
            }),
            vec!["EUR", "KRW", "7", "2026-11-12"],
        ),
        (Rule::UnitsMissing, Box::new(|f| f.units = String::new()), vec!["CPI"]),
        (Rule::UnitsInvalid, Box::new(|f| f.units = "2.5".into()), vec!["\"2.5\""]),
        (
            Rule::UnitCostImplausible,
            Box::new(|f| f.units = "1".into()),
            vec!["120,000,000 KRW / 1,000", "500,000", "20,000,000"],
        ),
        (Rule::DuplicateNaturalKey, Box::new(|f| f.date = "2026-11-02".into()), vec!["#41"]),
        (Rule::DuplicateInvoice, Box::new(|f| f.invoice_number = " inv 0042 ".into()), vec!["inv 0042", "#42"]),
        (
            Rule::BudgetOverrun,
            Box::new(|f| {
                f.amount = "1,200,000".into();
                f.units = "600".into();
            }),
            vec!["2026-11", "10,200,000 KRW", "10,000,000 KRW"],
        ),
    ]
}

#[test]
fn every_rule_fires_alone_with_its_code_severity_field_and_details() {
    let r = reference();
    let cases = cases();
    for (rule, change, details) in &cases {
        let mut form = valid();
        change(&mut form);
        let report = validate(&form, &r);
        assert_eq!(report.codes(), vec![rule.code()], "{rule:?}");
        let finding = &report.findings[0];
        assert_eq!(finding.details, *details, "{rule:?}");
        assert_eq!(
            report.entry.is_some(),
            rule.severity() == Severity::Warning,
            "{rule:?}: only warnings keep the entry"
        );
        assert_eq!(Rule::from_code(rule.code()), Some(*rule));
    }
    let covered: HashSet<Rule> = cases.iter().map(|(rule, _, _)| *rule).collect();
    let missing: Vec<_> = Rule::ALL.iter().filter(|r| !covered.contains(r)).collect();
    assert!(missing.is_empty(), "rules without a case: {missing:?}");
}

#[test]
fn the_catalogue_is_what_it_says() {
    let codes: HashSet<_> = Rule::ALL.iter().map(|r| r.code()).collect();
    assert_eq!(codes.len(), Rule::ALL.len(), "codes are unique");
    let warnings: Vec<_> = Rule::ALL.iter().filter(|r| r.severity() == Severity::Warning).map(|r| r.code()).collect();
    assert_eq!(warnings, ["unit_cost.implausible", "budget.overrun"]);
    assert_eq!(Rule::AmountPrecision.field(), Field::Amount);
    assert_eq!(Rule::DuplicateInvoice.field(), Field::InvoiceNumber);
}

#[test]
fn optional_ids_read_from_json_and_from_forms() {
    let json: CostForm = serde_json::from_str(r#"{"corrects": 41, "editing": null}"#).unwrap();
    assert_eq!((json.corrects, json.editing), (Some(41), None));
    let text: CostForm = serde_json::from_str(r#"{"corrects": " 7 ", "editing": ""}"#).unwrap();
    assert_eq!((text.corrects, text.editing), (Some(7), None));
    let err = serde_json::from_str::<CostForm>(r#"{"corrects": "seven"}"#).unwrap_err();
    assert!(err.to_string().contains("\"seven\" is not an entry number"), "{err}");
}

#[test]
fn dates_are_read_strictly() {
    assert_eq!(parse_date("2026-02-28"), Some(date!(2026 - 02 - 28)));
    for bad in ["2026-02-29", "2026-2-28", "26-02-28", "2026/02/28", "2026-02-28 ", "２０２６-02-28", "", "0000-00-00"]
    {
        assert_eq!(parse_date(bad), None, "{bad:?}");
    }
}

#[test]
fn warnings_need_acknowledgement_and_errors_block() {
    let r = reference();
    let over = CostForm { amount: "1,200,000".into(), units: "600".into(), ..valid() };
    let report = validate(&over, &r);
    assert!(!report.can_save(&[]));
    assert!(report.can_save(&["budget.overrun".into()]));
    let bad = CostForm { amount: "1200.5".into(), ..valid() };
    assert!(!validate(&bad, &r).can_save(&["amount.precision".into()]), "errors cannot be acknowledged away");
}

#[test]
fn a_stored_entry_checks_again_as_it_was_entered() {
    let r = reference();
    let entry = validate(&valid(), &r).entry.unwrap();
    let again = entry.to_form(Some(41));
    assert_eq!(again.amount, "120,000");
    assert_eq!(again.country, "KR");
    assert_eq!(validate(&again, &r).entry, Some(entry), "the same entry comes out");
}

#[test]
fn corrections_and_edits() {
    let r = reference();
    let credit = CostForm { amount: "-5,000".into(), corrects: Some(41), ..valid() };
    assert_eq!(validate(&credit, &r).codes(), Vec::<&str>::new(), "a credit naming its entry is fine");
    let edit = CostForm { date: "2026-11-02".into(), editing: Some(41), ..valid() };
    assert_eq!(validate(&edit, &r).codes(), Vec::<&str>::new(), "an entry is no duplicate of itself");
}

#[test]
fn rates_are_used_only_while_fresh_and_never_invented() {
    let r = reference();
    let kwd = Currency::from_code("KWD").unwrap();
    assert_eq!(r.to_reporting(1_000, kwd, date!(2026 - 10 - 08)).map(|x| x.0), Some(4_500), "1.000 KWD at 4,500 KRW");
    assert_eq!(r.to_reporting(1_000, kwd, date!(2026 - 10 - 09)), None, "8 days old is too old");
    assert_eq!(r.to_reporting(1_000, Currency::USD, date!(2026 - 10 - 31)), None, "no rate before the date");
    assert_eq!(
        r.to_reporting(-1, Currency::USD, date!(2026 - 11 - 10)).map(|x| x.0),
        Some(-14),
        "0.01 USD = 14 KRW, rounded half away from zero"
    );
}

proptest! {
    #[test]
    fn any_form_gets_a_report_never_a_panic(
        date in "\\PC{0,12}", amount in "\\PC{0,16}", units in "\\PC{0,8}", currency in "[A-Z]{0,4}",
        corrects in proptest::option::of(any::<i64>()),
    ) {
        let form = CostForm { date, amount, units, currency, corrects, ..valid() };
        let report = validate(&form, &reference());
        prop_assert_eq!(report.entry.is_some(), report.errors().next().is_none());
    }
}

#[test]
fn codes_are_normalised_or_refused() {
    assert_eq!(parse_code(" google_ads ", false), Ok("GOOGLE_ADS".into()));
    assert_eq!(parse_code("kr", true), Ok("KR".into()));
    for bad in ["", "has space", "dash-ed", &"X".repeat(33), "한글"] {
        assert_eq!(parse_code(bad, false), Err("code.invalid"), "{bad}");
    }
    for bad in ["KOR", "K1", "", "XX", "AA"] {
        assert_eq!(parse_code(bad, true), Err("code.country"), "{bad}");
    }
}

#[test]
fn the_ends_of_the_calendar_and_of_the_integers_are_refused_not_panicked_on() {
    assert_eq!(parse_date("2099-12-31"), Some(LAST_DATE));
    assert_eq!(parse_date("2000-01-01"), Some(FIRST_DATE));
    for outside in ["9999-12-31", "2100-01-01", "1999-12-31", "0000-01-01"] {
        assert_eq!(parse_date(outside), None, "{outside}");
        assert_eq!(parse_date_checked(outside), Err(DateProblem::OutOfRange), "{outside}");
    }
    assert_eq!(parse_date_checked("2026-02-30"), Err(DateProblem::Invalid));

    // A campaign whose flight runs to the last day MCMS keeps: the grace days after it are no panic.
    let mut r = reference();
    r.today = LAST_DATE;
    let forever = r.campaigns.get_mut("WINTER").unwrap();
    forever.flight_end = LAST_DATE;
    let late = CostForm { date: "2099-12-31".into(), units: String::new(), cost_type: "FLAT".into(), ..valid() };
    assert_eq!(validate(&late, &r).codes(), Vec::<&str>::new());
    r.today = date!(2026 - 11 - 20);

    // 100 billion USD is the most one entry may say; at 1,400 KRW it is beyond the bound in KRW.
    let huge = CostForm { currency: "USD".into(), amount: "100,000,000,000".into(), ..valid() };
    let report = validate(&huge, &reference());
    assert!(report.codes().contains(&"amount.too_large"), "{:?}", report.codes());
    assert!(report.entry.is_none());
    let over = CostForm { amount: "9223372036854775807".into(), ..valid() };
    assert_eq!(validate(&over, &reference()).codes(), vec!["amount.too_large"]);
}
