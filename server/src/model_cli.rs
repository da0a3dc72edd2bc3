//! `mcms model …`: the model registry from the command line (docs/models.md). Each command is a
//! thin adapter over the same use cases the pages and the API call.

use crate::{DbArgs, open};
use anyhow::Context;
use clap::Subcommand;
use service::models::{Upload, Via};
use std::path::{Path, PathBuf};
use store::models::RollOut;

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Upload an ONNX model as the model's next version (staging), with its signature (YAML or
    /// JSON; by default signature.yaml beside the file). Refused, saying why, if the graph does
    /// not load, does not match the signature, or cannot predict the signature's example.
    Push {
        #[command(flatten)]
        db: DbArgs,
        file: PathBuf,
        /// The model's name: lowercase letters, digits, _ and -.
        #[arg(long)]
        name: String,
        #[arg(long)]
        signature: Option<PathBuf>,
        /// Why this version, kept with it.
        #[arg(long, default_value = "")]
        note: String,
        /// The email of the pipeline builder or administrator the upload is recorded under.
        #[arg(long = "as")]
        as_email: String,
    },
    /// The registered models: task, latest, production and canary versions.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// A model's versions, newest first: stage, uploader, metrics.
    Versions {
        #[command(flatten)]
        db: DbArgs,
        name: String,
    },
    /// Make a version production (the one before is archived). Audited.
    Promote {
        #[command(flatten)]
        change: Change,
        version: i32,
    },
    /// Promote again the version that was production before the current one. Audited.
    Rollback {
        #[command(flatten)]
        change: Change,
    },
    /// Archive a version: it answers nothing from then on. Audited.
    Archive {
        #[command(flatten)]
        change: Change,
        version: i32,
    },
    /// Keep this share of the prediction requests' instances and answers (0 to 100; 0, the
    /// default, keeps none), shown on the model's page. Audited.
    Sample {
        #[command(flatten)]
        change: Change,
        #[arg(value_parser = clap::value_parser!(i32).range(0..=100))]
        percent: i32,
    },
    /// Send a share of the production requests to a staging version (`--off`: end the canary).
    Canary {
        #[command(flatten)]
        db: DbArgs,
        name: String,
        #[arg(required_unless_present = "off")]
        version: Option<i32>,
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(i32).range(1..=100))]
        percent: i32,
        #[arg(long, conflicts_with = "version")]
        off: bool,
        #[arg(long = "as")]
        as_email: String,
    },
}

/// Who changes which model, and why (kept in the audit log).
#[derive(clap::Args)]
pub struct Change {
    #[command(flatten)]
    db: DbArgs,
    name: String,
    #[arg(long, default_value = "")]
    reason: String,
    /// The email of the pipeline builder or administrator the change is recorded under.
    #[arg(long = "as")]
    as_email: String,
}

fn read(path: &Path, what: &str, most: usize) -> anyhow::Result<Vec<u8>> {
    let size = std::fs::metadata(path).with_context(|| format!("cannot read the {what} {}", path.display()))?.len();
    if size > most as u64 {
        anyhow::bail!("the {what} {} is {size} bytes; the registry takes up to {most}", path.display());
    }
    std::fs::read(path).with_context(|| format!("cannot read the {what} {}", path.display()))
}

