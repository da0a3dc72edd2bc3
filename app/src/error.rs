//! The one error type of server functions. It crosses the wire as JSON, carries a stable code the
//! UI catalogues translate, and maps to an HTTP status in one place ([`AppError::status`]).

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("sign in to continue")]
    Unauthenticated,
    #[error("your role does not allow this")]
    Forbidden,
    #[error("the email or password is not right")]
    BadCredentials,
    #[error("too many failed sign-ins; try again in {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
    /// A field failed validation; `code` is the domain rule's stable code.
    #[error("{field}: {code}")]
    Invalid { field: String, code: String },
    /// The cost rules refused the entry (errors, or warnings not acknowledged). Carries what was
    /// submitted so a form posted without JavaScript comes back filled in.
    #[error("the entry breaks {} rule(s)", findings.len())]
    Rules { findings: Vec<domain::costs::Finding>, submitted: Box<domain::costs::CostForm> },
    /// Someone saved a newer version of the entry meanwhile; `changed` names the fields that differ
    /// from what this user submitted.
    #[error("version {version} was saved meanwhile")]
    Stale { version: i32, changed: Vec<String>, submitted: Option<Box<domain::costs::CostForm>> },
    /// A file was refused; each problem comes with its row. Nothing of it was stored. At most
    /// [`AppError::ROWS_SHOWN`] problems travel; `more` counts the rest.
    #[error("{} problem(s) in the file", problems.len() + more)]
    Rows {
        problems: Vec<domain::fx::RowProblem>,
        #[serde(default)]
        more: usize,
    },
    /// The request conflicts with stored state (`code` says how).
    #[error("conflict: {code}")]
    Conflict { code: String },
    /// A pipeline file has problems, each with its line and column. Carries the text sent, so a
    /// form posted without JavaScript comes back with it.
    #[error("{} problem(s) in the pipeline", problems.len())]
    Pipeline {
        problems: Vec<PipelineProblem>,
        #[serde(default)]
        name: String,
        #[serde(default)]
        submitted: String,
    },
    /// A pipeline was not saved: its name is taken, or someone saved a newer version meanwhile
    /// (`code` says which). Carries the text sent, which is not lost.
    #[error("conflict: {code}")]
    PipelineConflict { code: String, name: String, submitted: String },
    /// Refused for a reason only the engine's words give (a model that does not load, and why;
    /// a roll-out change the registry does not allow), shown as it is.
    #[error("{message}")]
    Refused { message: String },
    #[error("not found")]
    NotFound,
    /// The request could not be decoded (missing or malformed form fields).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Something failed on the server. Details go to the log, never to the user.
    #[error("something went wrong on our side")]
    Internal,
}

/// A problem of a pipeline file where it is (line and column from 1; 0: the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineProblem {
    pub line: u64,
    pub column: u64,
    /// `domain::pipeline::ProblemKind::code`.
    pub code: String,
    /// What is wrong, with the names involved, in English (the engine's words for SQL).
    pub message: String,
    /// The values the message names (`ProblemKind::args`), for the other languages' sentences.
    #[serde(default)]
    pub args: Vec<String>,
}

impl AppError {
    /// Problems of a refused file shown at most; a file with thousands of bad rows still shows
    /// its first rows and how many more there are (and fits in a redirect without JavaScript).
    pub const ROWS_SHOWN: usize = 50;

    /// A refused file's problems: the first [`AppError::ROWS_SHOWN`] and a count of the rest.
    pub fn rows(mut problems: Vec<domain::fx::RowProblem>) -> AppError {
        let more = problems.len().saturating_sub(Self::ROWS_SHOWN);
        problems.truncate(Self::ROWS_SHOWN);
        AppError::Rows { problems, more }
    }

    pub fn invalid(field: &str, code: &str) -> AppError {
        AppError::Invalid { field: field.into(), code: code.into() }
    }

