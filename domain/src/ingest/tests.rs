use super::infer::{CsvOptions, FileSample, Observed, classify, merge, sample_csv, sample_jsonl, summary};
use super::statements::{OnError, Target, TargetError, ident, redshift_type, statements, varchar_bytes};
use super::*;

fn csv(name: &str, text: &str) -> (FileSample, Format) {
    sample_csv(summary(name, text.len() as u64), text.as_bytes(), false, CsvOptions::default())
}

fn infer_csv(files: &[(&str, &str)]) -> Inferred {
    let mut format = None;
    let samples = files
        .iter()
        .map(|(name, text)| {
            let (sample, f) = csv(name, text);
            format.get_or_insert(f);
            sample
        })
        .collect();
    merge(format.unwrap(), samples)
}

fn column<'a>(inferred: &'a Inferred, name: &str) -> &'a Column {
    inferred.columns.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn values_are_classified_as_a_load_would_read_them() {
    for (value, ty) in [
        ("42", ColumnType::Integer),
        ("-7", ColumnType::Integer),
        ("0", ColumnType::Integer),
        ("007", ColumnType::Text),
        ("20.9", ColumnType::Decimal),
        ("-0.5", ColumnType::Decimal),
        ("1e6", ColumnType::Float),
        ("2.5E-3", ColumnType::Float),
        ("99999999999999999999", ColumnType::Decimal),
        ("TRUE", ColumnType::Boolean),
        ("false", ColumnType::Boolean),
        ("2026-12-05", ColumnType::Date),
        ("2026-02-30", ColumnType::Text),
        ("2026-12-05 09:30:00", ColumnType::Timestamp),
        ("2026-12-05T09:30:00.123456", ColumnType::Timestamp),
        ("2026-12-05T09:30:00Z", ColumnType::TimestampTz),
        ("2026-12-05T09:30:00+09:00", ColumnType::TimestampTz),
        ("2026-12-05T25:30:00", ColumnType::Text),
        ("1.2.3", ColumnType::Text),
        ("-", ColumnType::Text),
        ("서울", ColumnType::Text),
    ] {
        assert_eq!(classify(value), ty, "{value}");
    }
}

#[test]
fn types_widen_within_numbers_and_times_and_otherwise_become_text() {
    use ColumnType::*;
    assert_eq!(Integer.join(Decimal), Decimal);
    assert_eq!(Decimal.join(Float), Float);
    assert_eq!(Date.join(Timestamp), Timestamp);
    assert_eq!(Timestamp.join(TimestampTz), TimestampTz);
    assert_eq!(Integer.join(Date), Text);
    assert_eq!(Boolean.join(Integer), Text);
    assert!(Integer.fits(Float) && !Float.fits(Integer));
}

#[test]
fn a_csv_sample_gives_types_nullability_lengths_and_ranges() {
    let inferred = infer_csv(&[(
        "players.csv",
        "player_id,level,spend,joined,last_seen,vip,note\n\
         007,12,1000.50,2026-01-02,2026-12-01 10:00:00,true,\n\
         008,200,20.5,2026-03-04,2026-12-02 11:30:00,false,서울 유저\n\
         009,,3,2026-05-06,2026-12-03 12:45:10,false,x\n",
    )]);
    assert!(inferred.problems.is_empty(), "{:?}", inferred.problems);
    assert_eq!(inferred.format, Format::Csv { delimiter: ',', header: true, encoding: Encoding::Utf8 });
    let id = column(&inferred, "player_id");
    assert_eq!((id.ty, id.nullable, id.max_bytes), (ColumnType::Text, false, Some(3)));
    let level = column(&inferred, "level");
    assert_eq!((level.ty, level.nullable, level.range), (ColumnType::Integer, true, Some((12, 200))));
    let spend = column(&inferred, "spend");
    assert_eq!((spend.ty, spend.precision, spend.scale), (ColumnType::Decimal, 6, 2));
    // What a sample saw is not all there is: declared types get room to grow.
    assert_eq!(spend.decimal(), (18, 2));
    assert_eq!(level.integer_range(), Some((0, 20_000)));
    assert_eq!(redshift_type(level), "SMALLINT");
    let declared = Column { range: Some((12, 200)), ..Column::typed("n", ColumnType::Integer, false) };
    assert_eq!(declared.integer_range(), Some((12, 200)), "a file's declared range is exact");
    assert_eq!(column(&inferred, "joined").ty, ColumnType::Date);
    assert_eq!(column(&inferred, "last_seen").ty, ColumnType::Timestamp);
    assert_eq!(column(&inferred, "vip").ty, ColumnType::Boolean);
    let note = column(&inferred, "note");
    assert_eq!((note.ty, note.nullable, note.max_bytes), (ColumnType::Text, true, Some("서울 유저".len())));
    assert_eq!(inferred.files[0].rows, 3);
}

