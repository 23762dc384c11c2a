//! SVG and HTML primitives of the report: escaping, the palette, axes, a line chart, a heatmap
//! and a table. Every label is real `<text>`; every number is written with a fixed number of
//! decimals, so the same input gives the same bytes.
//!
//! Palette (documented in the report's footer too):
//! - polarity: +1 blue `#0072B2` and -1 vermillion `#D55E00` from Okabe and Ito (2008, "Color
//!   Universal Design", <https://jfly.uni-koeln.de/color/>), 0 grey `#BBBBBB` from Paul Tol's
//!   "bright" scheme (<https://personal.sron.nl/~pault/>);
//! - series (lines): Okabe-Ito in the order of [`SERIES`];
//! - heatmaps: a blend from white to Okabe-Ito blue, so value is carried by lightness, which
//!   every kind of colour vision sees.

use std::fmt::Write;

/// Colour of polarity +1, 0 and -1.
pub const POSITIVE: &str = "#0072B2";
/// Colour of polarity 0.
pub const NEUTRAL: &str = "#BBBBBB";
/// Colour of polarity -1.
pub const NEGATIVE: &str = "#D55E00";
/// Line colours, in order (Okabe-Ito without yellow, which is too light on white).
pub const SERIES: [&str; 7] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000",
];

/// The colour of a polarity.
pub fn polarity_colour(p: i8) -> &'static str {
    match p {
        1.. => POSITIVE,
        0 => NEUTRAL,
        _ => NEGATIVE,
    }
}

/// Text escaped for HTML and SVG content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text cut to `max` characters with `…`.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let kept: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

/// A value of [0, 1] as a blend from white to Okabe-Ito blue, and the text colour that reads on
/// it.
pub fn heat(v: f64) -> (String, &'static str) {
    let v = v.clamp(0.0, 1.0);
    let mix = |to: u8| (255.0 + (f64::from(to) - 255.0) * v).round() as u8;
    let fill = format!("#{:02X}{:02X}{:02X}", mix(0x00), mix(0x72), mix(0xB2));
    (fill, if v > 0.55 { "#FFFFFF" } else { "#000000" })
}

/// The opening of a chart: an `<svg>` with its accessible title.
pub fn open(out: &mut String, id: &str, width: u32, height: u32, title: &str) {
    let _ = write!(
        out,
        "<svg id=\"{id}-svg\" class=\"chart\" role=\"img\" aria-labelledby=\"{id}-title\" \
width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
xmlns=\"http://www.w3.org/2000/svg\"><title id=\"{id}-title\">{}</title>",
        esc(title)
    );
}

/// One series of a line chart: a name and (x, y) points in x order.
pub struct Series {
    /// Shown in the legend.
    pub name: String,
    /// The points.
    pub points: Vec<(f64, f64)>,
}

/// A line chart's axes: x from `x.0` to `x.1` with ticks at `ticks` (value, label), y from
/// `y.0` to `y.1` with its label.
pub struct Axes {
    /// The x range.
    pub x: (f64, f64),
    /// Ticks on the x axis: (value, label).
    pub ticks: Vec<(f64, String)>,
    /// The y range.
    pub y: (f64, f64),
    /// What y is.
    pub y_label: String,
    /// Drawn as steps (a value holds until the next point) rather than straight lines.
    pub step: bool,
}

const PLOT_W: f64 = 760.0;
const PLOT_H: f64 = 260.0;
const LEFT: f64 = 70.0;
const TOP: f64 = 20.0;

