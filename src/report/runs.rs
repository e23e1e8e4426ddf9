//! A run directory's report, whatever its kind: one [`Summary`] per row
//! (package, version, interpreter, then the kind's own columns), the grid
//! that tables, Markdown and CSV print, the totals line, and the line the
//! progress output shows as a unit ends. What differs between `batch` and
//! `test` is chosen from [`RunKind`] here; the HTML page (`html.rs`) takes
//! its parts the same way.

use super::batch::{self, ProbeSummary};
use super::grid::Grid;
use super::suite::{self, SuiteSummary};
use crate::run::{Row, RunKind, RunMeta};

/// One row, reduced to the columns every format shows.
pub struct Summary {
    pub package: String,
    pub version: String,
    pub python: String,
    pub own: KindColumns,
}

/// The columns a run kind adds.
pub enum KindColumns {
    Batch(ProbeSummary),
    Test(SuiteSummary),
}

impl Summary {
    pub fn of(kind: RunKind, row: &Row) -> Summary {
        Summary {
            package: row.package.clone(),
            version: row.version.clone().unwrap_or_else(|| "-".into()),
            python: row.python.label(),
            own: match kind {
                RunKind::Batch => KindColumns::Batch(batch::summarize(row)),
                RunKind::Test => KindColumns::Test(suite::summarize(row)),
            },
        }
    }

    pub fn cells(&self) -> Vec<String> {
        let mut cells = vec![self.package.clone(), self.version.clone(), self.python.clone()];
        match &self.own {
            KindColumns::Batch(own) => cells.extend(own.cells()),
            KindColumns::Test(own) => cells.extend(own.cells()),
        }
        cells
    }
}

/// The headers of [`Summary::cells`] for a run kind.
pub fn headers(kind: RunKind) -> Vec<&'static str> {
    let own: &[&str] = match kind {
        RunKind::Batch => &batch::HEADERS,
        RunKind::Test => &suite::HEADERS,
    };
    ["package", "version", "python"].iter().chain(own).copied().collect()
}

/// What the rows add up to, in one line (the Markdown header, the table's last line).
pub fn totals(kind: RunKind, rows: &[Row]) -> String {
    match kind {
        RunKind::Batch => batch::totals(rows),
        RunKind::Test => format!("{} units: {}", rows.len(), suite::category_counts(rows)),
    }
}

/// The title of a run's report (`ftprobe batch`).
pub fn title(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Batch => "ftprobe batch",
        RunKind::Test => "ftprobe test",
    }
}

/// The rows in the order every format lists them: by package, then
/// interpreter (a batch run orders interpreters by version and build).
fn sorted(kind: RunKind, rows: &[Row]) -> Vec<&Row> {
    let mut rows: Vec<&Row> = rows.iter().collect();
    match kind {
        RunKind::Batch => rows.sort_by(|a, b| {
            (&a.package, &a.python.version, a.python.free_threaded).cmp(&(
                &b.package,
                &b.python.version,
                b.python.free_threaded,
            ))
        }),
        RunKind::Test => rows.sort_by(|a, b| (&a.package, a.python.label()).cmp(&(&b.package, b.python.label()))),
    }
    rows
}

/// The rows as a grid, for the table, Markdown and CSV.
pub fn grid(meta: &RunMeta, rows: &[Row]) -> Grid {
    let cells = sorted(meta.kind, rows).into_iter().map(|row| Summary::of(meta.kind, row).cells()).collect();
    Grid::new(headers(meta.kind), cells, totals(meta.kind, rows), meta.completed)
}

/// One line for the progress output as a unit ends.
pub fn unit_line(kind: RunKind, row: &Row) -> String {
    match kind {
        RunKind::Batch => batch::unit_summary(row),
        RunKind::Test => suite::unit_summary(row),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_cell_under_each_header() {
        let python = crate::runtime::PythonSummary {
            version: "3.13.5".into(),
            free_threaded: true,
            executable: "/p/python3".into(),
        };
        let row = Row::new("numpy", "numpy", python);
        for kind in [RunKind::Batch, RunKind::Test] {
            let cells = Summary::of(kind, &row).cells();
            assert_eq!(cells.len(), headers(kind).len(), "{kind:?}");
            assert_eq!(cells[..3], ["numpy", "-", "3.13.5t"], "{kind:?}");
        }
        assert_eq!(headers(RunKind::Batch)[3], "install");
        assert_eq!(headers(RunKind::Test)[3], "source");
    }
}
