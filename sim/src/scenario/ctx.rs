//! The validation context: where the text is, and every problem found so far
//! with its line and column (shared by the scenario's sections).

use super::Problem;
use super::spanned::Spanned;
use crate::time::SimDuration;

/// Collects problems with positions.
pub(super) struct Ctx<'a> {
    pub(super) src: &'a str,
    pub(super) file: &'a str,
    pub(super) problems: Vec<Problem>,
}

impl Ctx<'_> {
    pub(super) fn at<T>(
        &mut self,
        s: &Spanned<T>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) {
        let (line, col) = s.line_col(self.src).unwrap_or((0, 0));
        self.problems.push(Problem {
            file: self.file.to_string(),
            line,
            col,
            path: path.into(),
            message: message.into(),
        });
    }

    pub(super) fn dur(&mut self, s: &Spanned<String>, path: &str) -> Option<SimDuration> {
        match SimDuration::parse(&s.val) {
            Ok(d) => Some(d),
            Err(e) => {
                self.at(s, path, e);
                None
            }
        }
    }

    pub(super) fn positive_dur(&mut self, s: &Spanned<String>, path: &str) -> Option<SimDuration> {
        let d = self.dur(s, path)?;
        if d.0 == 0 {
            self.at(s, path, format!("`{}` must be longer than zero", s.val));
            return None;
        }
        Some(d)
    }

    pub(super) fn range(
        &mut self,
        s: &Spanned<f64>,
        path: &str,
        lo: f64,
        hi: f64,
        unit: &str,
    ) -> f64 {
        let v = s.val;
        if !(v.is_finite() && v >= lo && v <= hi) {
            self.at(
                s,
                path,
                format!("{v} is out of range (valid: {lo} … {hi}{unit})"),
            );
        }
        v
    }

    /// An optional value checked like [`Ctx::range`], or `default` when absent.
    pub(super) fn opt_range(
        &mut self,
        s: &Option<Spanned<f64>>,
        path: &str,
        (lo, hi, unit): (f64, f64, &str),
        default: f64,
    ) -> f64 {
        s.as_ref()
            .map_or(default, |s| self.range(s, path, lo, hi, unit))
    }

    pub(super) fn id(&mut self, s: &Spanned<String>, path: &str) {
        let ok = !s.val.is_empty()
            && s.val.len() <= 64
            && s.val
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            self.at(s, path, format!(
                "`{}` is not a valid id (1–64 characters of A–Z, a–z, 0–9, `-`, `_`; ids become MQTT topic levels)",
                s.val
            ));
        }
    }
}
