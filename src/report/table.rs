//! A plain text table: left-aligned columns separated by two spaces. Cells
//! often hold names from untrusted wheels, so every cell's control
//! characters are escaped here; colour is added by the table, after that.

use crate::printer::{Color, Printer};

/// One cell: text, and the colour it is shown in on a terminal.
#[derive(Debug, Default, Clone)]
pub struct Cell {
    text: String,
    color: Option<Color>,
}

impl Cell {
    pub fn painted(text: impl Into<String>, color: Color) -> Self {
        Cell { text: text.into(), color: Some(color) }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell { text, color: None }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell { text: text.to_string(), color: None }
    }
}

/// Rows of cells under a header; renders with columns padded to their widest cell.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(headers: I) -> Self {
        Table { headers: headers.into_iter().map(Into::into).collect(), rows: Vec::new() }
    }

    /// Adds a row; missing cells are blank, extra cells are dropped.
    pub fn push<I: IntoIterator<Item = C>, C: Into<Cell>>(&mut self, cells: I) {
        let mut row: Vec<Cell> = cells
            .into_iter()
            .map(|c| {
                let mut cell = c.into();
                cell.text = super::escape_controls(&cell.text);
                cell
            })
            .collect();
        row.resize(self.headers.len(), Cell::default());
        self.rows.push(row);
    }

    pub fn render(&self, printer: &Printer) -> String {
        let header: Vec<Cell> = self.headers.iter().map(|h| Cell::from(h.as_str())).collect();
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|c| {
                std::iter::once(&header[c])
                    .chain(self.rows.iter().map(|r| &r[c]))
                    .map(|cell| cell.text.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (cell, width) in row.iter().zip(&widths) {
                match cell.color {
                    Some(color) => line.push_str(&printer.paint(&cell.text, color)),
                    None => line.push_str(&cell.text),
                }
                line.extend(std::iter::repeat_n(' ', width - cell.text.chars().count() + 2));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_columns_to_the_widest_cell() {
        let mut t = Table::new(["A", "LONG"]);
        t.push(["xyz", "1"]);
        t.push(["q"]);
        assert_eq!(t.render(&Printer::plain()), "A    LONG\nxyz  1\nq\n");
    }

    #[test]
    fn escapes_control_characters_in_cells() {
        let mut t = Table::new(["NAME"]);
        t.push(["evil\x1b[2J\r\nfake\0"]);
        assert_eq!(t.render(&Printer::plain()), "NAME\nevil\\x1b[2J\\r\\nfake\\0\n");
    }
}
