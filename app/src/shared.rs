//! Types more than one feature uses: a code with its name for selects, and a line of history
//! read from the audit trail.

use serde::{Deserialize, Serialize};

/// A code and its display name, for a select.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub code: String,
    pub name: String,
    pub active: bool,
}

/// One line of an entry's or a period's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryLine {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub reason: Option<String>,
}

#[cfg(feature = "ssr")]
pub(crate) async fn history(
    db: &store::Db,
    entity: &str,
    id: &str,
) -> Result<Vec<HistoryLine>, crate::error::AppError> {
    let users = db.users().await?;
    let name = |id: i64| users.iter().find(|u| u.id == id).map_or_else(|| format!("#{id}"), |u| u.email.clone());
    Ok(db
        .audit_trail(entity, id)
        .await?
        .into_iter()
        .map(|a| HistoryLine {
            at: format!("{} {:02}:{:02} UTC", a.at.date(), a.at.hour(), a.at.minute()),
            actor: name(a.actor_id),
            action: a.action,
            reason: a.reason,
        })
        .collect())
}