pub async fn run(command: ModelCommand) -> anyhow::Result<()> {
    match command {
        ModelCommand::Push { db, file, name, signature, note, as_email } => {
            let onnx = read(&file, "model", domain::models::MAX_MODEL_BYTES)?;
            let signature_path = signature.unwrap_or_else(|| file.with_file_name("signature.yaml"));
            let signature = read(&signature_path, "signature", domain::models::MAX_SIGNATURE_BYTES)?;
            let signature = String::from_utf8(signature).context("the signature is not UTF-8 text")?;
            let db = open(&db).await?;
            let actor = service::Actor::by_email(&db, &as_email).await?;
            let costs = store::costs::CostSettings::default();
            let service = service::Service { db: &db, costs: &costs, today: time::OffsetDateTime::now_utc().date() };
            let up = Upload { model: &name, onnx: &onnx, signature: &signature, note: &note, via: Via::Command };
            let done = service.upload_model(&actor, up).await?;
            match done.new {
                true => println!("{name}: version {} (staging), sha256 {}", done.version, done.sha256),
                false => println!("{name}: unchanged (version {} has this file and signature)", done.version),
            }
            Ok(())
        }
        ModelCommand::List { db } => {
            let db = open(&db).await?;
            println!("{:<24} {:<22} {:>6} {:>10} canary", "model", "task", "latest", "production");
            for m in db.models().await? {
                let production = m.production.map_or("-".to_owned(), |v| v.to_string());
                let canary = m.canary.map_or("-".to_owned(), |v| format!("version {v} at {}%", m.canary_percent));
                println!("{:<24} {:<22} {:>6} {:>10} {canary}", m.name, m.task, m.latest, production);
            }
            Ok(())
        }
        ModelCommand::Versions { db, name } => {
            let db = open(&db).await?;
            let versions = db.model_versions(&name).await?;
            if versions.is_empty() {
                anyhow::bail!("there is no model {name}");
            }
            for v in versions {
                let metrics = serde_json::from_str::<domain::models::Signature>(&v.signature)
                    .map(|s| s.metrics.iter().map(|(k, x)| format!("{k} {x}")).collect::<Vec<_>>().join(", "))
                    .unwrap_or_default();
                println!(
                    "{name} {:>3}  {:<10} {}  by {} via {}  {}  {}",
                    v.version,
                    v.stage,
                    v.uploaded_at.date(),
                    v.uploaded_by_name,
                    v.uploaded_via,
                    &v.sha256[..12.min(v.sha256.len())],
                    metrics
                );
            }
            Ok(())
        }
        ModelCommand::Promote { change, version } => roll_out(change, RollOut::Promote(version)).await,
        ModelCommand::Rollback { change } => roll_out(change, RollOut::Rollback).await,
        ModelCommand::Archive { change, version } => roll_out(change, RollOut::Archive(version)).await,
        ModelCommand::Sample { change, percent } => {
            let db = open(&change.db).await?;
            let actor = service::Actor::by_email(&db, &change.as_email).await?;
            let costs = store::costs::CostSettings::default();
            let service = service::Service { db: &db, costs: &costs, today: time::OffsetDateTime::now_utc().date() };
            match service.set_sampling(&actor, &change.name, percent, &change.reason).await {
                Err(service::Error::Store(store::StoreError::NotFound)) => {
                    anyhow::bail!("there is no model {}", change.name)
                }
                Err(e) => Err(e.into()),
                Ok(()) => {
                    println!("{}: {percent}% of prediction requests kept", change.name);
                    Ok(())
                }
            }
        }
        ModelCommand::Canary { db, name, version, percent, off, as_email } => {
            let canary = if off { None } else { version.map(|v| (v, percent)) };
            roll_out(Change { db, name, reason: String::new(), as_email }, RollOut::Canary(canary)).await
        }
    }
}

async fn roll_out(who: Change, change: RollOut) -> anyhow::Result<()> {
    let Change { db, name, reason, as_email } = who;
    let db = open(&db).await?;
    let actor = service::Actor::by_email(&db, &as_email).await?;
    let costs = store::costs::CostSettings::default();
    let service = service::Service { db: &db, costs: &costs, today: time::OffsetDateTime::now_utc().date() };
    match service.change_roll_out(&actor, &name, change, None, &reason).await {
        Err(service::Error::Store(store::StoreError::NotFound)) => anyhow::bail!("there is no model {name}"),
        Err(e) => Err(e.into()),
        Ok(_) => {
            let routing = db.model_routing().await?.into_iter().find(|r| r.name == name);
            let now = routing.map(|r| {
                let production =
                    r.production.map_or("no production version".to_owned(), |v| format!("production: version {v}"));
                match r.canary {
                    Some(c) => format!("{production}, canary: version {c} at {}%", r.canary_percent),
                    None => production,
                }
            });
            println!("{name}: {}", now.unwrap_or_default());
            Ok(())
        }
    }
}