#[test]
fn a_few_values_that_do_not_fit_are_named_with_file_and_row_and_do_not_turn_the_column_into_text() {
    let mut text = String::from("id,amount\n");
    for i in 0..40 {
        text.push_str(&format!("{i},{}\n", if i == 17 { "N/A".to_owned() } else { (i * 10).to_string() }));
    }
    let inferred = infer_csv(&[("costs.csv", &text)]);
    assert_eq!(column(&inferred, "amount").ty, ColumnType::Integer);
    assert_eq!(
        inferred.problems,
        [Problem::DoesNotFit {
            file: "costs.csv".into(),
            row: 19,
            column: "amount".into(),
            value: "N/A".into(),
            ty: ColumnType::Integer
        }]
    );
    assert_eq!(inferred.problems[0].to_string(), "costs.csv row 19: amount \"N/A\" is not a integer");
    // Half text, half numbers: text, nothing to report.
    let mixed = infer_csv(&[("m.csv", "v\n1\na\n2\nb\n")]);
    assert_eq!(column(&mixed, "v").ty, ColumnType::Text);
    assert!(mixed.problems.is_empty());
}

#[test]
fn files_that_disagree_name_the_missing_column_and_the_types() {
    let inferred = infer_csv(&[
        ("a.csv", "id,country,score\n1,KR,10\n2,JP,20\n"),
        ("b.csv", "id,score\n3,30\n"),
        ("c.csv", "id,country,score\n4,US,high\n5,KR,low\n"),
    ]);
    assert!(column(&inferred, "country").nullable, "missing from b.csv");
    assert_eq!(column(&inferred, "score").ty, ColumnType::Text);
    let shown: Vec<String> = inferred.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "column country is missing from 1 of 3 files: b.csv",
            "column score is integer in a.csv, integer in b.csv, text in c.csv; loaded as text",
        ]
    );
}

#[test]
fn a_ragged_row_is_named_and_left_out_and_a_cut_sample_ends_at_a_whole_line() {
    let text = "a,b\n1,2\n3\n4,5,6\n7,8\n9,1";
    let (sample, _) =
        sample_csv(summary("r.csv", 1_000), text.as_bytes(), true, CsvOptions { max_rows: 100, ..Default::default() });
    assert_eq!(sample.summary.rows, 4, "the cut last line is not read");
    assert!(sample.summary.sampled);
    let (whole, _) =
        sample_csv(summary("w.csv", 8), b"a\n1\n2\n", false, CsvOptions { max_rows: 2, ..Default::default() });
    assert!(!whole.summary.sampled, "every row read");
    let (more, _) =
        sample_csv(summary("m.csv", 8), b"a\n1\n2\n3\n", false, CsvOptions { max_rows: 2, ..Default::default() });
    assert!(more.summary.sampled && more.summary.rows == 2, "rows beyond the limit: a sample");
    let shown: Vec<String> = sample.problems.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["r.csv row 3: 1 fields where the header has 2", "r.csv row 4: 3 fields where the header has 2"]);
}

