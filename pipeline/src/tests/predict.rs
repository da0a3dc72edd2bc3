//! The `predict` step with the demo's churn model in tract (models/, made by models/train.py):
//! a CSV of players scored into Parquet with scikit-learn's probabilities, and each refusal.

use super::*;

/// The shipped churn model, loaded as the registry loads it.
struct Registry;

struct Churn(inference::Model);

impl Scorer for Churn {
    fn version(&self) -> i32 {
        3
    }
    fn signature(&self) -> &domain::models::Signature {
        self.0.signature()
    }
    fn predict(&self, rows: &[f32]) -> Result<inference::Predictions, String> {
        self.0.predict(rows).map_err(|e| e.to_string())
    }
}

fn shipped(file: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../models/churn/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[async_trait::async_trait]
impl Mcms for Registry {
    async fn ledger(&self, _: &str, _: bool, _: Option<usize>) -> Result<Rows, String> {
        Err("not here".into())
    }
    async fn partner_stats(&self, _: &str, _: &str, _: Option<usize>) -> Result<Rows, String> {
        Err("not here".into())
    }
    async fn model(&self, name: &str, _: Option<i32>) -> Result<Arc<dyn Scorer>, String> {
        if name != "churn" {
            return Err(format!("there is no model {name}"));
        }
        let signature = String::from_utf8(shipped("signature.yaml")).unwrap();
        let signature = domain::models::Signature::parse(&signature).unwrap();
        Ok(Arc::new(Churn(inference::Model::load(&shipped("model.onnx"), signature).unwrap())))
    }
}

/// The fixture's first rows as a CSV of players, with a player id; and scikit-learn's
/// probability of churn for each.
fn players(rows: usize) -> (String, Vec<f64>) {
    let fixture: serde_json::Value = serde_json::from_slice(&shipped("fixture.json")).unwrap();
    let mut csv = "player_id,days_since_install,days_since_last_session,sessions_7d,minutes_7d,level,purchases_28d,spend_28d_krw,platform\n".to_owned();
    let mut expected = Vec::new();
    for i in 0..rows {
        let x: Vec<f64> = fixture["inputs"][i].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let platform = ["android", "ios"][x[7] as usize];
        csv += &format!("p{i},{},{},{},{},{},{},{},{platform}\n", x[0], x[1], x[2], x[3], x[4], x[5], x[6]);
        expected.push(fixture["expected"]["probabilities"][i][1].as_f64().unwrap());
    }
    (csv, expected)
}

const SCORE: &str = r#"version: 1
connections:
  files: { kind: folder, path: . }
steps:
  - name: players
    source: { files: { connection: files, glob: "in/*.csv", format: csv } }
  - name: scored
    predict: { input: players, model: churn }
  - name: store
    sink: { files: { input: scored, connection: files, path: out, format: parquet } }
"#;

#[tokio::test]
async fn players_are_scored_with_the_models_probabilities_and_passed_on() {
    let f = Folder::new("predict");
    let (csv, expected) = players(20);
    f.write("in/players.csv", &csv);
    let run = run(SCORE, &BTreeMap::new(), &f.settings(), &Registry).await.unwrap();
    let summary: Vec<(&str, &str, u64)> = run.steps.iter().map(|s| (s.name.as_str(), s.kind, s.rows)).collect();
    assert_eq!(summary, [("players", "source", 20), ("scored", "predict", 20), ("store", "sink", 20)]);
    let rows = read_back(
        &f.0.join("out"),
        "SELECT player_id, churn_label, churn_class, churn_probability, churn_version FROM out ORDER BY CAST(substr(player_id, 2) AS INT)",
    )
    .await;
    assert_eq!(rows.len(), 20);
    for (row, p) in rows.iter().zip(&expected) {
        let cells: Vec<&str> = row.split(' ').collect();
        let got: f64 = cells[3].parse().unwrap();
        assert!((got - p).abs() < 1e-5, "{row}: scikit-learn said {p}");
        let label = if *p >= 0.5 { ("yes", "1") } else { ("no", "0") };
        assert_eq!((cells[1], cells[2], cells[4]), (label.0, label.1, "3"), "{row}");
    }
}

#[tokio::test]
async fn rows_that_do_not_fit_the_model_refuse_the_run_naming_row_and_feature() {
    let f = Folder::new("predict-bad");
    let (csv, _) = players(3);
    let bad = csv.replacen(",android\n", ",web\n", 1).replace(",ios\n", ",\n");
    f.write("in/players.csv", &bad);
    let error = run(SCORE, &BTreeMap::new(), &f.settings(), &Registry).await.unwrap_err();
    let RunError::Step { step, reason } = &error else { panic!("{error}") };
    assert_eq!(step, "scored");
    assert!(reason.contains("platform: text \"web\" is not one of android, ios"), "{reason}");
    assert!(reason.starts_with("rows that do not fit the model churn: row "), "{reason}");
    assert_eq!(f.entries("out"), Vec::<String>::new(), "nothing written");

    // A column the model reads is missing; the model is unknown; added columns would clash.
    f.write("in/players.csv", &csv_without_level());
    let error = run(SCORE, &BTreeMap::new(), &f.settings(), &Registry).await.unwrap_err().to_string();
    assert!(error.contains("the model churn reads the column(s) level, which `players` does not have"), "{error}");
    let (csv, _) = players(2);
    f.write("in/players.csv", &csv);
    let unknown = SCORE.replace("model: churn", "model: retention");
    let error = run(&unknown, &BTreeMap::new(), &f.settings(), &Registry).await.unwrap_err().to_string();
    assert!(error.contains("there is no model retention"), "{error}");
    f.write("in/players.csv", &csv.replacen("player_id", "churn_label", 1));
    let error = run(SCORE, &BTreeMap::new(), &f.settings(), &Registry).await.unwrap_err().to_string();
    assert!(error.contains("already has a column churn_label: give the step a `prefix`"), "{error}");
    let other = SCORE.replace("model: churn }", "model: churn, prefix: scored_ }");
    run(&other, &BTreeMap::new(), &f.settings(), &Registry).await.unwrap();
    // Checked before anything runs: the model's name, its version, the prefix.
    let named = SCORE.replace("model: churn }", "model: Churn, version: 0, prefix: \"a b\" }");
    let Err(RunError::Problems(problems)) = run(&named, &BTreeMap::new(), &f.settings(), &Registry).await else {
        panic!("not refused")
    };
    let codes: Vec<&str> = problems.iter().map(|p| p.kind.code()).collect();
    assert_eq!(codes, ["pipeline.model_name", "pipeline.model_version", "pipeline.column_prefix"]);
    // Outside MCMS there is no registry.
    let error = run(SCORE, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap_err().to_string();
    assert!(error.contains("registered models are read only inside MCMS"), "{error}");
}

fn csv_without_level() -> String {
    let (csv, _) = players(2);
    csv.lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells.remove(5);
            cells.join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}
