//! Accounts: creation, sign-in checks, roles and deactivation.

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
    pub async fn create_user(
        &self,
        email: &Email,
        name: &PersonName,
        role: Role,
        password: &NewPassword,
    ) -> Result<User> {
        let hash = PasswordHash::new(password.expose()).await?;
        let now = OffsetDateTime::now_utc();
        let sql = format!(
            "INSERT INTO users (email, name, role, password_hash, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, TRUE, $5, $5) RETURNING {USER_COLUMNS}"
        );
        let row: UserRow = on_db!(self, pool => sqlx::query_as(&sql)
            .bind(email.as_str()).bind(name.as_str()).bind(role.as_str()).bind(&hash.0).bind(now)
            .fetch_one(pool).await)
        .map_err(unique_as("an account with this email"))?;
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
    /// last active administrator.
    pub async fn set_role(&self, id: i64, role: Role) -> Result<User> {
        self.guarded_update(id, "role = $1", role.as_str().to_owned(), role != Role::Admin).await
    }

    /// Deactivates or reactivates an account. Deactivating the last active administrator is refused.
    pub async fn set_active(&self, id: i64, active: bool) -> Result<User> {
        self.guarded_update(id, "active = $1", active, !active).await
    }

    /// Runs `UPDATE users SET <assignment>` for one account; when `removes_admin` the update only
    /// applies if another active administrator remains, checked in the same statement.
    async fn guarded_update<T>(&self, id: i64, assignment: &str, value: T, removes_admin: bool) -> Result<User>
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
        let sql = format!("UPDATE users SET {assignment}, updated_at = $3 WHERE id = $2{guard}");
        let now = OffsetDateTime::now_utc();
        let changed = on_db!(self, pool => sqlx::query(&sql).bind(value.clone()).bind(id).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        match (changed, self.user(id).await?) {
            (_, None) => Err(StoreError::NotFound),
            (0, Some(_)) => Err(StoreError::LastAdmin),
            (_, Some(user)) => Ok(user),
        }
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(on_db!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await)?)
    }
}
