//! Accounts: creation, sign-in checks, roles and deactivation.

use crate::tx::{Audit, in_tx, write_audit};
use crate::{Db, PasswordHash, Result, StoreError, on_db, unique_as};
use domain::{Email, NewPassword, PersonName, Role};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub created_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    name: String,
    role: String,
    active: bool,
    created_at: OffsetDateTime,
}

impl UserRow {
    fn into_user(self) -> Result<User> {
        let role = Role::parse(&self.role)
            .ok_or_else(|| StoreError::Database(sqlx::Error::Decode(format!("unknown role {:?}", self.role).into())))?;
        Ok(User {
            id: self.id,
            email: self.email,
            name: self.name,
            role,
            active: self.active,
            created_at: self.created_at,
        })
    }
}

const USER_COLUMNS: &str = "id, email, name, role, active, created_at";

impl Db {
    /// Creates an account, audited as created by itself (the command line, the demo).
    pub async fn create_user(
        &self,
        email: &Email,
        name: &PersonName,
        role: Role,
        password: &NewPassword,
    ) -> Result<User> {
        self.create_user_as(email, name, role, password, None).await
    }

    /// Creates an account; the audit trail names `actor` (the admin who did it) or the new account
    /// itself when there is none.
    pub async fn create_user_as(
        &self,
        email: &Email,
        name: &PersonName,
        role: Role,
        password: &NewPassword,
        actor: Option<i64>,
    ) -> Result<User> {
        let hash = PasswordHash::new(password.expose()).await?;
        let now = OffsetDateTime::now_utc();
        let sql = format!(
            "INSERT INTO users (email, name, role, password_hash, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, TRUE, $5, $5) RETURNING {USER_COLUMNS}"
        );
        let row: UserRow = in_tx!(self, tx => {
            let row: UserRow = sqlx::query_as(&sql)
                .bind(email.as_str()).bind(name.as_str()).bind(role.as_str()).bind(&hash.0).bind(now)
                .fetch_one(&mut *tx).await.map_err(unique_as(crate::Duplicate::Email))?;
            write_audit!(tx, Audit::new(now, actor.unwrap_or(row.id), "create", "user", row.id).after(user_json(&row)));
            row
        })?;
        row.into_user()
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = on_db!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
        row.map(UserRow::into_user).transpose()
    }

    /// All accounts, active first, then by email.
    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY active DESC, email");
        let rows: Vec<UserRow> = on_db!(self, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
        rows.into_iter().map(UserRow::into_user).collect()
    }

    /// The active account whose password this is, or `None`. Unknown, deactivated and wrong
    /// password look alike to the caller and cost the same hashing time.
    pub async fn authenticate(&self, email: &str, password: &str) -> Result<Option<User>> {
        let found: Option<(i64, String, bool)> = match Email::parse(email) {
            Ok(email) => on_db!(self, pool => sqlx::query_as(
                "SELECT id, password_hash, active FROM users WHERE email = $1")
                .bind(email.as_str()).fetch_optional(pool).await)?,
            Err(_) => None,
        };
        let Some((id, hash, active)) = found else {
            PasswordHash::decoy().verify(password).await;
            return Ok(None);
        };
        if PasswordHash(hash).verify(password).await && active { self.user(id).await } else { Ok(None) }
    }

    /// Changes an account's role. Refused with [`StoreError::LastAdmin`] when it would demote the
    /// last active administrator. Audited under `actor`.
    pub async fn set_role(&self, id: i64, role: Role, actor: i64) -> Result<User> {
        self.guarded_update(id, "role = $1", role.as_str().to_owned(), role != Role::Admin, actor, "role").await
    }

    /// Deactivates or reactivates an account. Deactivating the last active administrator is refused.
    /// Audited under `actor`.
    pub async fn set_active(&self, id: i64, active: bool, actor: i64) -> Result<User> {
        let action = if active { "activate" } else { "deactivate" };
        self.guarded_update(id, "active = $1", active, !active, actor, action).await
    }

    /// Runs `UPDATE users SET <assignment>` for one account and audits it; when `removes_admin` the
    /// update only applies if another active administrator remains, checked in the same statement.
    /// On PostgreSQL such updates first take one advisory lock, so two admins demoting each other
    /// at the same moment cannot both see the other still standing (SQLite's writes are serial).
    async fn guarded_update<T>(
        &self,
        id: i64,
        assignment: &str,
        value: T,
        removes_admin: bool,
        actor: i64,
        action: &'static str,
    ) -> Result<User>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
        T: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
        T: Send + Clone,
    {
        let guard = if removes_admin {
            " AND (role <> 'admin' OR NOT active OR EXISTS \
               (SELECT 1 FROM users other WHERE other.role = 'admin' AND other.active AND other.id <> $2))"
        } else {
            ""
        };
        let sql =
            format!("UPDATE users SET {assignment}, updated_at = $3 WHERE id = $2{guard} RETURNING {USER_COLUMNS}");
        let select = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let now = OffsetDateTime::now_utc();
        let postgres = matches!(self, Db::Postgres(_));
        in_tx!(self, tx => {
            if postgres && removes_admin {
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext('users:admins'))").execute(&mut *tx).await?;
            }
            let before: UserRow = sqlx::query_as(&select).bind(id).fetch_optional(&mut *tx).await?
                .ok_or(StoreError::NotFound)?;
            let after: UserRow = sqlx::query_as(&sql).bind(value.clone()).bind(id).bind(now)
                .fetch_optional(&mut *tx).await?.ok_or(StoreError::LastAdmin)?;
            if (&before.role, before.active) != (&after.role, after.active) {
                write_audit!(tx, Audit::new(now, actor, action, "user", id).before(user_json(&before)).after(user_json(&after)));
            }
            after
        })?
        .into_user()
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(on_db!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await)?)
    }
}

/// What the audit trail keeps of an account (never its password hash).
fn user_json(u: &UserRow) -> String {
    serde_json::json!({ "email": u.email, "name": u.name, "role": u.role, "active": u.active }).to_string()
}
