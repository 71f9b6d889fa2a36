//! A small column table read from CSV (RFC 4180) or Parquet, with typed
//! getters whose errors name the file, the row and the column.
//!
//! Rows are numbered from 1 over data rows (the CSV header is not a row); a
//! CSV error also gives the line. Only the columns asked for are kept.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::ReadError;

/// One value.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Null (an empty CSV field).
    Null,
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// Text (every CSV field is text until a getter parses it).
    Str(String),
}

/// A table: named columns of cells.
#[derive(Debug)]
pub struct Table {
    path: PathBuf,
    csv: bool,
    names: Vec<String>,
    cols: Vec<Vec<Cell>>,
    rows: usize,
}

impl Table {
    /// Reads `path` (`.csv` or `.parquet`), keeping only the columns in `keep`
    /// that the file has.
    pub fn read(path: &Path, keep: &[&str]) -> Result<Table, ReadError> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => read_csv(path, keep),
            Some("parquet") => read_parquet(path, keep),
            _ => Err(ReadError::Format {
                path: path.to_path_buf(),
                problem: "unknown file type (valid: .csv, .parquet)".into(),
            }),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of data rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Index of column `name`, if present.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Index of column `name`, or an error naming what the file has.
    pub fn require(&self, name: &str) -> Result<usize, ReadError> {
        self.column(name).ok_or_else(|| ReadError::MissingColumn {
            path: self.path.clone(),
            column: name.to_string(),
            found: self.names.join(", "),
        })
    }

    /// Where data row `row` (0-based) is, for messages: "row 3" or "row 3 (line 4)".
    pub fn location(&self, row: usize) -> String {
        if self.csv {
            format!("row {} (line {})", row + 1, row + 2)
        } else {
            format!("row {}", row + 1)
        }
    }

    /// An error about cell (`row`, `col`).
    pub fn error(&self, row: usize, col: usize, problem: impl Into<String>) -> ReadError {
        ReadError::Cell {
            path: self.path.clone(),
            at: self.location(row),
            column: self.names[col].clone(),
            problem: problem.into(),
        }
    }

    /// `value`, or an error that cell (`row`, `col`) must not be empty.
    pub fn need<T>(&self, row: usize, col: usize, value: Option<T>) -> Result<T, ReadError> {
        value.ok_or_else(|| self.error(row, col, "must not be empty"))
    }

    fn cell(&self, row: usize, col: usize) -> &Cell {
        &self.cols[col][row]
    }

