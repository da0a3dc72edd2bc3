use super::*;

const GOOD: &str = r#"version: 1
description: The month's costs, checked and stored.
params:
  month: { type: month, default: previous }
connections:
  lake: { kind: folder, path: ./lake }
  warehouse: { kind: postgres, url_env: MCMS_WAREHOUSE_URL }
steps:
  - name: store
    sink:
      files: { input: daily, connection: lake, path: "daily/month=${month}", format: parquet }
  - name: daily
    aggregate: { input: checked, group_by: [day, game], sum: [amount_krw], count: entries }
  - name: checked
    check: { input: ledger, row_count: { min: 1 }, not_null: [amount_krw] }
  - name: ledger
    source: { ledger: { month: "${month}" } }
  - name: big
    transform: { sql: "SELECT * FROM daily WHERE amount_krw > 1000000 -- from checked? no: daily" }
"#;

fn none() -> BTreeMap<String, String> {
    BTreeMap::new()
}

fn problems(text: &str) -> Vec<Problem> {
    check(text, &none()).expect_err("the file has problems")
}

fn names(checked: &Checked) -> Vec<&str> {
    checked.order.iter().map(|&i| checked.pipeline.steps[i].name.value.as_str()).collect()
}

#[test]
fn a_good_file_orders_its_steps_by_what_they_read_and_takes_parameter_defaults() {
    let checked = check(GOOD, &none()).unwrap();
    assert_eq!(names(&checked), ["ledger", "checked", "daily", "store", "big"]);
    assert_eq!(checked.params["month"], "previous");
    let given = BTreeMap::from([("month".to_owned(), "2026-11".to_owned())]);
    assert_eq!(check(GOOD, &given).unwrap().params["month"], "2026-11");
}

#[test]
fn json_is_the_same_schema_with_the_same_positions() {
    let json = r#"{
  "version": 1,
  "steps": [
    { "name": "ledger", "source": { "ledger": { "month": "2026-11" } } },
    { "name": "rows", "aggregate": { "input": "ledgr", "count": "entries" } }
  ]
}"#;
    let p = problems(json);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].kind, ProblemKind::UnknownStep("ledgr".into()));
    assert_eq!((p[0].line, p[0].column), (5, 47));
}

#[test]
fn a_misspelt_key_or_step_kind_is_named_on_its_line() {
    let p = problems(&GOOD.replace("group_by:", "groupby:"));
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].line, 13);
    assert!(matches!(&p[0].kind, ProblemKind::Syntax(m) if m.contains("groupby")), "{p:?}");

    let p = problems(&GOOD.replace("    aggregate:", "    agregate:"));
    assert_eq!(p[0].line, 13);
    assert!(matches!(&p[0].kind, ProblemKind::Syntax(m) if m.contains("agregate")), "{p:?}");

    // A source kind nobody knows.
    let p = problems(&GOOD.replace("{ ledger: { month", "{ ledgr: { month"));
    assert_eq!(p[0].line, 17);
    assert!(matches!(&p[0].kind, ProblemKind::Syntax(m) if m.contains("ledgr")), "{p:?}");

    // Not YAML at all.
    let p = problems("version: 1\nsteps: [\n");
    assert!(matches!(p[0].kind, ProblemKind::Syntax(_)));
    assert!(p[0].line >= 2, "{p:?}");
}

#[test]
fn references_to_missing_steps_and_connections_are_named_where_they_are() {
    let text = GOOD.replace("input: checked", "input: chekced").replace("connection: lake", "connection: lak");
    let p = problems(&text);
    assert_eq!(
        p.iter().map(|p| (p.line, p.kind.clone())).collect::<Vec<_>>(),
        [(11, ProblemKind::UnknownConnection("lak".into())), (13, ProblemKind::UnknownStep("chekced".into()))]
    );
    assert_eq!(p[1].column, 25);
}

#[test]
fn a_connection_of_the_wrong_kind_or_with_a_credential_in_the_file_is_refused() {
    let p = problems(&GOOD.replace("connection: lake", "connection: warehouse"));
    assert_eq!(
        p[0].kind,
        ProblemKind::WrongConnection { name: "warehouse".into(), kind: "postgres", needs: "a folder or an S3 bucket" }
    );
    // Credentials come from the environment only: a URL in the file is not a key this reads.
    let p = problems(&GOOD.replace("url_env: MCMS_WAREHOUSE_URL", "url: postgres://u:secret@db/x"));
    assert_eq!(p[0].line, 7);
    assert!(matches!(&p[0].kind, ProblemKind::Syntax(m) if m.contains("url")), "{p:?}");
}

#[test]
fn circles_are_found_also_through_sql() {
    let text = GOOD.replace("input: ledger, row_count", "input: big, row_count");
    let p = problems(&text);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].kind, ProblemKind::Cycle("daily → checked → big".into()));
    // A word inside a string literal or a comment is not a table.
    let text = GOOD.replace("FROM daily WHERE", "FROM ledger WHERE 'daily' <>");
    assert!(check(&text, &none()).is_ok());
}

#[test]
fn steps_need_one_kind_and_a_unique_plain_name_and_nothing_reads_a_sink() {
    let text = GOOD
        .replace("name: big", "name: Big-One")
        .replace("name: checked\n    check:", "name: checked\n    source: { ledger: { month: x } }\n    check:");
    let p = problems(&text);
    assert!(p.iter().any(|p| p.kind == ProblemKind::StepName("Big-One".into())), "{p:?}");
    assert!(p.iter().any(|p| p.kind == ProblemKind::SeveralKinds("checked".into())), "{p:?}");

    let text = GOOD.replace("name: daily", "name: store");
    assert!(problems(&text).iter().any(|p| p.kind == ProblemKind::DuplicateStep("store".into())));

    let text = format!("{GOOD}  - name: idle\n");
    assert_eq!(problems(&text)[0].kind, ProblemKind::NoKind("idle".into()));

    let text = GOOD.replace("FROM daily", "FROM store");
    assert_eq!(problems(&text)[0].kind, ProblemKind::ReadsSink("store".into()));
}