    /// The stable code the catalogues translate, also used in `?error=` for forms without JavaScript.
    pub fn code(&self) -> String {
        match self {
            AppError::Unauthenticated => "auth.required".into(),
            AppError::Forbidden => "auth.forbidden".into(),
            AppError::BadCredentials => "auth.bad_credentials".into(),
            AppError::Throttled { .. } => "auth.throttled".into(),
            AppError::Invalid { code, .. } | AppError::Conflict { code } | AppError::PipelineConflict { code, .. } => {
                code.clone()
            }
            AppError::Pipeline { .. } => "pipeline.problems".into(),
            AppError::Refused { .. } => "refused".into(),
            AppError::Rules { .. } => "cost.rules".into(),
            AppError::Rows { .. } => "file.rows".into(),
            AppError::Stale { .. } => "cost.stale".into(),
            AppError::NotFound => "not_found".into(),
            AppError::BadRequest(_) => "bad_request".into(),
            AppError::Internal => "internal".into(),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated => 401,
            AppError::Forbidden => 403,
            AppError::BadCredentials => 401,
            AppError::Throttled { .. } => 429,
            AppError::Invalid { .. }
            | AppError::BadRequest(_)
            | AppError::Rules { .. }
            | AppError::Rows { .. }
            | AppError::Pipeline { .. }
            | AppError::Refused { .. } => 422,
            AppError::Stale { .. } => 409,
            AppError::Conflict { .. } | AppError::PipelineConflict { .. } => 409,
            AppError::NotFound => 404,
            AppError::Internal => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = crate::codec::JsonText;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(e) | ServerFnErrorErr::Deserialization(e) => AppError::BadRequest(e),
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::Internal,
            other => AppError::BadRequest(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<service::Error> for AppError {
    /// Rules and stale versions carry no submitted form here; the cost form's adapter adds it.
    fn from(err: service::Error) -> Self {
        use service::Error;
        match err {
            Error::Forbidden => AppError::Forbidden,
            Error::UnknownActor(_) => AppError::Unauthenticated,
            Error::Invalid { field, code } => AppError::invalid(field, code),
            Error::Conflict(code) => AppError::Conflict { code: code.into() },
            Error::Rules(findings) => AppError::Rules { findings, submitted: Box::default() },
            Error::Stale { current, changed } => AppError::Stale {
                version: current.version,
                changed: changed.into_iter().map(str::to_owned).collect(),
                submitted: None,
            },
            Error::Refused(message) => AppError::Refused { message },
            Error::Store(e) => e.into(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<store::StoreError> for AppError {
    fn from(err: store::StoreError) -> Self {
        use store::StoreError;
        match err {
            StoreError::Duplicate(store::Duplicate::Email) => {
                AppError::Conflict { code: "user.duplicate_email".into() }
            }
            StoreError::LastAdmin => AppError::Conflict { code: "user.last_admin".into() },
            StoreError::NotFound => AppError::NotFound,
            StoreError::Refused(message) => AppError::Refused { message },
            StoreError::Changed(_) => AppError::Conflict { code: "changed_elsewhere".into() },
            StoreError::Stale(current) => {
                AppError::Stale { version: current.version, changed: Vec::new(), submitted: None }
            }
            StoreError::PeriodClosed(_) => AppError::Conflict { code: "period.closed".into() },
            StoreError::ReasonRequired => AppError::invalid("reason", "reason.required"),
            StoreError::Duplicate(store::Duplicate::Close) => {
                AppError::Conflict { code: "period.already_closed".into() }
            }
            StoreError::AlreadyImported(_) => AppError::Conflict { code: "import.already_imported".into() },
            StoreError::Duplicate(store::Duplicate::Batch) => {
                AppError::Conflict { code: "import.already_imported".into() }
            }
            StoreError::Duplicate(store::Duplicate::Partner) => AppError::Conflict { code: "partner.duplicate".into() },
            StoreError::Duplicate(store::Duplicate::Watch) => AppError::Conflict { code: "watch.duplicate".into() },
            StoreError::Duplicate(store::Duplicate::Invoice | store::Duplicate::NaturalKey) => {
                AppError::Conflict { code: "cost.duplicate".into() }
            }
            other => {
                tracing::error!(error = %other, "store failure");
                AppError::Internal
            }
        }
    }
}

/// The plain HTTP routes (downloads, uploads) answer an error with its status and its message.
#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status = http::StatusCode::from_u16(self.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        (status, self.to_string()).into_response()
    }
}
