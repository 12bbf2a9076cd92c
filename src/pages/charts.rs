//! Horizontal bar charts drawn on the server as SVG (no script, nothing for the CSP to allow),
//! each shown with the same figures as a table for screen readers and for copying.

/// One bar: its length as a fraction of the chart's width (0–1), and an optional target mark.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value_text: String,
    pub fraction: f64,
    pub target_fraction: Option<f64>,
    pub target_text: String,
}

#[derive(Debug, Clone)]
pub struct BarChart {
    pub id: &'static str,
    pub title: String,
    pub bars: Vec<Bar>,
    /// Column headings of the data table: label, value, target.
    pub columns: [String; 3],
}

/// A bar as drawn, in SVG user units.
pub struct Drawn<'a> {
    pub bar: &'a Bar,
    pub y: u32,
    pub text_y: u32,
    pub width: u32,
    pub value_x: u32,
    pub target_x: Option<u32>,
}

pub const TRACK_WIDTH: u32 = 360;
/// Room right of the track for the value text.
const VALUE_ROOM: u32 = 150;
const ROW: u32 = 26;
const BAR: u32 = 16;

impl BarChart {
    pub fn view_height(&self) -> u32 {
        ROW * self.bars.len() as u32 + 8
    }

    /// Room for the longest label, estimated from its characters (a CJK character is about twice as
    /// wide as a Latin one at the chart's font size), so long plan wordings are not cut by the bar.
    pub fn label_width(&self) -> u32 {
        let text_width = |s: &str| s.chars().map(|c| if c.is_ascii() { 7 } else { 13 }).sum::<u32>();
        let longest = self.bars.iter().map(|b| text_width(&b.label)).max().unwrap_or(0);
        (longest + 10).clamp(100, 340)
    }

    pub fn view_width(&self) -> u32 {
        self.label_width() + TRACK_WIDTH + VALUE_ROOM
    }

    pub fn has_targets(&self) -> bool {
        self.bars.iter().any(|b| b.target_fraction.is_some())
    }

    pub fn drawn(&self) -> Vec<Drawn<'_>> {
        let label_width = self.label_width();
        let px = |f: f64| (f.clamp(0.0, 1.0) * f64::from(TRACK_WIDTH)).round() as u32;
        self.bars
            .iter()
            .enumerate()
            .map(|(i, bar)| {
                let y = 4 + ROW * i as u32;
                let width = px(bar.fraction);
                Drawn {
                    bar,
                    y,
                    text_y: y + BAR - 3,
                    width,
                    value_x: label_width + width + 6,
                    target_x: bar.target_fraction.map(|t| label_width + px(t)),
                }
            })
            .collect()
    }
}

/// `value / max` as a fraction, 0 when `max` is not positive.
pub fn fraction(value: f64, max: f64) -> f64 {
    if max > 0.0 { value / max } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_track_and_clamp() {
        let bar = |f: f64, t: Option<f64>| Bar {
            label: "x".into(),
            value_text: "1".into(),
            fraction: f,
            target_fraction: t,
            target_text: String::new(),
        };
        let chart = BarChart {
            id: "c",
            title: "t".into(),
            bars: vec![bar(0.5, Some(0.8)), bar(2.0, None), bar(-1.0, None)],
            columns: [String::new(), String::new(), String::new()],
        };
        let d = chart.drawn();
        assert_eq!(d[0].width, TRACK_WIDTH / 2);
        assert_eq!(chart.label_width(), 100, "short labels still get a minimum");
        assert_eq!(d[0].target_x, Some(100 + 288));
        assert_eq!(d[1].width, TRACK_WIDTH);
        assert_eq!(d[2].width, 0);
        assert!(d[1].y > d[0].y);
        assert_eq!(fraction(5.0, 0.0), 0.0);
    }
}
