//! A pipeline's lineage drawn on the server as SVG: sources on the left, each step one column
//! right of the furthest step it reads, sinks where their input ends; an arrow for every read.

use super::Lineage;
use leptos::prelude::*;

const BOX_W: usize = 190;
const BOX_H: usize = 46;
const GAP_X: usize = 60;
const GAP_Y: usize = 18;
const PAD: usize = 8;

/// Each step's column (how many steps lie before it on its longest path) and row in the column.
pub(super) fn layout(lineage: &Lineage) -> Vec<(usize, usize)> {
    let n = lineage.steps.len();
    let mut depth: Vec<Option<usize>> = vec![None; n];
    // The reads form no cycle (the file's check refuses one), so this settles in at most n passes;
    // a step whose inputs never settle (which cannot happen) stays in the first column.
    for _ in 0..n {
        let mut changed = false;
        for i in 0..n {
            let reads = lineage.reads.get(i).map_or(&[][..], Vec::as_slice);
            let d = reads.iter().map(|&j| depth.get(j).copied().flatten().map(|d| d + 1)).collect::<Option<Vec<_>>>();
            let d = d.map(|ds| ds.into_iter().max().unwrap_or(0));
            if d.is_some() && depth[i] != d {
                depth[i] = d;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut rows_used = Vec::<usize>::new();
    depth
        .into_iter()
        .map(|d| {
            let column = d.unwrap_or(0);
            if rows_used.len() <= column {
                rows_used.resize(column + 1, 0);
            }
            let row = rows_used[column];
            rows_used[column] += 1;
            (column, row)
        })
        .collect()
}

fn short(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[component]
pub fn LineageGraph(lineage: Lineage, #[prop(into)] label: String) -> impl IntoView {
    let places = layout(&lineage);
    let columns = places.iter().map(|p| p.0 + 1).max().unwrap_or(1);
    let rows = places.iter().map(|p| p.1 + 1).max().unwrap_or(1);
    let width = PAD * 2 + columns * BOX_W + (columns - 1) * GAP_X;
    let height = PAD * 2 + rows * BOX_H + (rows - 1) * GAP_Y;
    let origin = |i: usize| {
        let (c, r) = places[i];
        (PAD + c * (BOX_W + GAP_X), PAD + r * (BOX_H + GAP_Y))
    };
    let edges = lineage
        .reads
        .iter()
        .enumerate()
        .flat_map(|(to, reads)| reads.iter().map(move |&from| (from, to)))
        .filter(|&(from, to)| from < places.len() && to < places.len())
        .map(|(from, to)| {
            let (fx, fy) = origin(from);
            let (tx, ty) = origin(to);
            let (x1, y1) = (fx + BOX_W, fy + BOX_H / 2);
            let (x2, y2) = (tx, ty + BOX_H / 2);
            let mid = (x1 + x2) / 2;
            let d = format!("M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}");
            view! { <path class="lineage-edge" d=d marker-end="url(#lineage-arrow)"/> }
        })
        .collect_view();
    let boxes = lineage
        .steps
        .iter()
        .enumerate()
        .map(|(i, (name, kind, place))| {
            let (x, y) = origin(i);
            let caption = if place.is_empty() { kind.clone() } else { format!("{kind} · {place}") };
            let title = caption.clone();
            view! {
                <g class=format!("lineage-step lineage-{kind}")>
                    <title>{format!("{name}: {title}")}</title>
                    <rect x=x y=y width=BOX_W height=BOX_H rx="6"/>
                    <text x=x + 10 y=y + 19 class="lineage-name">{short(name, 24)}</text>
                    <text x=x + 10 y=y + 36 class="lineage-kind">{short(&caption, 28)}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg class="lineage" role="img" aria-label=label width=width height=height
            viewBox=format!("0 0 {width} {height}") xmlns="http://www.w3.org/2000/svg">
            <defs>
                <marker id="lineage-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
                    <path d="M0,0 L10,5 L0,10 z"/>
                </marker>
            </defs>
            {edges}
            {boxes}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_sits_one_column_right_of_its_furthest_input() {
        let step = |name: &str| (name.to_owned(), String::new(), String::new());
        // a → b → d, a → c → d, e alone; listed out of order.
        let lineage = Lineage {
            steps: vec![step("d"), step("a"), step("b"), step("c"), step("e")],
            reads: vec![vec![2, 3], vec![], vec![1], vec![1], vec![]],
        };
        assert_eq!(layout(&lineage), [(2, 0), (0, 0), (1, 0), (1, 1), (0, 1)]);
        assert_eq!(short("daily_spend_per_game", 5), "daily…");
        assert_eq!(short("daily", 5), "daily");
    }
}