    /// An integer (or null).
    pub fn int(&self, row: usize, col: usize) -> Result<Option<i64>, ReadError> {
        match self.cell(row, col) {
            Cell::Null => Ok(None),
            Cell::Int(i) => Ok(Some(*i)),
            Cell::Str(s) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| self.error(row, col, format!("`{s}` is not an integer"))),
            other => Err(self.error(row, col, format!("{other:?} is not an integer"))),
        }
    }

    /// A finite float (or null).
    pub fn float(&self, row: usize, col: usize) -> Result<Option<f64>, ReadError> {
        let v = match self.cell(row, col) {
            Cell::Null => return Ok(None),
            Cell::Float(f) => *f,
            Cell::Int(i) => *i as f64,
            Cell::Str(s) => s
                .trim()
                .parse()
                .map_err(|_| self.error(row, col, format!("`{s}` is not a number")))?,
            other => return Err(self.error(row, col, format!("{other:?} is not a number"))),
        };
        if v.is_finite() {
            Ok(Some(v))
        } else {
            Err(self.error(row, col, format!("{v} is not a finite number")))
        }
    }

    /// A boolean: true/false or 1/0 (or null).
    pub fn bool(&self, row: usize, col: usize) -> Result<Option<bool>, ReadError> {
        match self.cell(row, col) {
            Cell::Null => Ok(None),
            Cell::Bool(b) => Ok(Some(*b)),
            Cell::Int(0) => Ok(Some(false)),
            Cell::Int(1) => Ok(Some(true)),
            Cell::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                _ => Err(self.error(
                    row,
                    col,
                    format!("`{s}` is not a boolean (valid: true, false, 1, 0)"),
                )),
            },
            other => Err(self.error(
                row,
                col,
                format!("{other:?} is not a boolean (valid: true, false, 1, 0)"),
            )),
        }
    }

    /// Text (or null).
    pub fn str(&self, row: usize, col: usize) -> Result<Option<&str>, ReadError> {
        match self.cell(row, col) {
            Cell::Null => Ok(None),
            Cell::Str(s) => Ok(Some(s)),
            other => Err(self.error(row, col, format!("{other:?} is not text"))),
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReadError + '_ {
    move |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn read_csv(path: &Path, keep: &[&str]) -> Result<Table, ReadError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let records = parse_csv(&text).map_err(|(line, problem)| ReadError::Format {
        path: path.to_path_buf(),
        problem: format!("line {line}: {problem}"),
    })?;
    let mut records = records.into_iter();
    let header: Vec<String> = match records.next() {
        Some(h) => h
            .into_iter()
            .map(|c| match c {
                Cell::Str(s) => s,
                _ => String::new(),
            })
            .collect(),
        None => {
            return Err(ReadError::Format {
                path: path.to_path_buf(),
                problem: "empty file: expected a header row".into(),
            });
        }
    };
    let picked: Vec<usize> = (0..header.len())
        .filter(|&i| keep.contains(&header[i].as_str()))
        .collect();
    let mut cols: Vec<Vec<Cell>> = vec![Vec::new(); picked.len()];
    let mut rows = 0;
    for (i, rec) in records.enumerate() {
        if rec.len() != header.len() {
            return Err(ReadError::Format {
                path: path.to_path_buf(),
                problem: format!(
                    "row {} (line {}): {} fields, but the header has {}",
                    i + 1,
                    i + 2,
                    rec.len(),
                    header.len()
                ),
            });
        }
        let mut rec = rec;
        for (k, &c) in picked.iter().enumerate() {
            cols[k].push(std::mem::replace(&mut rec[c], Cell::Null));
        }
        rows += 1;
    }
    Ok(Table {
        path: path.to_path_buf(),
        csv: true,
        names: picked.iter().map(|&i| header[i].clone()).collect(),
        cols,
        rows,
    })
}

/// Parses RFC 4180 CSV into records of [`Cell::Str`] (quoted or not) and
/// [`Cell::Null`] (an empty unquoted field). Accepts LF or CRLF line ends; a
/// blank last line is ignored. Errors carry the 1-based line.
fn parse_csv(text: &str) -> Result<Vec<Vec<Cell>>, (usize, String)> {
    let mut out = Vec::new();
    let mut rec: Vec<Cell> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1;
    let mut chars = text.chars().peekable();
    let end_field = |field: &mut String, quoted: &mut bool, rec: &mut Vec<Cell>| {
        let f = std::mem::take(field);
        rec.push(if f.is_empty() && !*quoted {
            Cell::Null
        } else {
            Cell::Str(f)
        });
        *quoted = false;
    };
    while let Some(c) = chars.next() {
        match c {
            '"' if field.is_empty() && !quoted => {
                quoted = true;
                let start = line;
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            field.push(ch);
                        }
                        None => return Err((start, "a quoted field is never closed".into())),
                    }
                }
                match chars.peek() {
                    None | Some(',') | Some('\n') | Some('\r') => {}
                    Some(other) => {
                        return Err((
                            line,
                            format!("`{other}` after a closing quote (expected , or end of line)"),
                        ));
                    }
                }
            }
            '"' => return Err((line, "a quote inside an unquoted field".into())),
            ',' => end_field(&mut field, &mut quoted, &mut rec),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                end_field(&mut field, &mut quoted, &mut rec);
                out.push(std::mem::take(&mut rec));
                line += 1;
            }
            ch => field.push(ch),
        }
    }
    if !field.is_empty() || quoted || !rec.is_empty() {
        end_field(&mut field, &mut quoted, &mut rec);
        out.push(rec);
    }
    Ok(out)
}

