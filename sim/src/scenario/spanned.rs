//! Values that remember where they stood in the scenario file, so checks made
//! after parsing can still point at `file:line:col`.
//!
//! ron 0.12 has no `Spanned<T>`; a `&RawValue` borrows the exact slice of the
//! input, and its address gives the offset (the approach measured in our ron notes).

use serde::de::{self, Deserialize, Deserializer};

/// A value with its byte offset in the source text.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub val: T,
    /// Address of the value's first byte (compared against the source's address).
    addr: usize,
}

impl<T> Spanned<T> {
    /// A value with no known position (for values built in code).
    pub fn bare(val: T) -> Spanned<T> {
        Spanned { val, addr: 0 }
    }

    /// 1-based line and column in `src`, if the value came from `src`.
    pub fn line_col(&self, src: &str) -> Option<(usize, usize)> {
        line_col_of(src, self.addr)
    }

    /// The raw address, to compare positions.
    pub fn addr(&self) -> usize {
        self.addr
    }
}

/// 1-based line and column of the byte at address `addr` inside `src`.
pub fn line_col_of(src: &str, addr: usize) -> Option<(usize, usize)> {
    let off = addr
        .checked_sub(src.as_ptr() as usize)
        .filter(|&o| o <= src.len())?;
    let before = src.get(..off)?;
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some((line, col))
}

/// `text` from its first byte that is neither whitespace nor inside a comment
/// (`// …` to the end of the line, `/* … */`, which nest in RON).
fn skip_blank(mut text: &str) -> &str {
    loop {
        text = text.trim_start();
        if let Some(rest) = text.strip_prefix("//") {
            text = rest.find('\n').map_or("", |i| &rest[i..]);
        } else if let Some(rest) = text.strip_prefix("/*") {
            let b = rest.as_bytes();
            let (mut depth, mut i) = (1, 0);
            while depth > 0 && i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                } else {
                    i += 1;
                }
            }
            // `i` is just past an ASCII `*/`, or the end: a character boundary.
            text = rest.get(i..).unwrap_or("");
        } else {
            return text;
        }
    }
}

impl<'de, T> Deserialize<'de> for Spanned<T>
where
    T: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&'de ron::value::RawValue>::deserialize(d)?;
        let text = raw.get_ron();
        // Leading whitespace or comments belong to the slice; point at the value itself.
        let addr = skip_blank(text).as_ptr() as usize;
        let val = raw
            .into_rust::<T>()
            .map_err(|e| de::Error::custom(e.code))?;
        Ok(Spanned { val, addr })
    }
}

impl<T: std::fmt::Display> std::fmt::Display for Spanned<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.val.fmt(f)
    }
}
