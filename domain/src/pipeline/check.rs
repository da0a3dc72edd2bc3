//! Reading a pipeline file and checking its structure, every problem with its line and column.

use super::model::*;
use super::tree::{self, Spanned};
use std::collections::BTreeMap;

/// The largest pipeline file read (a pipeline is a page of YAML, not data).
pub const MAX_FILE_BYTES: usize = 256 * 1024;

/// A problem with a pipeline file and where it is: 1-based line and column, 0 when the whole
/// file is meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: u64,
    pub column: u64,
    pub kind: ProblemKind,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.kind)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemKind {
    /// Not YAML or JSON, a key no step knows, a value of the wrong type (the reader's words).
    #[error("{0}")]
    Syntax(String),
    #[error("the file is larger than {} KB; a pipeline is a page, not data", MAX_FILE_BYTES / 1024)]
    TooLarge,
    #[error("this file is version {0}; this MCMS reads version 1")]
    Version(u32),
    #[error("the pipeline has no steps")]
    NoSteps,
    #[error("a step's name is lower-case letters, digits and _, starting with a letter, at most 63: not `{0}`")]
    StepName(String),
    #[error("two steps are named `{0}`")]
    DuplicateStep(String),
    #[error("the step `{0}` does nothing: give it one of source, clean, transform, aggregate, check, predict or sink")]
    NoKind(String),
    #[error(
        "the step `{0}` has more than one kind: a step is a source, a clean, a transform, an aggregate, a check, a predict or a sink"
    )]
    SeveralKinds(String),
    #[error("`{0}` is not a model name: lower-case letters, digits, _ or -, starting with a letter")]
    ModelName(String),
    #[error("a model's versions are numbered from 1, not {0}")]
    ModelVersion(i32),
    #[error("`{0}` is not a column prefix: letters, digits and _, at most 40")]
    ColumnPrefix(String),
    #[error("no step is named `{0}`")]
    UnknownStep(String),
    #[error("`{0}` is a sink: it writes rows and passes none on")]
    ReadsSink(String),
    #[error("these steps read each other in a circle: {0}")]
    Cycle(String),
    #[error("no connection is named `{0}`")]
    UnknownConnection(String),
    #[error("the connection `{name}` is {kind}; this needs {needs}")]
    WrongConnection { name: String, kind: &'static str, needs: &'static str },
    #[error("a database source reads a query or a table: give one of the two")]
    QueryOrTable,
    #[error("`{0}` is not a table name: use letters, digits and _, as `name` or `schema.name`")]
    TableName(String),
    #[error("the mode `{0}` needs `keys`: the columns that name {1}")]
    NeedsKeys(&'static str, &'static str),
    /// Found when the runner plans the step against its inputs' columns (the server's check).
    #[error("the step `{step}` cannot run: {reason}")]
    Step { step: String, reason: String },
    #[error("`${{{0}}}` is not a parameter of this pipeline")]
    UnknownParam(String),
    #[error("the parameter `{0}` has no value: give it one (--param {0}=…) or a default")]
    MissingParam(String),
    #[error("`{value}` is not a {kind} for the parameter `{name}`")]
    BadParam { name: String, value: String, kind: &'static str },
}