#[test]
fn parameters_must_be_declared_and_have_a_value_of_their_type() {
    let p = problems(&GOOD.replace("month=${month}", "month=${mnth}"));
    assert_eq!((p[0].line, p[0].kind.clone()), (11, ProblemKind::UnknownParam("mnth".into())));

    let no_default = GOOD.replace("{ type: month, default: previous }", "{ type: month }");
    assert_eq!(problems(&no_default)[0].kind, ProblemKind::MissingParam("month".into()));
    let given = BTreeMap::from([("month".to_owned(), "2026-13".to_owned())]);
    let p = check(&no_default, &given).unwrap_err();
    assert!(matches!(&p[0].kind, ProblemKind::BadParam { name, .. } if name == "month"), "{p:?}");
    let given = BTreeMap::from([("mnth".to_owned(), "2026-11".to_owned())]);
    assert!(check(GOOD, &given).unwrap_err().iter().any(|p| p.kind == ProblemKind::UnknownParam("mnth".into())));

    let p = problems(&GOOD.replace("default: previous", "default: last"));
    assert_eq!(p[0].line, 4);
}

#[test]
fn pipeline_names_are_plain_and_new_is_the_page_that_makes_one() {
    for good in ["month-batch", "a", "agency-csv-2"] {
        assert!(is_pipeline_name(good), "{good}");
    }
    for bad in ["new", "Month", "9lives", "with_underscore", "", "a/b", &"x".repeat(64)] {
        assert!(!is_pipeline_name(bad), "{bad}");
    }
}

#[test]
fn a_draft_is_checked_with_stand_ins_for_parameters_without_a_default() {
    let no_default = GOOD.replace("{ type: month, default: previous }", "{ type: month }");
    let checked = check_draft(&no_default).expect("the run gives the month; the rest is fine");
    assert_eq!(checked.params["month"], "current");
    // Everything else is still found, and a file that does not parse is named as such.
    let p = check_draft(&no_default.replace("input: ledger", "input: ledgr")).unwrap_err();
    assert_eq!(p[0].kind, ProblemKind::UnknownStep("ledgr".into()));
    assert_eq!(check_draft("version: [").unwrap_err()[0].kind.code(), "pipeline.syntax");
}

#[test]
fn the_version_and_the_size_are_checked() {
    assert_eq!(problems(&GOOD.replace("version: 1", "version: 2"))[0].kind, ProblemKind::Version(2));
    let huge = format!("{GOOD}#{}\n", "x".repeat(MAX_FILE_BYTES));
    assert_eq!(problems(&huge)[0].kind, ProblemKind::TooLarge);
}

#[test]
fn the_json_schema_comes_from_the_same_types_and_refuses_unknown_keys() {
    let schema = serde_json::to_value(crate::pipeline::json_schema()).unwrap();
    assert_eq!(schema["title"], "MCMS pipeline, version 1");
    assert_eq!(schema["additionalProperties"], false);
    let step = &schema["$defs"]["Step"];
    assert_eq!(step["additionalProperties"], false);
    let kinds: Vec<&str> = step["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(kinds, ["aggregate", "check", "clean", "name", "predict", "sink", "source", "transform"]);
    assert_eq!(step["required"], serde_json::json!(["name"]));
    // Located values are plain values in the schema.
    assert_eq!(schema["properties"]["version"]["type"], "integer");
    // Connections are told apart by `kind`, and none has a field for a secret itself.
    let text = schema["$defs"]["Connection"].to_string();
    assert!(text.contains("url_env") && !text.contains("\"url\""), "{text}");
}

#[test]
fn table_sinks_need_a_table_name_keys_for_their_mode_and_not_redshift() {
    let text = r#"version: 1
connections:
  db: { kind: sqlite, path: out.db }
  rs: { kind: redshift, url_env: RS_URL }
steps:
  - name: rows
    source: { database: { connection: db, table: "main.costs; drop" } }
  - name: replace
    sink: { table: { input: rows, connection: db, table: daily, mode: replace_partition } }
  - name: upsert
    sink: { table: { input: rows, connection: db, table: daily, mode: upsert, keys: [day] } }
  - name: to_redshift
    sink: { table: { input: rows, connection: rs, table: a.b.c } }
"#;
    let p = problems(text);
    let kinds: Vec<(u64, &str)> = p.iter().map(|p| (p.line, p.kind.code())).collect();
    assert_eq!(
        kinds,
        [
            (7, "pipeline.table_name"),
            (9, "pipeline.needs_keys"),
            (13, "pipeline.wrong_connection"),
            (13, "pipeline.table_name"),
        ]
    );
    assert_eq!(p[1].kind, ProblemKind::NeedsKeys("replace_partition", "the partition this run replaces"));
}

#[test]
fn a_date_may_default_to_some_days_ago() {
    let text = |default: &str| {
        format!(
            "version: 1\nparams:\n  from: {{ type: date, default: {default} }}\nsteps:\n  - name: s\n    source: {{ partner_stats: {{ from: \"${{from}}\", to: \"2026-12-01\" }} }}\n"
        )
    };
    assert_eq!(check(&text("84 days ago"), &none()).unwrap().params["from"], "84 days ago");
    for wrong in ["84 days", "-1 days ago", "99999 days ago"] {
        let p = problems(&text(wrong));
        assert_eq!(p[0].kind.code(), "pipeline.bad_param", "{wrong}");
    }
    assert_eq!(days_ago("3660 days ago"), Some(3660));
}
