//! Change events as Debezium writes them in JSON (one per line, with or without its
//! `{"schema": …, "payload": …}` envelope): `op` `c` (insert), `u` (update), `d` (delete) or `r`
//! (a snapshot's read), the row `before` and `after`, and `source` saying where in the database's
//! log the change was made. A file's events are checked, ordered by that position and folded into
//! the net change per key: the row to upsert, or the key to delete. Applying the same net changes
//! twice leaves the table as applying them once, so a file seen again changes nothing.

use serde_json::{Map, Value};
use std::cmp::Ordering;

/// What an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Delete,
    /// A row read by a snapshot: applied as an upsert.
    Read,
}

/// Where in the source database's log a change was made: PostgreSQL's `lsn`, MySQL's binlog
/// `file`, `pos` and `row`, or, lacking both, the change's `ts_ms`. Compared as written; the
/// event's line in its file breaks ties.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub file: String,
    pub offset: u64,
    pub row: u64,
}

/// One change, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event's line in its file, from 1.
    pub line: u64,
    pub op: Op,
    pub position: Position,
    /// The key columns' values, in the order the keys were named.
    pub key: Vec<Value>,
    /// The row after the change (none for a delete).
    pub after: Option<Map<String, Value>>,
}

/// The net change to one key.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Upsert { key: Vec<Value>, row: Map<String, Value> },
    Delete { key: Vec<Value> },
}

/// An event that cannot be applied: its line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEvent {
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for BadEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// At most this many bad events are reported per file.
pub const LISTED_BAD: usize = 20;

/// Reads a file of change events keyed by `keys`. Any bad event refuses the whole file (nothing
/// of it is applied), with up to [`LISTED_BAD`] bad events named by line.
pub fn read(text: &str, keys: &[String]) -> Result<Vec<Event>, Vec<BadEvent>> {
    let mut events = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        match event(line, keys) {
            Ok(e) => events.push(Event { line: line_no, ..e }),
            Err(reason) => {
                if bad.len() < LISTED_BAD {
                    bad.push(BadEvent { line: line_no, reason });
                }
            }
        }
    }
    if bad.is_empty() { Ok(events) } else { Err(bad) }
}

fn event(line: &str, keys: &[String]) -> Result<Event, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e})"))?;
    let Value::Object(mut object) = value else {
        return Err("not a JSON object".into());
    };
    if let Some(Value::Object(payload)) = object.remove("payload") {
        object = payload;
    }
    let op = match object.get("op") {
        Some(Value::String(op)) => match op.as_str() {
            "c" => Op::Create,
            "u" => Op::Update,
            "d" => Op::Delete,
            "r" => Op::Read,
            "t" => return Err("op \"t\" (a truncate) is not applied; truncate the table by hand".into()),
            other => return Err(format!("op {other:?} is not one of c, u, d, r")),
        },
        Some(other) => return Err(format!("op is {other}, not one of \"c\", \"u\", \"d\", \"r\"")),
        None => return Err("no op".into()),
    };
    let position = position(object.get("source"))?;
    let row = |name: &str| match object.get(name) {
        Some(Value::Object(row)) => Ok(Some(row.clone())),
        Some(Value::Null) | None => Ok(None),
        Some(other) => Err(format!("{name} is {}, not an object", kind(other))),
    };
    let (before, after) = (row("before")?, row("after")?);
    let (keyed, side) = match op {
        Op::Delete => (before.as_ref(), "before"),
        _ => (after.as_ref(), "after"),
    };
    let Some(keyed) = keyed else {
        return Err(format!("op {:?} without {side}", op_code(op)));
    };
    let mut key = Vec::with_capacity(keys.len());
    for k in keys {
        match keyed.get(k) {
            Some(Value::Null) | None => return Err(format!("the key {k} is missing from {side}")),
            Some(v @ (Value::Object(_) | Value::Array(_))) => {
                return Err(format!("the key {k} is {}, not a value", kind(v)));
            }
            Some(v) => key.push(v.clone()),
        }
    }
    let after = if op == Op::Delete { None } else { after };
    Ok(Event { line: 0, op, position, key, after })
}

