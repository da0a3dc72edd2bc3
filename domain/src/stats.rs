//! Daily game statistics as partners read them, and the file admins load them from.

use crate::fx::RowProblem;
use crate::{Currency, Money};
use serde::{Deserialize, Serialize};
use time::Date;

/// The header a statistics file must have, in this order.
pub const STATS_COLUMNS: [&str; 8] =
    ["game", "channel", "day", "new_users", "daily_active_users", "paying_users", "revenue", "currency"];

/// One day of one game for one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatRow {
    pub game: String,
    pub channel: String,
    pub day: Date,
    pub new_users: i64,
    pub daily_active: i64,
    pub paying_users: i64,
    pub revenue: Money,
}

/// Reads a statistics file (header [`STATS_COLUMNS`]; revenue written as the currency writes it,
/// `1,250,000` KRW or `99.90` USD). Either every row is good and all come back, or every problem
/// comes back with its row: nothing is half loaded. `known_game` and `known_channel` say which
/// codes exist.
pub fn parse_stats_csv(
    text: &str,
    known_game: impl Fn(&str) -> bool,
    known_channel: impl Fn(&str) -> bool,
) -> Result<Vec<StatRow>, Vec<RowProblem>> {
    let problem = |row: usize, code: &str, detail: &str| RowProblem { row, code: code.into(), detail: detail.into() };
    let (records, mut problems) = crate::fx::table_rows(text, &STATS_COLUMNS, "stats.columns");
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (row, r) in records {
        let before = problems.len();
        if !known_game(&r[0]) {
            problems.push(problem(row, "stats.game_unknown", &r[0]));
        }
        if !known_channel(&r[1]) {
            problems.push(problem(row, "stats.channel_unknown", &r[1]));
        }
        let day = crate::costs::parse_date(&r[2]);
        if day.is_none() {
            problems.push(problem(row, "stats.day_invalid", &r[2]));
        }
        let mut count = |i: usize| match r[i].replace(',', "").parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => {
                problems.push(problem(row, "stats.count_invalid", &format!("{}: {}", STATS_COLUMNS[i], &r[i])));
                0
            }
        };
        let (new_users, daily_active, paying_users) = (count(3), count(4), count(5));
        if paying_users > daily_active || new_users > daily_active {
            problems.push(problem(
                row,
                "stats.counts_inconsistent",
                &format!("{new_users}/{paying_users} > {daily_active}"),
            ));
        }
        let revenue = match Currency::from_code(&r[7]) {
            None => {
                problems.push(problem(row, "stats.currency_unknown", &r[7]));
                None
            }
            Some(c) => match Money::parse(&r[6], c) {
                Ok(m) if m.minor >= 0 => Some(m),
                _ => {
                    problems.push(problem(row, "stats.revenue_invalid", &format!("{} {}", &r[6], &r[7])));
                    None
                }
            },
        };
        if problems.len() > before {
            continue;
        }
        let (Some(day), Some(revenue)) = (day, revenue) else { continue };
        if !seen.insert((r[0].to_owned(), r[1].to_owned(), day)) {
            problems.push(problem(row, "stats.duplicate", &format!("{} {} {day}", &r[0], &r[1])));
            continue;
        }
        let (game, channel) = (r[0].to_owned(), r[1].to_owned());
        rows.push(StatRow { game, channel, day, new_users, daily_active, paying_users, revenue });
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(problem(1, "stats.empty", ""));
    }
    // Ragged rows were set aside while reading: every problem in row order.
    problems.sort_by_key(|p| p.row);
    if problems.is_empty() { Ok(rows) } else { Err(problems) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "game,channel,day,new_users,daily_active_users,paying_users,revenue,currency\n";

    fn parse(body: &str) -> Result<Vec<StatRow>, Vec<RowProblem>> {
        parse_stats_csv(&format!("{HEADER}{body}"), |g| g == "STARFALL", |c| c == "KAKAO" || c == "NAVER")
    }

    fn codes(body: &str) -> Vec<(usize, String)> {
        parse(body).unwrap_err().into_iter().map(|p| (p.row, p.code)).collect()
    }

    #[test]
    fn a_good_file_loads_whole() {
        let rows = parse(
            "STARFALL,KAKAO,2026-10-01,\"1,200\",\"35,000\",700,\"12,500,000\",KRW\n\
                          STARFALL,NAVER,2026-10-01,10,100,5,99.90,USD\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].new_users, rows[0].daily_active, rows[0].revenue.minor), (1_200, 35_000, 12_500_000));
        assert_eq!(rows[1].revenue, Money::new(9_990, Currency::USD));
    }

    #[test]
    fn every_bad_row_is_named_and_nothing_loads() {
        assert_eq!(codes(""), [(1, "stats.empty".to_owned())]);
        let wrong_header = parse_stats_csv("game,day\n", |_| true, |_| true).unwrap_err();
        assert_eq!(wrong_header[0].code, "stats.columns");
        let found = codes(
            "STARFALL,KAKAO,2026-10-01,1,10,1,100,KRW\n\
             PUZZLE,KAKAO,2026-10-02,1,10,1,100,KRW\n\
             STARFALL,TIKTOK,2026-10-02,1,10,1,100,KRW\n\
             STARFALL,KAKAO,10/03/2026,1,10,1,100,KRW\n\
             STARFALL,KAKAO,2026-10-04,-1,10,1,100,KRW\n\
             STARFALL,KAKAO,2026-10-05,1,10,20,100,KRW\n\
             STARFALL,KAKAO,2026-10-06,1,10,1,100.5,KRW\n\
             STARFALL,KAKAO,2026-10-07,1,10,1,100,XXX\n\
             STARFALL,KAKAO,2026-10-01,1,10,1,100,KRW\n\
             STARFALL,KAKAO,2026-10-08,1,10\n",
        );
        let expected = [
            (3, "stats.game_unknown"),
            (4, "stats.channel_unknown"),
            (5, "stats.day_invalid"),
            (6, "stats.count_invalid"),
            (7, "stats.counts_inconsistent"),
            (8, "stats.revenue_invalid"),
            (9, "stats.currency_unknown"),
            (10, "stats.duplicate"),
            (11, "stats.columns"),
        ];
        assert_eq!(found, expected.map(|(r, c)| (r, c.to_owned())));
    }
}
