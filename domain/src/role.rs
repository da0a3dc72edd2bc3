//! Roles and what each may reach. Viewers read; marketers also enter costs; pipeline builders also
//! write, run and schedule pipelines (and not costs); admins do everything.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads reports and the cost ledger; changes nothing.
    Viewer,
    /// Enters and imports costs.
    Marketer,
    /// Writes, runs and schedules pipelines (the data team).
    Builder,
    /// Manages users, master data, partners and keys.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Marketer, Role::Builder, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Marketer => "marketer",
            Role::Builder => "builder",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    /// Whether a user holding `self` may do what needs `required`.
    pub fn includes(self, required: Role) -> bool {
        self == required || self == Role::Admin || required == Role::Viewer
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The application's top-level sections and the least role that sees each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Section {
    Costs,
    Partners,
    PocReports,
    Pipelines,
    Models,
    /// The ingestion lab: inference, load statements, split plans, auto-ingest watches.
    Ingest,
    Admin,
}

impl Section {
    pub const ALL: [Section; 7] = [
        Section::Costs,
        Section::Partners,
        Section::PocReports,
        Section::Pipelines,
        Section::Models,
        Section::Ingest,
        Section::Admin,
    ];

    pub fn required_role(self) -> Role {
        match self {
            Section::Costs | Section::PocReports | Section::Pipelines | Section::Models => Role::Viewer,
            // It reads the server's data folder and S3, and writes databases: the data team's.
            Section::Ingest => Role::Builder,
            Section::Partners | Section::Admin => Role::Admin,
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Section::Costs => "/costs",
            Section::Partners => "/partners",
            Section::PocReports => "/poc",
            Section::Pipelines => "/pipelines",
            Section::Models => "/models",
            Section::Ingest => "/ingest",
            Section::Admin => "/admin/users",
        }
    }

    /// The sections a role sees, in navigation order.
    pub fn visible_to(role: Role) -> impl Iterator<Item = Section> {
        Section::ALL.into_iter().filter(move |s| role.includes(s.required_role()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::parse(""), None);
    }

    #[test]
    fn higher_roles_include_lower_ones() {
        assert!(Role::Admin.includes(Role::Marketer));
        assert!(Role::Marketer.includes(Role::Viewer));
        assert!(!Role::Viewer.includes(Role::Marketer));
        assert!(!Role::Marketer.includes(Role::Admin));
        assert!(Role::Admin.includes(Role::Builder));
        assert!(Role::Builder.includes(Role::Viewer));
        // Side by side: building pipelines is not entering costs, nor the other way round.
        assert!(!Role::Builder.includes(Role::Marketer));
        assert!(!Role::Marketer.includes(Role::Builder));
        assert!(!Role::Builder.includes(Role::Admin));
    }

    #[test]
    fn navigation_follows_the_role() {
        let seen = |r| Section::visible_to(r).collect::<Vec<_>>();
        let everyone = vec![Section::Costs, Section::PocReports, Section::Pipelines, Section::Models];
        assert_eq!(seen(Role::Viewer), everyone);
        assert_eq!(seen(Role::Marketer), everyone);
        let builders = vec![Section::Costs, Section::PocReports, Section::Pipelines, Section::Models, Section::Ingest];
        assert_eq!(seen(Role::Builder), builders);
        assert_eq!(seen(Role::Admin), Section::ALL.to_vec());
    }
}
