//! What `fio` prints: results on stdout (aligned tables, or JSON with
//! `--json`), everything else (notes, progress) on stderr.
//!
//! Writes never panic: a closed stdout (`fio ls | head`) ends the output
//! quietly, and a closed stderr drops the notes.

use std::io::Write;

use serde::Serialize;

use crate::error::{Failure, Result};

/// Rows under a header, printed with aligned columns.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&'static str]) -> Self {
        Self { headers: headers.to_vec(), rows: Vec::new() }
    }

    /// Adds a row (one cell per header).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, each line ending in `\n`.
    pub fn render(&self) -> String {
        let clean = |cell: &str| cell.replace(['\n', '\r', '\t'], " ");
        let rows: Vec<Vec<String>> = std::iter::once(self.headers.iter().map(|h| h.to_string()).collect())
            .chain(self.rows.iter().map(|row| row.iter().map(|c| clean(c)).collect()))
            .collect();
        let mut widths = vec![0; self.headers.len()];
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut text = String::new();
        for row in &rows {
            let last = row.len().saturating_sub(1);
            for (i, cell) in row.iter().enumerate() {
                text.push_str(cell);
                if i < last {
                    let pad = widths[i].saturating_sub(cell.chars().count()) + 2;
                    text.extend(std::iter::repeat_n(' ', pad));
                }
            }
            text.push('\n');
        }
        text
    }

    /// Prints the table on stdout.
    pub fn print(&self) -> Result<()> {
        out(&self.render())
    }
}

/// Writes `text` to stdout as is.
pub fn out(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::local(format!("could not write to stdout: {e}"))),
    }
}

/// Prints `value` as pretty JSON on stdout.
pub fn json(value: &impl Serialize) -> Result<()> {
    let mut text =
        serde_json::to_string_pretty(value).map_err(|e| Failure::internal(format!("could not encode JSON: {e}")))?;
    text.push('\n');
    out(&text)
}

/// A line on stderr (dropped if stderr is closed).
pub fn note(line: impl AsRef<str>) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{}", line.as_ref());
}

/// A byte count for people: `512 B`, `3.0 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `1 file`, `2 files`.
pub fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

/// A timestamp for tables: `2024-10-02 00:22`.
pub fn time(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_the_last_is_not_padded() {
        let mut table = Table::new(&["TYPE", "NAME", "ID"]);
        table.row(vec!["folder".into(), "Dailies".into(), "f-1".into()]);
        table.row(vec!["file".into(), "A001_C001.mov\n".into(), "f-22".into()]);
        assert_eq!(
            table.render(),
            "TYPE    NAME            ID\nfolder  Dailies         f-1\nfile    A001_C001.mov   f-22\n"
        );
    }

    #[test]
    fn byte_counts() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(3 * 1024 * 1024 + 17), "3.0 MiB");
        assert_eq!(bytes(u64::MAX), "16384.0 PiB");
    }
}