fn read_parquet(path: &Path, keep: &[&str]) -> Result<Table, ReadError> {
    let bad = |e: &dyn std::fmt::Display| ReadError::Format {
        path: path.to_path_buf(),
        problem: format!("not a readable Parquet file: {e}"),
    };
    let file = File::open(path).map_err(io(path))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| bad(&e))?;
    let schema = builder.schema().clone();
    let picked: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| keep.contains(&schema.field(i).name().as_str()))
        .collect();
    let mask =
        parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), picked.iter().copied());
    let reader = builder.with_projection(mask).build().map_err(|e| bad(&e))?;
    let names: Vec<String> = picked
        .iter()
        .map(|&i| schema.field(i).name().clone())
        .collect();
    let mut cols: Vec<Vec<Cell>> = vec![Vec::new(); names.len()];
    let mut rows = 0;
    for batch in reader {
        let batch = batch.map_err(|e| bad(&e))?;
        for (k, name) in names.iter().enumerate() {
            let array = batch
                .column_by_name(name)
                .expect("projected columns are in the batch");
            cells(array.as_ref(), &mut cols[k]).map_err(|problem| ReadError::Format {
                path: path.to_path_buf(),
                problem: format!("column `{name}`: {problem}"),
            })?;
        }
        rows += batch.num_rows();
    }
    Ok(Table {
        path: path.to_path_buf(),
        csv: false,
        names,
        cols,
        rows,
    })
}

/// Appends an arrow array's values as cells (ints, floats, booleans, text).
fn cells(array: &dyn Array, out: &mut Vec<Cell>) -> Result<(), String> {
    use arrow::compute::cast;
    let dt = array.data_type();
    let target = match dt {
        DataType::Boolean => DataType::Boolean,
        DataType::Float16 | DataType::Float32 | DataType::Float64 => DataType::Float64,
        t if t.is_integer() => DataType::Int64,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(_, _) => {
            DataType::Utf8
        }
        other => {
            return Err(format!(
                "type {other} is not supported (use integers, floats, booleans or text)"
            ));
        }
    };
    let a = cast(array, &target).map_err(|e| format!("cannot read {dt} as {target}: {e}"))?;
    for i in 0..a.len() {
        out.push(if a.is_null(i) {
            Cell::Null
        } else {
            match &target {
                DataType::Boolean => Cell::Bool(a.as_boolean().value(i)),
                DataType::Float64 => Cell::Float(a.as_primitive::<Float64Type>().value(i)),
                DataType::Int64 => Cell::Int(a.as_primitive::<Int64Type>().value(i)),
                _ => Cell::Str(a.as_string::<i32>().value(i).to_string()),
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Cell {
        Cell::Str(x.into())
    }

    #[test]
    fn csv_quoting_nulls_and_line_ends() {
        let r = parse_csv("a,b,c\r\n1,,\"x,\"\"y\"\"\"\n\"\",2,\"multi\nline\"\n").unwrap();
        assert_eq!(r[0], vec![s("a"), s("b"), s("c")]);
        assert_eq!(r[1], vec![s("1"), Cell::Null, s("x,\"y\"")]);
        assert_eq!(r[2], vec![s(""), s("2"), s("multi\nline")]);
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn csv_errors_carry_the_line() {
        assert_eq!(parse_csv("a\n\"open\n").unwrap_err().0, 2);
        assert_eq!(parse_csv("a\nb\"c\n").unwrap_err().0, 2);
    }

    #[test]
    fn getters_name_row_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.csv");
        std::fs::write(&p, "ts_ns,alarm,rul_s\n5,true,1.5\n6,maybe,x\n").unwrap();
        let t = Table::read(&p, &["ts_ns", "alarm", "rul_s"]).unwrap();
        assert_eq!(t.rows(), 2);
        let (a, r) = (t.require("alarm").unwrap(), t.require("rul_s").unwrap());
        assert_eq!(t.bool(0, a).unwrap(), Some(true));
        let e = t.bool(1, a).unwrap_err().to_string();
        assert!(e.contains("row 2 (line 3), column `alarm`"), "{e}");
        let e = t.float(1, r).unwrap_err().to_string();
        assert!(
            e.contains("column `rul_s`") && e.contains("`x` is not a number"),
            "{e}"
        );
        let e = t.require("machine").unwrap_err().to_string();
        assert!(e.contains("missing column `machine`"), "{e}");
    }
}