#[test]
fn cp949_and_semicolons_are_recognised() {
    let (bytes, _, _) = encoding_rs::EUC_KR.encode("게임;비용\n스타폴;1200\n");
    let (sample, format) = sample_csv(summary("kr.csv", bytes.len() as u64), &bytes, false, CsvOptions::default());
    assert_eq!(format, Format::Csv { delimiter: ';', header: true, encoding: Encoding::Cp949 });
    assert_eq!(sample.columns[0].0, "게임");
}

#[test]
fn bytes_that_are_neither_utf8_nor_cp949_make_the_file_unreadable_not_the_inference() {
    let (bad, _) = csv("bad.csv", "");
    assert!(bad.problems.is_empty());
    let (sample, format) = sample_csv(summary("bin.csv", 4), &[0x61, 0x0a, 0xff, 0xff], false, CsvOptions::default());
    let good = csv("good.csv", "a\n1\n").0;
    let inferred = merge(format, vec![sample, good]);
    assert_eq!(inferred.columns.len(), 1);
    assert!(matches!(&inferred.problems[0], Problem::Unreadable { file, .. } if file == "bin.csv"));
    assert!(!inferred.problems.iter().any(|p| matches!(p, Problem::ColumnMissing { .. })));
}

#[test]
fn json_lines_keep_json_types_and_name_lines_that_are_not_objects() {
    let text = "{\"id\": 1, \"name\": \"a\", \"at\": \"2026-12-05T01:02:03Z\", \"tags\": [1], \"ok\": true}\n\
                \n\
                {\"id\": 2, \"name\": \"007\", \"price\": 1.25}\n\
                not json\n\
                [1, 2]\n\
                {\"id\": 3, \"name\": \"c\",}\n";
    let sample = sample_jsonl(summary("e.jsonl", text.len() as u64), text.as_bytes(), false, 0);
    let inferred = merge(Format::JsonLines, vec![sample]);
    let types: Vec<(&str, ColumnType, bool)> =
        inferred.columns.iter().map(|c| (c.name.as_str(), c.ty, c.nullable)).collect();
    assert_eq!(
        types,
        [
            ("id", ColumnType::Integer, false),
            ("name", ColumnType::Text, false),
            ("at", ColumnType::TimestampTz, true),
            ("tags", ColumnType::Json, true),
            ("ok", ColumnType::Boolean, true),
            ("price", ColumnType::Decimal, true),
        ]
    );
    let shown: Vec<String> = inferred.problems.iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 3);
    assert_eq!(shown[0], "e.jsonl line 4: not a JSON object (it starts with \"not json\")");
    assert_eq!(shown[1], "e.jsonl line 5: not a JSON object (an array)");
    assert_eq!(shown[2], "e.jsonl line 6: not a JSON object (column 23: trailing comma)");
}

#[test]
fn declared_parquet_columns_are_taken_as_they_are() {
    let a = Observed::declared(Column::typed("id", ColumnType::Integer, false));
    let b = Observed::declared(Column::typed("id", ColumnType::Integer, true));
    let file = |name: &str, observed: Observed| FileSample {
        summary: summary(name, 10),
        columns: vec![("id".into(), observed)],
        problems: vec![],
    };
    let inferred = merge(Format::Parquet, vec![file("a.parquet", a), file("b.parquet", b)]);
    assert_eq!(inferred.columns, [Column::typed("id", ColumnType::Integer, true)]);
}

#[test]
fn names_are_quoted_only_when_they_must_be_and_lengths_have_room() {
    assert_eq!(ident("player_id"), "player_id");
    assert_eq!(ident("order"), "\"order\"");
    assert_eq!(ident("게임"), "\"게임\"");
    assert_eq!(ident("a \"b\""), "\"a \"\"b\"\"\"");
    assert_eq!(varchar_bytes(Some(3)), 16);
    assert_eq!(varchar_bytes(Some(100)), 128);
    assert_eq!(varchar_bytes(Some(110)), 256);
    assert_eq!(varchar_bytes(None), 65_535);
    let mut c = Column::typed("n", ColumnType::Integer, false);
    c.range = Some((0, 40_000));
    assert_eq!(redshift_type(&c), "INTEGER");
    c.range = Some((-5, 200));
    assert_eq!(redshift_type(&c), "SMALLINT");
    c.range = None;
    assert_eq!(redshift_type(&c), "BIGINT");
}