impl ProblemKind {
    /// Stable code; the UI catalogues key their messages on it.
    pub fn code(&self) -> &'static str {
        match self {
            ProblemKind::Syntax(_) => "pipeline.syntax",
            ProblemKind::TooLarge => "pipeline.too_large",
            ProblemKind::Version(_) => "pipeline.version",
            ProblemKind::NoSteps => "pipeline.no_steps",
            ProblemKind::StepName(_) => "pipeline.step_name",
            ProblemKind::DuplicateStep(_) => "pipeline.duplicate_step",
            ProblemKind::NoKind(_) => "pipeline.no_kind",
            ProblemKind::SeveralKinds(_) => "pipeline.several_kinds",
            ProblemKind::UnknownStep(_) => "pipeline.unknown_step",
            ProblemKind::ModelName(_) => "pipeline.model_name",
            ProblemKind::ModelVersion(_) => "pipeline.model_version",
            ProblemKind::ColumnPrefix(_) => "pipeline.column_prefix",
            ProblemKind::ReadsSink(_) => "pipeline.reads_sink",
            ProblemKind::Cycle(_) => "pipeline.cycle",
            ProblemKind::UnknownConnection(_) => "pipeline.unknown_connection",
            ProblemKind::WrongConnection { .. } => "pipeline.wrong_connection",
            ProblemKind::QueryOrTable => "pipeline.query_or_table",
            ProblemKind::TableName(_) => "pipeline.table_name",
            ProblemKind::NeedsKeys(..) => "pipeline.needs_keys",
            ProblemKind::Step { .. } => "pipeline.step",
            ProblemKind::UnknownParam(_) => "pipeline.unknown_param",
            ProblemKind::MissingParam(_) => "pipeline.missing_param",
            ProblemKind::BadParam { .. } => "pipeline.bad_param",
        }
    }

    /// The values a message names, in the order of the variant's fields (the catalogues of other
    /// languages than the English of `Display` put them into their own sentences).
    pub fn args(&self) -> Vec<String> {
        match self {
            ProblemKind::TooLarge => vec![(MAX_FILE_BYTES / 1024).to_string()],
            ProblemKind::Version(v) => vec![v.to_string()],
            ProblemKind::ModelVersion(v) => vec![v.to_string()],
            ProblemKind::NoSteps | ProblemKind::QueryOrTable => Vec::new(),
            ProblemKind::Syntax(a)
            | ProblemKind::StepName(a)
            | ProblemKind::DuplicateStep(a)
            | ProblemKind::NoKind(a)
            | ProblemKind::SeveralKinds(a)
            | ProblemKind::UnknownStep(a)
            | ProblemKind::ModelName(a)
            | ProblemKind::ColumnPrefix(a)
            | ProblemKind::ReadsSink(a)
            | ProblemKind::Cycle(a)
            | ProblemKind::UnknownConnection(a)
            | ProblemKind::TableName(a)
            | ProblemKind::UnknownParam(a)
            | ProblemKind::MissingParam(a) => vec![a.clone()],
            ProblemKind::WrongConnection { name, kind, needs } => vec![name.clone(), (*kind).into(), (*needs).into()],
            ProblemKind::NeedsKeys(mode, what) => vec![(*mode).into(), (*what).into()],
            ProblemKind::Step { step, reason } => vec![step.clone(), reason.clone()],
            ProblemKind::BadParam { name, value, kind } => vec![name.clone(), value.clone(), (*kind).into()],
        }
    }
}

/// A problem at a name's place in the file.
fn at(s: &Spanned<String>, kind: ProblemKind) -> Problem {
    Problem { line: s.at.line, column: s.at.column, kind }
}

/// A table's name, `name` or `schema.name`, each part an identifier (the runner quotes them).
fn table_name(table: &Spanned<String>, problems: &mut Vec<Problem>) {
    let part = |p: &str| {
        p.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && p.len() <= 63
    };
    let value = table.value.as_str();
    let parts: Vec<&str> = value.split('.').collect();
    if parts.len() > 2 || !parts.iter().all(|p| part(p)) {
        problems.push(at(table, ProblemKind::TableName(value.to_owned())));
    }
}

/// A file that passed every structural check: the steps in an order where each comes after the
/// steps it reads, and each parameter's value (given, else its default; `previous`, `today` and
/// the like are resolved by the runner on its clock).
#[derive(Debug, Clone)]
pub struct Checked {
    pub pipeline: Pipeline,
    pub order: Vec<usize>,
    /// Per step, the steps it reads (by index): the lineage.
    pub reads: Vec<Vec<usize>>,
    pub params: BTreeMap<String, String>,
}

/// Reads a YAML or JSON pipeline file (JSON is read as the YAML it also is, so both name the
/// same line and column).
pub fn parse(text: &str) -> Result<Pipeline, Problem> {
    if text.len() > MAX_FILE_BYTES {
        return Err(Problem { line: 0, column: 0, kind: ProblemKind::TooLarge });
    }
    tree::read(text).map_err(|e| match e {
        tree::ReadError::Syntax(e) => {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            let message = e.without_snippet().to_string();
            // The reader may repeat the position in its message; the problem carries it already.
            let message = message.split(" at line ").next().unwrap_or(&message).trim().to_owned();
            Problem { line, column, kind: ProblemKind::Syntax(message) }
        }
        tree::ReadError::Shape(e) => {
            Problem { line: e.at.line, column: e.at.column, kind: ProblemKind::Syntax(e.message) }
        }
    })
}

