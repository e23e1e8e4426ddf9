//! A run's rows as a grid of text cells, rendered as a terminal table,
//! Markdown or CSV: what `ftprobe report` does for batch and test runs alike
//! (each kind decides its columns, this decides the formats).

use crate::printer::Printer;

/// Column headers (snake_case), one row of cells per unit, and a closing line.
pub struct Grid {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    pub closing: String,
}

impl Grid {
    /// A grid whose closing line says when the run is incomplete.
    pub fn new(headers: Vec<&'static str>, rows: Vec<Vec<String>>, totals: String, completed: bool) -> Grid {
        let mut closing = totals;
        if !completed {
            closing.push_str(" (the run is incomplete: resume it with --resume)");
        }
        Grid { headers, rows, closing }
    }

    pub fn table(&self, printer: &Printer) -> String {
        let mut table = super::table::Table::new(self.headers.iter().map(|h| h.to_uppercase()));
        for row in &self.rows {
            table.push(row.iter().map(|c| super::escape_controls(c)));
        }
        format!("{}\n{}\n", table.render(printer), self.closing)
    }

    /// Under a `## title` heading, with the closing line first.
    pub fn markdown(&self, title: &str) -> String {
        let escape = |text: &str| super::escape_controls(text).replace('|', "\\|");
        let mut out = format!("## {title}\n\n{}\n\n", self.closing);
        out.push_str(&format!("| {} |\n|{}\n", self.headers.join(" | "), "---|".repeat(self.headers.len())));
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| escape(c)).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }

    /// RFC 4180: fields quoted where they hold a comma, a quote or a line break.
    pub fn csv(&self) -> String {
        let field = |text: &str| {
            if text.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", text.replace('"', "\"\""))
            } else {
                text.to_string()
            }
        };
        let mut out = self.headers.join(",") + "\n";
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| field(c)).collect();
            out.push_str(&(cells.join(",") + "\n"));
        }
        out
    }
}
