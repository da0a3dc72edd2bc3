//! The demo dataset loaded by `mcms serve --demo`: accounts for every role.

use domain::{Email, NewPassword, PersonName, Role};
use store::{Db, StoreError};

/// The password of every demo account (printed by the README).
pub const DEMO_PASSWORD: &str = "mcms-demo-2026";

/// (email, name, role, active)
pub const DEMO_USERS: &[(&str, &str, Role, bool)] = &[
    ("admin@mcms.example", "Hana Park", Role::Admin, true),
    ("marketer@mcms.example", "Minjun Lee", Role::Marketer, true),
    ("growth@mcms.example", "Sofia Garcia", Role::Marketer, true),
    ("viewer@mcms.example", "Daniel Kim", Role::Viewer, true),
    ("former@mcms.example", "Jisoo Choi", Role::Marketer, false),
];

/// Adds the demo accounts that are missing; existing accounts are left as they are.
pub async fn load(db: &Db) -> Result<usize, StoreError> {
    let password = NewPassword::parse(DEMO_PASSWORD).expect("the demo password is long enough");
    let mut added = 0;
    for &(email, name, role, active) in DEMO_USERS {
        let email = Email::parse(email).expect("demo emails are valid");
        let name = PersonName::parse(name).expect("demo names are valid");
        match db.create_user(&email, &name, role, &password).await {
            Ok(user) => {
                added += 1;
                if !active {
                    db.set_active(user.id, false).await?;
                }
            }
            Err(StoreError::Duplicate(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(added)
}