/// The file's own check as an editor runs it, before anyone gives the parameters values: a
/// parameter without a default gets a stand-in of its type (`current`, `today`, 0, empty text),
/// since the run asks for its value, so the rest of the file is still checked (and planned).
pub fn check_draft(text: &str) -> Result<Checked, Vec<Problem>> {
    let stand_ins = match parse(text) {
        Ok(p) => p
            .params
            .iter()
            .filter(|(_, param)| param.default.is_none())
            .map(|(name, param)| {
                let value = match param.kind {
                    ParamKind::Month => "current",
                    ParamKind::Date => "today",
                    ParamKind::Integer => "0",
                    ParamKind::Text => "",
                };
                (name.clone(), value.to_owned())
            })
            .collect(),
        Err(problem) => return Err(vec![problem]),
    };
    check(text, &stand_ins)
}

/// Reads and checks a pipeline file with the parameter values a run is given. Every problem is
/// reported, not only the first.
pub fn check(text: &str, given: &BTreeMap<String, String>) -> Result<Checked, Vec<Problem>> {
    let pipeline = parse(text).map_err(|p| vec![p])?;
    let mut problems = Vec::new();

    if pipeline.version.value != VERSION {
        problems.push(Problem {
            line: pipeline.version.at.line,
            column: pipeline.version.at.column,
            kind: ProblemKind::Version(pipeline.version.value),
        });
    }
    if pipeline.steps.is_empty() {
        problems.push(Problem { line: 0, column: 0, kind: ProblemKind::NoSteps });
    }

    // Names.
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, step) in pipeline.steps.iter().enumerate() {
        let name = step.name.value.as_str();
        if !is_step_name(name) {
            problems.push(at(&step.name, ProblemKind::StepName(name.to_owned())));
        } else if index.insert(name, i).is_some() {
            problems.push(at(&step.name, ProblemKind::DuplicateStep(name.to_owned())));
        }
    }

    // Kinds, inputs and connections.
    let mut reads: Vec<Vec<usize>> = vec![Vec::new(); pipeline.steps.len()];
    for (i, step) in pipeline.steps.iter().enumerate() {
        let kinds = step.kinds();
        let kind = match kinds.as_slice() {
            [kind] => *kind,
            [] => {
                problems.push(at(&step.name, ProblemKind::NoKind(step.name.value.clone())));
                continue;
            }
            _ => {
                problems.push(at(&step.name, ProblemKind::SeveralKinds(step.name.value.clone())));
                continue;
            }
        };
        // The step an input names, if it is one that passes rows on.
        let read = |input: &Spanned<String>, problems: &mut Vec<Problem>| match index.get(input.value.as_str()) {
            Some(&j) if pipeline.steps[j].sink.is_some() => {
                problems.push(at(input, ProblemKind::ReadsSink(input.value.clone())));
                None
            }
            Some(&j) => Some(j),
            None => {
                problems.push(at(input, ProblemKind::UnknownStep(input.value.clone())));
                None
            }
        };
        let connection = |name: &Spanned<String>, files: bool, problems: &mut Vec<Problem>| {
            let needs = if files { "a folder or an S3 bucket" } else { "a PostgreSQL, Redshift or SQLite database" };
            match pipeline.connections.get(&name.value) {
                None => problems.push(at(name, ProblemKind::UnknownConnection(name.value.clone()))),
                Some(c) if c.holds_files() != files => problems
                    .push(at(name, ProblemKind::WrongConnection { name: name.value.clone(), kind: c.kind(), needs })),
                Some(_) => {}
            }
        };
        match kind {
            StepKind::Source(Source::Database { connection: c, query, table }) => {
                connection(c, false, &mut problems);
                if query.is_some() == table.is_some() {
                    problems.push(at(c, ProblemKind::QueryOrTable));
                }
                if let Some(table) = table {
                    table_name(table, &mut problems);
                }
            }
            StepKind::Source(Source::Files { connection: c, .. }) => connection(c, true, &mut problems),
            StepKind::Source(Source::Ledger { .. } | Source::PartnerStats { .. }) => {}
            StepKind::Clean(c) => reads[i].extend(read(&c.input, &mut problems)),
            StepKind::Aggregate(a) => reads[i].extend(read(&a.input, &mut problems)),
            StepKind::Predict(p) => {
                reads[i].extend(read(&p.input, &mut problems));
                if !crate::models::is_model_name(&p.model.value) {
                    problems.push(at(&p.model, ProblemKind::ModelName(p.model.value.clone())));
                }
                if p.version.is_some_and(|v| v < 1) {
                    problems.push(at(&p.model, ProblemKind::ModelVersion(p.version.unwrap_or_default())));
                }
                if let Some(prefix) = &p.prefix
                    && (prefix.len() > 40 || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                {
                    problems.push(at(&p.model, ProblemKind::ColumnPrefix(prefix.clone())));
                }
            }
            StepKind::Check(c) => {
                reads[i].extend(read(&c.input, &mut problems));
                for r in &c.references {
                    reads[i].extend(read(&r.step, &mut problems));
                }
            }
            StepKind::Transform(t) => {
                // The SQL names earlier steps as tables; DataFusion plans it on the server, here
                // the names it mentions are enough to order the steps and find circles.
                for word in sql_words(&t.sql.value) {
                    if let Some(&j) = index.get(word.as_str()) {
                        if pipeline.steps[j].sink.is_some() {
                            problems.push(at(&t.sql, ProblemKind::ReadsSink(word)));
                        } else {
                            reads[i].push(j);
                        }
                    }
                }
            }
            StepKind::Sink(s) => {
                reads[i].extend(read(s.input(), &mut problems));
                let files = !matches!(s, Sink::Table { .. });
                connection(s.connection(), files, &mut problems);
                match s {
                    Sink::Redshift { connection: c, table, .. } => {
                        if let Some(other @ Connection::Folder { .. }) = pipeline.connections.get(&c.value) {
                            let needs = "an S3 bucket";
                            problems.push(at(
                                c,
                                ProblemKind::WrongConnection { name: c.value.clone(), kind: other.kind(), needs },
                            ));
                        }
                        table_name(table, &mut problems);
                    }
                    Sink::Table { connection: c, table, mode, keys, .. } => {
                        // Redshift loads through S3 and COPY (the `redshift` sink), not row by row.
                        if let Some(other @ Connection::Redshift { .. }) = pipeline.connections.get(&c.value) {
                            let needs = "a PostgreSQL or SQLite database (Redshift loads through the `redshift` sink)";
                            problems.push(at(
                                c,
                                ProblemKind::WrongConnection { name: c.value.clone(), kind: other.kind(), needs },
                            ));
                        }
                        table_name(table, &mut problems);
                        let needs = match mode {
                            TableMode::Append => None,
                            TableMode::ReplacePartition => {
                                Some(("replace_partition", "the partition this run replaces"))
                            }
                            TableMode::Upsert => Some(("upsert", "a row, to update it or add it")),
                        };
                        if let Some((mode, what)) = needs
                            && keys.is_empty()
                        {
                            problems.push(at(table, ProblemKind::NeedsKeys(mode, what)));
                        }
                    }
                    Sink::Files { .. } => {}
                }
            }
        }
    }

    let order = match order(&reads) {
        Ok(order) => order,
        Err(circle) => {
            let names: Vec<&str> = circle.iter().map(|&i| pipeline.steps[i].name.value.as_str()).collect();
            problems.push(at(&pipeline.steps[circle[0]].name, ProblemKind::Cycle(names.join(" → "))));
            Vec::new()
        }
    };

    // Parameters: every `${name}` declared, every declared one with a value of its type.
    for template in pipeline.steps.iter().flat_map(templates) {
        for name in param_refs(&template.value) {
            if !pipeline.params.contains_key(&name) {
                problems.push(at(template, ProblemKind::UnknownParam(name)));
            }
        }
    }
    let mut params = BTreeMap::new();
    for (name, param) in &pipeline.params {
        let value = match (given.get(name), &param.default) {
            (Some(v), _) => v.clone(),
            (None, Some(d)) => d.value.clone(),
            (None, None) => {
                problems.push(Problem { line: 0, column: 0, kind: ProblemKind::MissingParam(name.clone()) });
                continue;
            }
        };
        if !param_fits(param.kind, &value) {
            let kind = match param.kind {
                ParamKind::Month => "month (YYYY-MM, previous or current)",
                ParamKind::Date => "date (YYYY-MM-DD, today, yesterday or N days ago)",
                ParamKind::Text => "text",
                ParamKind::Integer => "whole number",
            };
            let (line, column) = match (given.contains_key(name), &param.default) {
                (false, Some(d)) => (d.at.line, d.at.column),
                _ => (0, 0),
            };
            problems.push(Problem { line, column, kind: ProblemKind::BadParam { name: name.clone(), value, kind } });
            continue;
        }
        params.insert(name.clone(), value);
    }
    for name in given.keys().filter(|n| !pipeline.params.contains_key(*n)) {
        problems.push(Problem { line: 0, column: 0, kind: ProblemKind::UnknownParam(name.clone()) });
    }

    if problems.is_empty() {
        Ok(Checked { pipeline, order, reads, params })
    } else {
        problems.sort_by_key(|p| (p.line, p.column));
        Err(problems)
    }
}