#[test]
fn targets_are_checked_before_anything_is_written() {
    let inferred = infer_csv(&[("a.csv", "id\n1\n")]);
    let bad = |t: Target| statements(&inferred, &t).unwrap_err();
    assert!(matches!(bad(Target::new("players; drop", "s3://b/p/")), TargetError::Table(_)));
    assert!(matches!(bad(Target::new("a.b.c", "s3://b/p/")), TargetError::Table(_)));
    assert!(matches!(bad(Target::new("players", "/tmp/x")), TargetError::Location(_)));
    assert!(matches!(bad(Target::new("players", "s3://b/p' --")), TargetError::Location(_)));
    let mut t = Target::new("players", "s3://b/p/");
    t.iam_role = "x' ; drop".into();
    assert!(matches!(bad(t), TargetError::Name(_)));
    let empty = merge(Format::JsonLines, vec![]);
    assert_eq!(statements(&empty, &Target::new("t", "s3://b/")).unwrap_err(), TargetError::NoColumns);
}

/// The statements for one format, compared with the file in `golden/` (set MCMS_UPDATE_GOLDEN=1 to
/// rewrite the files after a deliberate change, and read the diff).
fn golden(name: &str, inferred: &Inferred, target: &Target) {
    let s = statements(inferred, target).unwrap();
    let text = format!(
        "{}\n{}\n-- manifest ({})\n{}\n\n-- notes\n{}\n",
        s.snowflake,
        s.redshift,
        s.manifest_name,
        s.manifest,
        s.notes.iter().map(|n| format!("-- {n}")).collect::<Vec<_>>().join("\n")
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ingest/golden").join(format!("{name}.sql"));
    if std::env::var_os("MCMS_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(text, expected, "{} differs (MCMS_UPDATE_GOLDEN=1 rewrites it)", path.display());
}

#[test]
fn golden_statements_for_csv() {
    let (bytes, _, _) = encoding_rs::EUC_KR.encode(
        "player_id,게임,level,spend_krw,joined,order\n\
         p-001,스타폴,12,1000.50,2026-01-02,1\n\
         p-002,퍼즐,200,,2026-03-04,2\n",
    );
    let mut file = summary("2026/12/players-1.csv.gz", 52_428_800);
    file.compression = Compression::Gzip;
    let (sample, format) = sample_csv(file, &bytes, false, CsvOptions::default());
    let inferred = merge(format, vec![sample]);
    let mut target = Target::new("raw.players", "s3://mcms-lake/players");
    target.on_error = OnError::SkipFile;
    golden("csv", &inferred, &target);
}

#[test]
fn golden_statements_for_json_lines() {
    let text = "{\"event_id\": 1, \"player_id\": \"p-1\", \"at\": \"2026-12-05T01:02:03Z\", \"props\": {\"level\": 3}}\n\
                {\"event_id\": 2, \"player_id\": \"p-2\", \"at\": \"2026-12-05T01:02:04Z\", \"amount\": 12.5}\n";
    let sample = sample_jsonl(summary("events.jsonl", text.len() as u64), text.as_bytes(), false, 0);
    let inferred = merge(Format::JsonLines, vec![sample]);
    let mut target = Target::new("events", "s3://mcms-lake/events/");
    target.on_error = OnError::Continue;
    target.explicit_columns = true;
    golden("jsonl", &inferred, &target);
}

#[test]
fn golden_statements_for_parquet() {
    let declared = |name: &str, ty: ColumnType, nullable: bool| {
        let mut c = Column::typed(name, ty, nullable);
        if ty == ColumnType::Integer {
            c.range = Some((i64::from(i32::MIN), i64::from(i32::MAX)));
        }
        if ty == ColumnType::Decimal {
            (c.precision, c.scale) = (18, 2);
        }
        (name.to_owned(), Observed::declared(c))
    };
    let file = |name: &str, with_country: bool| {
        let mut columns = vec![
            declared("player_id", ColumnType::Text, false),
            declared("level", ColumnType::Integer, false),
            declared("spend", ColumnType::Decimal, true),
            declared("seen_at", ColumnType::TimestampTz, false),
        ];
        if with_country {
            columns.push(declared("country", ColumnType::Text, true));
        }
        let mut s = summary(name, 134_217_728);
        s.compression = Compression::Snappy;
        FileSample { summary: s, columns, problems: vec![] }
    };
    let inferred = merge(Format::Parquet, vec![file("part-0.parquet", true), file("part-1.parquet", false)]);
    golden("parquet", &inferred, &Target::new("players", "s3://mcms-lake/players/"));
}

mod plans {
    use super::super::plan::*;
    use super::*;
    use crate::poc::{Params, Run};

    fn run(system: &str, size_mb: i64, seconds: f64, cents: i64) -> Run {
        Run {
            system: system.into(),
            scenario: "batch_copy".into(),
            params: Params {
                format: "parquet".into(),
                compression: "snappy".into(),
                file_count: 1,
                file_size_mb: size_mb,
            },
            total_bytes: 10_240 * MB as i64,
            rows: 1,
            load_seconds: Some(seconds),
            latency_p50_ms: None,
            latency_p95_ms: None,
            credits: None,
            cost_cents: Some(cents),
            error: None,
            run_date: time::macros::date!(2026 - 09 - 01),
            system_version: String::new(),
            run_by: String::new(),
            notes: String::new(),
        }
    }

    #[test]
    fn each_warehouse_says_what_it_would_do_with_the_files_as_they_are() {
        let csv = Format::Csv { delimiter: ',', header: true, encoding: Encoding::Utf8 };
        let [snowflake, redshift] =
            uses(&[10 * MB, 2_000 * MB, 300 * MB], &csv, Compression::Gzip, 4).try_into().unwrap();
        assert_eq!((snowflake.parallel, snowflake.splittable), (3, false));
        assert_eq!(
            snowflake.advice,
            [
                "1 of 3 files are under 100 MB: per-file overhead dominates (Snowflake recommends 100–250 MB compressed)",
                "2 of 3 files are over 250 MB: Snowflake loads each file on one thread; split them",
            ]
        );
        assert_eq!((redshift.parallel, redshift.splittable), (3, false));
        assert_eq!(
            redshift.advice,
            [
                "3 files on 4 slices: the last round loads 3 file(s) while 1 slices wait; use a multiple of 4",
                "3 file(s) for 4 slices: most slices sit idle",
                "1 files are over 1 GB and gzip CSV is never split: one slice reads each",
            ]
        );
        // Uncompressed CSV and Parquet: Redshift splits files from 128 MB into chunks.
        let [_, split] = uses(&[2_000 * MB, 300 * MB], &csv, Compression::None, 4).try_into().unwrap();
        assert_eq!((split.splittable, split.parallel), (true, 16 + 3));
        assert!(split.advice.is_empty(), "{:?}", split.advice);
        let [_, json] = uses(&[MB * 2; 8], &Format::JsonLines, Compression::None, 4).try_into().unwrap();
        assert!(!json.splittable && json.advice.is_empty());
    }

    #[test]
    fn the_layout_keeps_files_under_250_mb_in_a_multiple_of_the_slices() {
        let big = layout(10_240 * MB, LayoutFormat::Parquet, 4);
        assert_eq!((big.files, big.file_bytes / MB, big.compression), (44, 232, Compression::Snappy));
        let small = layout(50 * MB, LayoutFormat::Csv, 4);
        assert_eq!((small.files, small.file_bytes, small.compression), (4, 50 * MB / 4, Compression::Gzip));
        let tiny = layout(2 * MB, LayoutFormat::Parquet, 4);
        assert_eq!(tiny.files, 2, "files of at least 1 MB rather than one per slice");
        assert_eq!(layout(10, LayoutFormat::Parquet, 4).files, 1);
    }

    #[test]
    fn estimates_come_from_a_fit_over_the_measured_runs_of_the_same_layout() {
        // MB/s = 10 + 5·ln(size) exactly: the fit finds it, and the estimate follows it.
        let rate = |size: f64| 10.0 + 5.0 * size.ln();
        let mut runs: Vec<Run> =
            [1, 16, 128, 512].iter().map(|s| run("snowflake", *s, 10_240.0 / rate(*s as f64), 100)).collect();
        runs.push(run("redshift", 16, 100.0, 50));
        let mut other = run("redshift", 16, 1.0, 1);
        other.params.format = "csv".into();
        runs.push(other);
        let mut failed = run("snowflake", 64, 1.0, 1);
        failed.error = Some("boom".into());
        runs.push(failed);

        let layout = layout(10_240 * MB, LayoutFormat::Parquet, 4);
        let found = estimates(&runs, &layout);
        let systems: Vec<&str> = found.iter().map(|e| e.system.as_str()).collect();
        assert_eq!(systems, ["redshift", "snowflake"]);
        let redshift = &found[0];
        assert_eq!(redshift.points, [(16.0, 102.4)], "one run: its rate, the csv run left out");
        assert!((redshift.seconds - 100.0).abs() < 1e-9);
        let snowflake = &found[1];
        assert_eq!(snowflake.points.len(), 4, "the failed run is left out");
        assert!((snowflake.fit[0] - 10.0).abs() < 1e-6 && (snowflake.fit[1] - 5.0).abs() < 1e-6, "{:?}", snowflake.fit);
        let expected = rate(layout.file_bytes as f64 / MB as f64);
        assert!((snowflake.mb_per_s - expected).abs() < 1e-3, "{} vs {expected}", snowflake.mb_per_s);
        // Cost: the runs' cents per second times the estimated seconds.
        let per_second: f64 =
            [1.0f64, 16.0, 128.0, 512.0].iter().map(|s| 100.0 / (10_240.0 / rate(*s))).sum::<f64>() / 4.0;
        let cents = snowflake.cost_cents.unwrap();
        assert!((cents - per_second * snowflake.seconds).abs() < 1e-6);
        // Beyond the measured sizes the estimate stays at the edge.
        let huge = super::super::plan::Layout { file_bytes: 4_096 * MB, ..layout };
        assert!((estimates(&runs, &huge)[1].mb_per_s - rate(512.0)).abs() < 1e-3);
    }
}

#[test]
fn a_rewrite_is_recorded_as_a_batch_copy_run_in_its_layout() {
    let done =
        plan::Rewritten { inputs: 3, files: 4, bytes_in: 400 << 20, bytes_out: 200 << 20, rows: 1_000, seconds: 2.0 };
    let today = time::macros::date!(2026 - 12 - 05);
    let run = done.poc_run(plan::LayoutFormat::Csv, "mcms-local", "admin@mcms.example", today, "mcms ingest split");
    assert_eq!(
        (run.scenario.as_str(), run.params.format.as_str(), run.params.compression.as_str()),
        ("batch_copy", "csv", "gzip")
    );
    assert_eq!((run.params.file_count, run.params.file_size_mb, run.total_bytes, run.rows), (4, 50, 200 << 20, 1_000));
    assert_eq!(run.load_seconds, Some(2.0));
    assert_eq!(run.notes, "mcms ingest split: 3 file(s), 419430400 bytes in, 200 MB/s");
    let nothing = plan::Rewritten { files: 0, bytes_out: 0, seconds: 0.0, ..done };
    let run = nothing.poc_run(plan::LayoutFormat::Parquet, "mcms-local", "a", today, "x");
    assert_eq!((run.params.file_count, run.params.file_size_mb, run.params.compression.as_str()), (1, 1, "snappy"));
    assert!(run.notes.ends_with("0 MB/s"), "{}", run.notes);
}