/// A line chart with axes, tick labels and a legend, each point also a small circle with its
/// value in a tooltip.
pub fn line_chart(id: &str, title: &str, axes: &Axes, series: &[Series]) -> String {
    let legend_h = 20.0 * series.len() as f64;
    let height = (TOP + PLOT_H + 50.0 + legend_h) as u32;
    let mut s = String::new();
    open(&mut s, id, 960, height, title);
    let sx = |x: f64| LEFT + (x - axes.x.0) / (axes.x.1 - axes.x.0).max(1e-9) * PLOT_W;
    let sy = |y: f64| TOP + PLOT_H - (y - axes.y.0) / (axes.y.1 - axes.y.0).max(1e-9) * PLOT_H;
    axes_lines(&mut s, axes, &sx, &sy);
    for (i, ser) in series.iter().enumerate() {
        let colour = SERIES[i % SERIES.len()];
        let mut d = String::new();
        for (k, (x, y)) in ser.points.iter().enumerate() {
            let cmd = if k == 0 { 'M' } else { 'L' };
            if axes.step && k > 0 {
                let _ = write!(d, "L{:.1},{:.1} ", sx(*x), sy(ser.points[k - 1].1));
            }
            let _ = write!(d, "{cmd}{:.1},{:.1} ", sx(*x), sy(*y));
        }
        let _ = write!(
            s,
            "<path class=\"series\" d=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>",
            d.trim_end()
        );
        for (x, y) in &ser.points {
            let _ = write!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{colour}\"><title>{}: {}</title></circle>",
                sx(*x),
                sy(*y),
                esc(&ser.name),
                trim_number(*y)
            );
        }
        let ly = TOP + PLOT_H + 45.0 + 20.0 * i as f64;
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{colour}\" stroke-width=\"3\"/>\
<text x=\"{:.1}\" y=\"{:.1}\" class=\"legend\">{}</text>",
            LEFT + 24.0,
            LEFT + 30.0,
            ly + 4.0,
            esc(&ser.name)
        );
    }
    s.push_str("</svg>");
    s
}

/// The frame, grid lines and tick labels of a line chart.
fn axes_lines(s: &mut String, axes: &Axes, sx: &dyn Fn(f64) -> f64, sy: &dyn Fn(f64) -> f64) {
    let bottom = TOP + PLOT_H;
    let _ = write!(
        s,
        "<g class=\"axis\"><line x1=\"{LEFT}\" y1=\"{bottom}\" x2=\"{:.1}\" y2=\"{bottom}\" stroke=\"#000\"/>\
<line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{bottom}\" stroke=\"#000\"/>",
        LEFT + PLOT_W
    );
    for (x, label) in &axes.ticks {
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" y1=\"{bottom}\" x2=\"{0:.1}\" y2=\"{1:.1}\" stroke=\"#000\"/>\
<text x=\"{0:.1}\" y=\"{2:.1}\" text-anchor=\"middle\">{3}</text>",
            sx(*x),
            bottom + 5.0,
            bottom + 18.0,
            esc(label)
        );
    }
    for k in 0..=4 {
        let y = axes.y.0 + (axes.y.1 - axes.y.0) * f64::from(k) / 4.0;
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"#DDDDDD\"/>\
<text x=\"{2:.1}\" y=\"{3:.1}\" text-anchor=\"end\">{4}</text>",
            sy(y),
            LEFT + PLOT_W,
            LEFT - 6.0,
            sy(y) + 4.0,
            trim_number(y)
        );
    }
    let _ = write!(
        s,
        "<text x=\"14\" y=\"{:.1}\" transform=\"rotate(-90 14 {:.1})\" text-anchor=\"middle\">{}</text></g>",
        TOP + PLOT_H / 2.0,
        TOP + PLOT_H / 2.0,
        esc(&axes.y_label)
    );
}

/// A number with at most three decimals and no trailing zeros (`0.5`, `12`, `0.667`).
pub fn trim_number(v: f64) -> String {
    let t = format!("{v:.3}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    if t == "-0" {
        "0".to_string()
    } else {
        t.to_string()
    }
}

/// The top of a count axis with four even steps: the smallest `4 * step` at or above `max`,
/// `step` one of 1, 2, 5, 10, 25, 50, 100, 250, ... (so 195 gives 200, ticks every 50).
pub fn nice_top(max: u64) -> f64 {
    let mut base = 1;
    loop {
        for m in [1, 2, 5] {
            let step = if base >= 10 && m == 2 {
                base * 5 / 2
            } else {
                base * m
            };
            if 4 * step >= max.max(1) {
                return (4 * step) as f64;
            }
        }
        base *= 10;
    }
}

