//! The pipeline scheduler on both databases: a due time runs once however many instances tick,
//! a failed run is tried again after its back-off and then given up, and after downtime only the
//! latest missed time runs.

use crate::common::TestApp;
use domain::Role;
use server::schedules::Scheduler;
use store::pipelines::Base;
use time::{Duration, OffsetDateTime};
use tokio_util::sync::CancellationToken;

/// Copies a CSV in the data folder into `out/`; `accepted` decides whether its check passes.
fn pipeline(accepted: &str) -> String {
    format!(
        r#"version: 1
connections:
  here: {{ kind: folder, path: . }}
steps:
  - name: costs
    source: {{ files: {{ connection: here, glob: in.csv, format: csv }} }}
  - name: known
    check: {{ input: costs, accepted: {{ game: [{accepted}] }} }}
  - name: out
    sink: {{ files: {{ input: known, connection: here, path: out, format: csv }} }}
"#
    )
}

fn scheduler(app: &TestApp, dir: &std::path::Path, instance: &str) -> Scheduler {
    Scheduler {
        db: app.t.db.clone(),
        instance: instance.into(),
        offset: time::UtcOffset::UTC,
        costs: Default::default(),
        data_dir: dir.to_owned(),
        secrets: Default::default(),
        engine: Default::default(),
    }
}

#[tokio::test]
async fn each_scheduled_time_runs_once_is_retried_after_failing_and_missed_times_run_once() {
    for app in TestApp::each().await {
        let admin = app.user("builder@mcms.test", Role::Admin).await;
        let dir = std::env::temp_dir().join(format!("mcms-schedules-{}-{}", std::process::id(), app.backend()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("in.csv"), "game,amount\nSTARFALL,10\n").unwrap();
        let db = &app.t.db;
        db.save_pipeline("hourly", &pipeline("STARFALL"), "a", Base::New, "", admin.id).await.unwrap();
        db.set_schedule("hourly", Some(("0 * * * *", "{}", 1)), admin.id).await.unwrap();
        let (a, b) = (scheduler(&app, &dir, "a"), scheduler(&app, &dir, "b"));
        let stop = CancellationToken::new();

        // Three hours later (the server was down): one run, for the latest hour only.
        // Five minutes past an hour, so that every later tick below stays in its hour.
        let hour = OffsetDateTime::now_utc().replace_minute(5).unwrap().replace_second(0).unwrap();
        let later = hour + Duration::hours(3);
        let runs = a.tick(later, &stop).await.unwrap();
        assert_eq!(runs.len(), 1, "{}", app.backend());
        // Another instance at the same moment, and the same one again: nothing more.
        assert_eq!(b.tick(later, &stop).await.unwrap(), Vec::<i64>::new());
        assert_eq!(a.tick(later + Duration::seconds(30), &stop).await.unwrap(), Vec::<i64>::new());
        let recorded = db.pipeline_runs(Some("hourly"), 10).await.unwrap();
        assert_eq!(recorded.len(), 1);
        assert_eq!((recorded[0].state.as_str(), recorded[0].started_via.as_str()), ("succeeded", "schedule"));
        assert_eq!(recorded[0].version, Some(1));
        assert!(dir.join("out").is_dir());

        // A version whose check fails: the next hour's run fails, waits a minute, fails again,
        // and with one retry is given up.
        db.save_pipeline("hourly", &pipeline("MOONRISE"), "b", Base::Any, "", admin.id).await.unwrap();
        let next_hour = later + Duration::hours(1);
        assert_eq!(b.tick(next_hour, &stop).await.unwrap().len(), 1);
        assert_eq!(
            a.tick(next_hour + Duration::seconds(59), &stop).await.unwrap(),
            Vec::<i64>::new(),
            "not before the back-off"
        );
        assert_eq!(a.tick(next_hour + Duration::seconds(60), &stop).await.unwrap().len(), 1, "the retry");
        assert_eq!(b.tick(next_hour + Duration::minutes(10), &stop).await.unwrap(), Vec::<i64>::new(), "given up");
        let states: Vec<String> =
            db.pipeline_runs(Some("hourly"), 10).await.unwrap().into_iter().map(|r| r.state).collect();
        assert_eq!(states, ["failed", "failed", "succeeded"], "newest first");
        let _ = std::fs::remove_dir_all(&dir);
        app.finish().await;
    }
}