fn op_code(op: Op) -> &'static str {
    match op {
        Op::Create => "c",
        Op::Update => "u",
        Op::Delete => "d",
        Op::Read => "r",
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn position(source: Option<&Value>) -> Result<Position, String> {
    let Some(Value::Object(source)) = source else {
        return Err("no source (the change's position in the database's log)".into());
    };
    let number = |name: &str| source.get(name).and_then(Value::as_u64);
    if let Some(lsn) = number("lsn") {
        return Ok(Position { file: String::new(), offset: lsn, row: 0 });
    }
    if let (Some(Value::String(file)), Some(pos)) = (source.get("file"), number("pos")) {
        return Ok(Position { file: file.clone(), offset: pos, row: number("row").unwrap_or(0) });
    }
    if let Some(ts) = number("ts_ms") {
        return Ok(Position { file: String::new(), offset: ts, row: 0 });
    }
    Err("source has no position (lsn; file and pos; or ts_ms)".into())
}

/// The net change per key (each key once, where it first changed): events sorted by their source
/// position (ties by line), then each key's last event wins.
pub fn net(mut events: Vec<Event>) -> Vec<Change> {
    events.sort_by(|a, b| match a.position.cmp(&b.position) {
        Ordering::Equal => a.line.cmp(&b.line),
        other => other,
    });
    let mut last: Vec<Event> = Vec::with_capacity(events.len());
    let mut seen = std::collections::HashMap::<String, usize>::with_capacity(events.len());
    for e in events {
        let id = serde_json::to_string(&e.key).unwrap_or_default();
        match seen.get(&id) {
            Some(&i) => last[i] = e,
            None => {
                seen.insert(id, last.len());
                last.push(e);
            }
        }
    }
    last.into_iter()
        .map(|e| match e.after {
            Some(row) if e.op != Op::Delete => Change::Upsert { key: e.key, row },
            _ => Change::Delete { key: e.key },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys() -> Vec<String> {
        vec!["id".to_owned()]
    }

    fn line(op: &str, lsn: u64, before: Value, after: Value) -> String {
        json!({"op": op, "before": before, "after": after, "source": {"lsn": lsn, "ts_ms": 1}}).to_string()
    }

    #[test]
    fn events_fold_into_the_last_change_per_key_in_log_order() {
        let text = [
            line("c", 10, Value::Null, json!({"id": 1, "name": "a"})),
            // Out of order in the file: lsn 30 is the last change to id 1.
            line("u", 30, json!({"id": 1}), json!({"id": 1, "name": "c"})),
            line("u", 20, json!({"id": 1}), json!({"id": 1, "name": "b"})),
            line("c", 40, Value::Null, json!({"id": 2, "name": "x"})),
            line("d", 50, json!({"id": 2, "name": "x"}), Value::Null),
            // With the envelope Debezium's JSON converter writes when schemas are on.
            json!({"schema": {}, "payload": {"op": "r", "after": {"id": 3, "name": "s"}, "source": {"lsn": 5}}})
                .to_string(),
        ]
        .join("\n");
        let events = read(&text, &keys()).unwrap();
        assert_eq!(events.len(), 6);
        assert_eq!(events[5].op, Op::Read);
        let changes = net(events);
        assert_eq!(
            changes,
            [
                Change::Upsert { key: vec![json!(3)], row: json!({"id": 3, "name": "s"}).as_object().unwrap().clone() },
                Change::Upsert { key: vec![json!(1)], row: json!({"id": 1, "name": "c"}).as_object().unwrap().clone() },
                Change::Delete { key: vec![json!(2)] },
            ]
        );
    }

    #[test]
    fn mysql_positions_order_by_file_then_offset_then_row() {
        let at = |file: &str, pos: u64, row: u64, name: &str| {
            json!({"op": "u", "after": {"id": 1, "name": name}, "source": {"file": file, "pos": pos, "row": row}})
                .to_string()
        };
        let text =
            [at("bin.000002", 4, 0, "last"), at("bin.000001", 900, 1, "second"), at("bin.000001", 900, 0, "first")]
                .join("\n");
        match &net(read(&text, &keys()).unwrap())[..] {
            [Change::Upsert { row, .. }] => assert_eq!(row["name"], "last"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_bad_event_refuses_its_file_naming_each_line() {
        let text = [
            line("c", 1, Value::Null, json!({"id": 1})),
            "{not json".to_owned(),
            line("x", 2, Value::Null, json!({"id": 2})),
            line("c", 3, Value::Null, json!({"name": "no id"})),
            line("d", 4, Value::Null, Value::Null),
            json!({"op": "c", "after": {"id": 5}}).to_string(),
            "[1]".to_owned(),
            String::new(),
            line("c", 6, Value::Null, json!({"id": {"nested": 1}})),
            line("t", 7, Value::Null, Value::Null),
        ]
        .join("\n");
        let bad: Vec<String> = read(&text, &keys()).unwrap_err().iter().map(ToString::to_string).collect();
        assert_eq!(bad.len(), 8, "{bad:#?}");
        assert!(bad[0].starts_with("line 2: not JSON"), "{}", bad[0]);
        assert_eq!(bad[1], "line 3: op \"x\" is not one of c, u, d, r");
        assert_eq!(bad[2], "line 4: the key id is missing from after");
        assert_eq!(bad[3], "line 5: op \"d\" without before");
        assert_eq!(bad[4], "line 6: no source (the change's position in the database's log)");
        assert_eq!(bad[5], "line 7: not a JSON object");
        assert_eq!(bad[6], "line 9: the key id is an object, not a value");
        assert!(bad[7].starts_with("line 10: op \"t\" (a truncate)"), "{}", bad[7]);
    }

    #[test]
    fn composite_keys_and_a_file_read_twice_give_the_same_changes() {
        let keys = vec!["tenant".to_owned(), "id".to_owned()];
        let text = [
            json!({"op": "c", "after": {"tenant": "a", "id": 1, "v": 1}, "source": {"lsn": 1}}).to_string(),
            json!({"op": "c", "after": {"tenant": "b", "id": 1, "v": 2}, "source": {"lsn": 2}}).to_string(),
        ]
        .join("\n");
        let once = net(read(&text, &keys).unwrap());
        assert_eq!(once.len(), 2, "same id, different tenants");
        assert_eq!(net(read(&text, &keys).unwrap()), once);
    }
}