/// Ticks for a range of years: every year when few, else every 2, 5, 10... years.
pub fn year_ticks(first: i64, last: i64) -> Vec<(f64, String)> {
    let span = (last - first).max(1);
    let step = [1, 2, 5, 10, 20, 50]
        .into_iter()
        .find(|s| span / s <= 12)
        .unwrap_or(100);
    (first..=last)
        .filter(|y| y % step == 0 || (y == &first && step == 1))
        .map(|y| (y as f64, y.to_string()))
        .collect()
}

/// A heatmap of `labels` x `labels` with a value of [0, 1] (or none) per cell, the value written
/// in the cell.
pub fn heatmap(
    id: &str,
    title: &str,
    labels: &[String],
    cell: &dyn Fn(usize, usize) -> Option<f64>,
) -> String {
    let n = labels.len();
    let (size, left, top) = (44.0, 170.0, 130.0);
    let w = (left + size * n as f64 + 140.0) as u32;
    let h = (top + size * n as f64 + 20.0) as u32;
    let mut s = String::new();
    open(&mut s, id, w.max(300), h, title);
    for (i, label) in labels.iter().enumerate() {
        let c = left + size * (i as f64 + 0.5);
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
<text x=\"{c:.1}\" y=\"{:.1}\" transform=\"rotate(-50 {c:.1} {:.1})\">{}</text>",
            left - 6.0,
            top + size * (i as f64 + 0.5) + 4.0,
            esc(&cut(label, 24)),
            top - 8.0,
            top - 8.0,
            esc(&cut(label, 18)),
        );
    }
    for i in 0..n {
        for j in 0..n {
            let (x, y) = (left + size * j as f64, top + size * i as f64);
            let tip = format!("{} / {}", labels[i], labels[j]);
            match cell(i, j) {
                Some(v) => {
                    let (fill, ink) = heat(v);
                    let _ = write!(
                        s,
                        "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{size}\" height=\"{size}\" fill=\"{fill}\" stroke=\"#FFFFFF\"><title>{}: {}</title></rect>\
<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{ink}\">{:.2}</text>",
                        esc(&tip),
                        trim_number(v),
                        x + size / 2.0,
                        y + size / 2.0 + 4.0,
                        v
                    );
                }
                None => {
                    let _ = write!(
                        s,
                        "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{size}\" height=\"{size}\" fill=\"#FFFFFF\" stroke=\"#DDDDDD\"><title>{}: no common topic</title></rect>",
                        esc(&tip)
                    );
                }
            }
        }
    }
    s.push_str("</svg>");
    s
}

/// An HTML table with a caption; cells are escaped.
pub fn table(caption: &str, header: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = format!("<table><caption>{}</caption><thead><tr>", esc(caption));
    for h in header {
        let _ = write!(s, "<th scope=\"col\">{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            let _ = write!(s, "<td>{}</td>", esc(c));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_trims_numbers() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(trim_number(0.5), "0.5");
        assert_eq!(trim_number(2.0 / 3.0), "0.667");
        assert_eq!(trim_number(12.0), "12");
        assert_eq!(trim_number(-0.0001), "0");
    }

    #[test]
    fn heat_runs_from_white_to_blue() {
        assert_eq!(heat(0.0), ("#FFFFFF".to_string(), "#000000"));
        assert_eq!(heat(1.0), ("#0072B2".to_string(), "#FFFFFF"));
    }

    #[test]
    fn count_axes_end_on_round_numbers() {
        assert_eq!(nice_top(195), 200.0);
        assert_eq!(nice_top(3), 4.0);
        assert_eq!(nice_top(0), 4.0);
        assert_eq!(nice_top(70), 100.0);
        assert_eq!(nice_top(801), 1000.0);
    }

    #[test]
    fn year_ticks_thin_out_on_long_ranges() {
        assert_eq!(year_ticks(1990, 1992).len(), 3);
        let t = year_ticks(1946, 2020);
        assert_eq!(t.first().map(|x| x.1.as_str()), Some("1950"));
        assert!(t.len() <= 12);
    }
}
