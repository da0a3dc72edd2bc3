//! SVG charts drawn on the server: readable without JavaScript, each mark naming its numbers in a
//! `<title>` (a tooltip on hover, and text for screen readers).

use leptos::prelude::*;

/// One bar: its label, value, colour class (`sys-0`, `failed`, …) and tooltip.
#[derive(Clone)]
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub class: String,
    pub title: String,
    /// Shown instead of a bar when there is no value (`failed`, `no run`).
    pub note: &'static str,
}

const LABEL_W: f64 = 230.0;
const PLOT_W: f64 = 420.0;
const ROW_H: f64 = 20.0;

/// Horizontal bars, on a log scale when values span more than two orders of magnitude.
#[component]
pub fn BarChart(bars: Vec<Bar>, caption: String, unit: &'static str) -> impl IntoView {
    let values: Vec<f64> = bars.iter().filter_map(|b| b.value).filter(|v| *v > 0.0).collect();
    let max = values.iter().copied().fold(0.0_f64, f64::max).max(f64::MIN_POSITIVE);
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let log = min.is_finite() && max / min > 100.0;
    let scale = move |v: f64| -> f64 {
        if log {
            let lo = min.log10() - 0.3;
            ((v.log10() - lo) / (max.log10() - lo)).clamp(0.02, 1.0) * PLOT_W
        } else {
            (v / max).clamp(0.0, 1.0) * PLOT_W
        }
    };
    let height = bars.len() as f64 * ROW_H + 24.0;
    let axis = if log { "log scale" } else { "linear scale" };
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {} {height}", LABEL_W + PLOT_W + 130.0) role="img" aria-label=caption.clone()>
                {bars.into_iter().enumerate().map(|(i, b)| {
                    let y = i as f64 * ROW_H + 4.0;
                    let width = b.value.map(scale).unwrap_or(0.0);
                    let text = match b.value {
                        Some(v) => format!("{} {unit}", number(v)),
                        None => b.note.to_owned(),
                    };
                    view! {
                        <g class=b.class.clone()>
                            <title>{b.title}</title>
                            <text x=LABEL_W - 6.0 y=y + 13.0 text-anchor="end" class="label">{b.label}</text>
                            <rect x=LABEL_W y=y width=width height=ROW_H - 6.0></rect>
                            <text x=LABEL_W + width + 4.0 y=y + 13.0 class="value">{text}</text>
                        </g>
                    }
                }).collect_view()}
            </svg>
            <figcaption>{caption} " (" {axis} ")"</figcaption>
        </figure>
    }
}

/// One point of a scatter chart.
#[derive(Clone)]
pub struct Dot {
    pub x: f64,
    pub y: f64,
    pub class: String,
    pub title: String,
}

/// A scatter chart with a log-scaled x axis (file sizes and times span orders of magnitude).
#[component]
pub fn Scatter(dots: Vec<Dot>, caption: String, x_label: &'static str, y_label: &'static str) -> impl IntoView {
    let (w, h, left, bottom) = (640.0_f64, 260.0_f64, 60.0_f64, 36.0_f64);
    let xs: Vec<f64> = dots.iter().map(|d| d.x.max(0.1)).collect();
    let (x_min, x_max) = (xs.iter().copied().fold(f64::INFINITY, f64::min), xs.iter().copied().fold(0.0, f64::max));
    let y_max = dots.iter().map(|d| d.y).fold(0.0_f64, f64::max).max(f64::MIN_POSITIVE);
    let (lx0, lx1) = (x_min.log10().floor(), x_max.log10().ceil().max(x_min.log10().floor() + 1.0));
    let px = move |x: f64| left + (x.max(0.1).log10() - lx0) / (lx1 - lx0) * (w - left - 10.0);
    let py = move |y: f64| h - bottom - y / (y_max * 1.1) * (h - bottom - 10.0);
    let ticks: Vec<f64> = (lx0 as i32..=lx1 as i32).map(|p| 10f64.powi(p)).collect();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {w} {h}") role="img" aria-label=caption.clone()>
                <line x1=left y1=h - bottom x2=w - 10.0 y2=h - bottom class="axis"></line>
                <line x1=left y1=10.0 x2=left y2=h - bottom class="axis"></line>
                {ticks.into_iter().map(|t| view! {
                    <text x=px(t) y=h - bottom + 14.0 text-anchor="middle" class="tick">{number(t)}</text>
                }).collect_view()}
                <text x=left - 6.0 y=14.0 text-anchor="end" class="tick">{number(y_max)}</text>
                <text x=left - 6.0 y=h - bottom text-anchor="end" class="tick">"0"</text>
                <text x=(w + left) / 2.0 y=h - 4.0 text-anchor="middle" class="label">{x_label}</text>
                <text x=12.0 y=(h - bottom) / 2.0 class="label" transform=format!("rotate(-90 12 {})", (h - bottom) / 2.0)
                    text-anchor="middle">{y_label}</text>
                {dots.into_iter().map(|d| view! {
                    <circle cx=px(d.x) cy=py(d.y) r="5" class=d.class><title>{d.title}</title></circle>
                }).collect_view()}
            </svg>
            <figcaption>{caption}</figcaption>
        </figure>
    }
}

/// A number as a chart labels it: 3 significant digits, thousands grouped.
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{v:.digits$}");
    let (int, frac) = text.split_once('.').map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 && c.is_ascii_digit() {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{grouped}.{f}"),
        None => grouped,
    }
}