/// A stored pipeline's name: lowercase letters, digits and dashes (`month-batch`), starting with a
/// letter, up to 63 characters; not `new` (the page that makes one is `/pipelines/new`).
pub fn is_pipeline_name(name: &str) -> bool {
    let mut chars = name.chars();
    name != "new"
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.len() <= 63
}

fn is_step_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

/// The steps in an order where each comes after those it reads, or the steps caught in a circle.
fn order(reads: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    let mut waiting: Vec<usize> = reads.iter().map(Vec::len).collect();
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); reads.len()];
    for (i, inputs) in reads.iter().enumerate() {
        for &j in inputs {
            readers[j].push(i);
        }
    }
    let mut ready: Vec<usize> = (0..reads.len()).rev().filter(|&i| waiting[i] == 0).collect();
    let mut order = Vec::with_capacity(reads.len());
    while let Some(i) = ready.pop() {
        order.push(i);
        for &r in readers[i].iter().rev() {
            waiting[r] -= 1;
            if waiting[r] == 0 {
                ready.push(r);
            }
        }
    }
    if order.len() == reads.len() {
        return Ok(order);
    }
    // What is left waits on a circle or is in one: leave out, again and again, the steps that no
    // other left step reads (they only wait), and the circle remains.
    let mut left: Vec<usize> = (0..reads.len()).filter(|&i| waiting[i] > 0).collect();
    loop {
        let read: Vec<usize> = left.iter().flat_map(|&i| reads[i].iter().copied()).collect();
        let before = left.len();
        left.retain(|i| read.contains(i));
        if left.len() == before {
            return Err(left);
        }
    }
}

/// The strings of a step that may hold `${param}`.
fn templates(step: &Step) -> Vec<&Spanned<String>> {
    let mut out = Vec::new();
    match &step.source {
        Some(Source::Ledger { month, .. }) => out.push(month),
        Some(Source::PartnerStats { from, to }) => out.extend([from, to]),
        Some(Source::Database { query, table, .. }) => out.extend(query.iter().chain(table)),
        Some(Source::Files { glob, .. }) => out.push(glob),
        None => {}
    }
    if let Some(c) = &step.clean {
        out.extend(&c.filter);
    }
    if let Some(t) = &step.transform {
        out.push(&t.sql);
    }
    match &step.sink {
        Some(Sink::Files { path, .. } | Sink::Redshift { path, .. }) => out.push(path),
        Some(Sink::Table { .. }) | None => {}
    }
    out
}

/// The parameter names a string uses as `${name}`.
pub fn param_refs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push(after[..end].trim().to_owned());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// `N days ago` (N up to ten years' worth), a date default counted back from the run's day.
pub fn days_ago(value: &str) -> Option<u16> {
    value.strip_suffix(" days ago").and_then(|n| n.parse().ok()).filter(|&n| n <= 3660)
}

fn param_fits(kind: ParamKind, value: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    match kind {
        ParamKind::Month => {
            matches!(value, "previous" | "current")
                || value.split_once('-').is_some_and(|(y, m)| {
                    digits(y, 4) && digits(m, 2) && (1..=12).contains(&m.parse::<u8>().unwrap_or(0))
                })
        }
        ParamKind::Date => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            matches!(value, "today" | "yesterday")
                || days_ago(value).is_some()
                || time::Date::parse(value, &format).is_ok()
        }
        ParamKind::Text => true,
        ParamKind::Integer => value.parse::<i64>().is_ok(),
    }
}

/// The lower-cased identifiers of a SQL text, outside its string literals and comments (quoted
/// identifiers included, unquoted).
fn sql_words(sql: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' => {
                // A string literal; '' inside is an escaped quote, which this skips as two strings.
                for (_, c) in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                }
            }
            '-' if chars.peek().is_some_and(|&(_, n)| n == '-') => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' => {
                let mut word = String::new();
                for (_, c) in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    word.push(c);
                }
                words.push(word.to_lowercase());
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, n)) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        end = j + n.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                words.push(sql[i..end].to_lowercase());
            }
            _ => {}
        }
    }
    words
}

#[cfg(test)]
mod tests;
