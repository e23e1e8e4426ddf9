//! A run as one self-contained HTML page: nothing fetched, so it works
//! offline and on GitHub Pages. A summary with a wheel chart (one wedge per
//! package: does its latest release ship a free-threaded wheel), then one
//! row per package with a column group per interpreter. Sorting, filtering
//! and detail rows are a few lines of inline JavaScript (`assets/report.js`,
//! embedded like the style sheet `assets/report.css`); the state also
//! reads from the address's fragment (`#filter=numpy&sort=package&open=numpy`),
//! so a view can be shared. Every text from a package is escaped. Symbols go
//! with the colours, for colour-blind readers. A test run gets the same
//! page with its own columns: category, pass rate, iterations, flaky tests,
//! and who turned the GIL back on.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::batch::{ProbeSummary, Totals, summarize, wheels_text};
use super::suite::summarize as suite_summary;
use crate::model::snake;
use crate::run::suite::{Category, GilSetting};
use crate::run::{RecordedOptions, Row, RunKind, RunMeta};
use crate::runtime::PythonSummary;

/// Escapes text for HTML; control characters show as U+FFFD.
pub fn escape(text: &str) -> String {
    super::escape_markup(text, Some('\u{fffd}'))
}

/// A verdict cell: a symbol and a class that colours it.
fn verdict(text: &str) -> String {
    let (symbol, class) = match text {
        "ok" => ("✔", "good"),
        "-" | "" | "not_applicable" => ("", "none"),
        "fallback" | "compatible_gil_fallback" | "intermittent" | "tsan_warnings" | "unknown" => ("⚠", "warn"),
        "compatible" => ("✔", "good"),
        "incompatible" | "install_failure" | "import_failure" => ("✘", "bad"),
        "gil_enabled" | "import_error" | "failed" => ("✘", "bad"),
        "crash" | "deadlock" | "timeout" => ("✘", "bad"),
        // Installed, but an older release than the latest: what is probed is not what users get.
        _ if text.starts_with("ok") && text.contains(", not the latest ") => ("⚠", "warn"),
        _ if text.starts_with("ok") => ("✔", "good"),
        // A failed install with its one-line reason.
        _ if text.starts_with("failed: ") => ("✘", "bad"),
        _ => ("?", "warn"),
    };
    let shown = if text == "-" { "" } else { text };
    // A verdict's words are snake_case; a failure's reason names packages as they are.
    let words = if text.starts_with("failed: ") { shown.to_string() } else { shown.replace('_', " ") };
    format!("<td class=\"{class}\" data-sort=\"{}\">{symbol} {}</td>", escape(shown), escape(&words))
}

fn plain(text: &str) -> String {
    format!("<td data-sort=\"{0}\">{0}</td>", escape(text))
}

/// The page's style sheet.
const STYLE: &str = include_str!("assets/report.css");

/// The page's script: sorting, filtering, detail rows and the view from the address.
const SCRIPT: &str = include_str!("assets/report.js");

/// The wheel chart: one wedge per package, by what its latest release ships.
fn wheel_chart(packages: &[(&String, &Row)]) -> String {
    let total = packages.len().max(1) as f64;
    let mut out = String::from(
        "<svg role=\"img\" aria-label=\"Free-threaded wheels, one wedge per package\" viewBox=\"-110 -110 220 220\" width=\"200\" height=\"200\">",
    );
    for (index, (name, row)) in packages.iter().enumerate() {
        let class = match &row.wheels_available {
            Some(a) if a.ships_free_threaded() => "yes",
            Some(a) if a.pure => "pure",
            _ => "no",
        };
        let angle = |i: f64| (i / total) * std::f64::consts::TAU - std::f64::consts::FRAC_PI_2;
        let (a0, a1) = (angle(index as f64), angle(index as f64 + 1.0));
        let large = if a1 - a0 > std::f64::consts::PI { 1 } else { 0 };
        let (x0, y0, x1, y1) = (100.0 * a0.cos(), 100.0 * a0.sin(), 100.0 * a1.cos(), 100.0 * a1.sin());
        if packages.len() == 1 {
            write!(out, "<circle class=\"{class}\" r=\"100\"><title>{}</title></circle>", escape(name)).ok();
        } else {
            write!(
                out,
                "<path class=\"{class}\" d=\"M0,0 L{x0:.2},{y0:.2} A100,100 0 {large} 1 {x1:.2},{y1:.2} Z\"><title>{}: {}</title></path>",
                escape(name),
                escape(&wheels_text(row))
            )
            .ok();
        }
    }
    out.push_str("<circle r=\"45\" fill=\"var(--bg)\"/></svg>");
    out
}

/// What a run kind puts on the page; the rest is the same for every kind.
struct PageParts {
    /// The window's title.
    title: String,
    heading: &'static str,
    /// How each unit ran, for the line under the heading (`probed`).
    how: String,
    /// The summary block: counts, a chart for a batch run, the legend.
    summary: String,
    /// The columns before the interpreters' groups (key, title).
    leading: &'static [(&'static str, &'static str)],
    /// Each interpreter's group of columns (key, title).
    per_python: &'static [(&'static str, &'static str)],
    /// A package's cells after its name, from its rows on every interpreter.
    leading_cells: fn(&BTreeMap<String, &Row>) -> String,
    /// A unit's cells in its interpreter's group.
    cells: fn(&mut String, &Row),
    /// A unit's block in its package's detail row.
    details: fn(&mut String, &str, &Row),
}

/// Renders the page: one table of packages by interpreter, with the parts
/// its run kind chooses.
pub fn page(meta: &RunMeta, rows: &[Row]) -> String {
    let (pythons, by_package) = group(meta, rows);
    let parts = match meta.kind {
        RunKind::Batch => batch_parts(rows, &by_package),
        RunKind::Test => test_parts(meta, rows, by_package.len()),
    };
    let mut html = head(&parts.title);
    html.push_str(&heading(parts.heading, meta, by_package.len(), &pythons, &parts.how));
    html.push_str(&parts.summary);
    html.push_str(FILTER);
    html.push_str(&table_head(parts.leading, &pythons, parts.per_python));
    let columns = parts.leading.len() + parts.per_python.len() * pythons.len();
    for (package, per_python) in &by_package {
        html.push_str(&package_row_start(package));
        html.push_str(&(parts.leading_cells)(per_python));
        for python in &pythons {
            match per_python.get(python) {
                Some(row) => (parts.cells)(&mut html, row),
                None => html.push_str(&"<td></td>".repeat(parts.per_python.len())),
            }
        }
        html.push_str("</tr>\n");
        html.push_str(&detail_row(package, columns, &pythons, per_python, parts.details));
    }
    html.push_str(&foot());
    html
}

/// A batch run's parts: what each package's latest release ships (the
/// chart and a column), then per interpreter the install, each probe, the
/// fallbacks and the static verdicts.
fn batch_parts(rows: &[Row], by_package: &ByPackage<'_>) -> PageParts {
    let firsts: Vec<(&String, &Row)> =
        by_package.iter().filter_map(|(name, rows)| rows.values().next().map(|r| (*name, *r))).collect();
    let totals = Totals::of(rows);
    let shipping =
        firsts.iter().filter(|(_, r)| r.wheels_available.as_ref().is_some_and(|a| a.ships_free_threaded())).count();
    let compiled = firsts.iter().filter(|(_, r)| r.wheels_available.as_ref().is_some_and(|a| !a.pure)).count();
    let mut summary = String::from("<div class=\"summary\">");
    summary.push_str(&wheel_chart(&firsts));
    let shown = [
        (format!("{} / {}", totals.installed, totals.units), "installed (package × interpreter)"),
        (
            format!("{} / {}", totals.gil_off, totals.free_threaded_installed),
            "kept the GIL off on a free-threaded build",
        ),
        (format!("{} / {}", totals.isolated, totals.units), "loaded in an isolated subinterpreter"),
        (format!("{shipping} / {compiled}"), "ship a free-threaded wheel (of those with compiled wheels)"),
    ]
    .map(|(n, t)| (n, t.to_string()));
    numbers(&mut summary, &shown);
    summary.push_str(
        "<div class=\"legend muted\"><span>✔ works</span><span>⚠ works, with a fallback</span><span>✘ fails</span>\
                   <br><span>wheel: green ships free-threaded, red does not, grey pure Python</span></div></div>\n",
    );
    PageParts {
        title: format!("ftprobe: {} packages", by_package.len()),
        heading: "Free-threading and subinterpreter readiness",
        how: "probed".into(),
        summary,
        leading: &[("package", "package"), ("version", "latest"), ("wheels", "free-threaded wheels")],
        per_python: &[
            ("install", "installs"),
            ("gil", "GIL off"),
            ("isolated", "isolated"),
            ("legacy", "legacy"),
            ("fallbacks", "fallbacks"),
            ("static", "static"),
            ("generator", "generator"),
        ],
        leading_cells: |per_python| {
            let any = per_python.values().next().copied();
            // The latest release the index offers; what each interpreter got is in its "installs" cell.
            let latest = any.and_then(|r| r.wheels_available.as_ref()).and_then(|a| a.version.clone());
            let version = latest.or_else(|| per_python.values().find_map(|r| r.version.clone())).unwrap_or_default();
            let wheels = any.map(wheels_text).unwrap_or_default();
            plain(&version) + &plain(&wheels)
        },
        cells: |html, row| cells(html, &summarize(row), row.python.free_threaded),
        details,
    }
}

/// A test run's parts: the count of each category, then per interpreter
/// the category, pass rate, iterations, flaky tests and who turned the GIL
/// back on.
fn test_parts(meta: &RunMeta, rows: &[Row], packages: usize) -> PageParts {
    let iterations = match &meta.options {
        RecordedOptions::Test(test) => test.iterations.to_string(),
        RecordedOptions::Unread(map) => map.get("iterations").cloned().unwrap_or_else(|| "?".into()),
        RecordedOptions::Batch(_) => "?".into(),
    };
    let counts = super::suite::counts_by_category(rows);
    let mut summary = String::from("<div class=\"summary\">");
    let shown: Vec<(String, String)> = Category::ORDER
        .iter()
        .filter_map(|c| counts.get(c).map(|n| (format!("{n} / {}", rows.len()), snake(c).replace('_', " "))))
        .collect();
    numbers(&mut summary, &shown);
    summary.push_str(
        "<div class=\"legend muted\"><span>✔ passes with the GIL off</span><span>⚠ passes with a fallback, \
                   or sometimes fails</span><span>✘ fails, crashes or hangs</span></div></div>\n",
    );
    PageParts {
        title: format!("ftprobe test: {packages} packages"),
        heading: "Test suites on free-threaded CPython",
        how: format!("tested {iterations} times each"),
        summary,
        leading: &[("package", "package"), ("version", "version")],
        per_python: &[
            ("category", "category"),
            ("pass_rate", "pass rate"),
            ("iterations", "iterations"),
            ("flaky", "flaky tests"),
            ("gil", "GIL re-enabled by"),
        ],
        leading_cells: |per_python| plain(&per_python.values().find_map(|r| r.version.clone()).unwrap_or_default()),
        cells: suite_cells,
        details: suite_details,
    }
}

/// A test unit's cells: category, pass rate, iterations, flaky tests, GIL culprits.
fn suite_cells(html: &mut String, row: &Row) {
    let summary = suite_summary(row);
    html.push_str(&verdict(&summary.category).replacen("<td class=\"", "<td class=\"first ", 1));
    let rate = row.suite.as_ref().filter(|s| !s.iterations.is_empty()).map(|s| s.pass_rate);
    write!(
        html,
        "<td data-sort=\"{}\">{}</td>",
        rate.map(|r| format!("{:05.1}", r * 100.0)).unwrap_or_default(),
        escape(&summary.pass_rate)
    )
    .ok();
    html.push_str(&plain(&summary.iterations));
    html.push_str(&plain(&summary.flaky));
    html.push_str(&plain(&summary.gil));
}

/// Interpreters in the order the run lists them, and each package's rows
/// (by name) keyed by interpreter label.
type ByPackage<'a> = BTreeMap<&'a String, BTreeMap<String, &'a Row>>;

fn group<'a>(meta: &RunMeta, rows: &'a [Row]) -> (Vec<String>, ByPackage<'a>) {
    let pythons = meta.interpreters.iter().map(PythonSummary::label).collect();
    let mut by_package: ByPackage = BTreeMap::new();
    for row in rows {
        by_package.entry(&row.package).or_default().insert(row.python.label(), row);
    }
    (pythons, by_package)
}

/// A package's row up to its name cell (the row that opens its details).
fn package_row_start(package: &str) -> String {
    format!("<tr class=\"package\" data-package=\"{0}\"><td data-sort=\"{0}\"><b>{0}</b></td>", escape(package))
}

/// The page's start, with its style.
fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style></head><body>\n",
        escape(title)
    )
}

const FILTER: &str = "<input id=\"filter\" type=\"search\" placeholder=\"Filter: type package names or words\" aria-label=\"Filter\"> \
                      <span class=\"muted\"><span id=\"shown\"></span> shown</span>\n";

/// The title and the line under it: what ran, on what, by which ftprobe, when.
fn heading(title: &str, meta: &RunMeta, packages: usize, pythons: &[String], how: &str) -> String {
    format!(
        "<h1>{}</h1>\n<p class=\"muted\">{packages} packages × {} interpreter(s) ({}), {} by ftprobe {} from {} to {}{}.</p>\n",
        escape(title),
        pythons.len(),
        escape(&pythons.join(", ")),
        escape(how),
        escape(&meta.ftprobe_version),
        escape(&meta.started),
        escape(meta.ended.as_deref().unwrap_or("?")),
        if meta.completed { "" } else { " <strong>(incomplete run)</strong>" }
    )
}

/// The table's head: the `leading` columns (key, title), then a group of
/// `per_python` columns for each interpreter.
fn table_head(leading: &[(&str, &str)], pythons: &[String], per_python: &[(&str, &str)]) -> String {
    let mut html = format!("<table id=\"results\"><thead><tr class=\"groups\"><th colspan=\"{}\"></th>", leading.len());
    for python in pythons {
        write!(html, "<th colspan=\"{}\">{}</th>", per_python.len(), escape(python)).ok();
    }
    html.push_str("</tr><tr class=\"columns\">");
    for (key, title) in leading {
        write!(html, "<th data-key=\"{key}\">{title}</th>").ok();
    }
    for python in pythons {
        for (index, (key, title)) in per_python.iter().enumerate() {
            let first = if index == 0 { " class=\"first\"" } else { "" };
            write!(html, "<th{first} data-key=\"{}-{key}\">{title}</th>", escape(python)).ok();
        }
    }
    html.push_str("</tr></thead><tbody>\n");
    html
}

/// A package's hidden detail row: `render` for each interpreter it ran on.
fn detail_row(
    package: &str,
    columns: usize,
    pythons: &[String],
    per_python: &BTreeMap<String, &Row>,
    render: fn(&mut String, &str, &Row),
) -> String {
    let mut html =
        format!("<tr class=\"details\" id=\"details-{}\" hidden><td colspan=\"{columns}\">", escape(package));
    for python in pythons {
        if let Some(row) = per_python.get(python) {
            render(&mut html, python, row);
        }
    }
    html.push_str("</td></tr>\n");
    html
}

/// The table's end, the help line and the script.
fn foot() -> String {
    format!(
        "</tbody></table>\n<p class=\"muted\">Click a row for its details. Sort by clicking a column. \
         The page's address can hold a view: <code>#filter=numpy&amp;sort=package:desc&amp;open=numpy</code>.</p>\n\
         <script>\n{SCRIPT}</script>\n</body></html>\n"
    )
}

/// The numbers beside the chart (or alone): (number, what it counts).
fn numbers(html: &mut String, numbers: &[(String, String)]) {
    html.push_str("<div class=\"numbers\">");
    for (number, text) in numbers {
        write!(html, "<b>{}</b><span>{}</span>", escape(number), escape(text)).ok();
    }
    html.push_str("</div>");
}

/// The evidence of one unit: source, command, why, every iteration, the
/// flaky tests, the GIL comparison, and the output of the first failure.
fn suite_details(html: &mut String, python: &str, row: &Row) {
    let Some(suite) = &row.suite else {
        write!(html, "<p><b>{}</b>: interrupted before it ran</p>", escape(python)).ok();
        return;
    };
    write!(
        html,
        "<p><b>{}</b>: <b>{}</b>: {}</p><p>{} {} {}; installed {} ({}){}</p>",
        escape(python),
        escape(&snake(&suite.category)),
        escape(&suite.reason),
        escape(suite.source.kind.as_str()),
        escape(&suite.source.location),
        escape(suite.source.revision.as_deref().unwrap_or("")),
        escape(row.version.as_deref().unwrap_or("-")),
        escape(&crate::report::suite::installed_build(row)),
        if suite.test_command.is_empty() {
            String::new()
        } else {
            format!("; ran <code>{}</code>", escape(&suite.test_command.join(" ")))
        }
    )
    .ok();
    let compared = suite.gil_comparison.iter().flat_map(|c| &c.iterations);
    html.push_str("<pre>");
    for iteration in suite.iterations.iter().chain(compared) {
        let gil = match iteration.gil_setting {
            GilSetting::On => " PYTHON_GIL=1",
            GilSetting::Off => " PYTHON_GIL=0",
            GilSetting::Unset => "",
        };
        write!(
            html,
            "#{}{gil}: {} in {:.1} s, {} passed, {} failed, {} errors, {} skipped",
            iteration.number,
            escape(&snake(&iteration.status)),
            iteration.seconds,
            iteration.tests.passed,
            iteration.tests.failed,
            iteration.tests.error,
            iteration.tests.skipped
        )
        .ok();
        if let Some(signature) = iteration.crash_signature.as_ref().or(iteration.signal.as_ref()) {
            write!(html, "; {}", escape(signature)).ok();
        }
        if let Some(test) = &iteration.running_test {
            write!(html, "; during {}", escape(test)).ok();
        }
        if !iteration.failed_tests.is_empty() {
            write!(html, "; failed: {}", escape(&iteration.failed_tests.join(", "))).ok();
        }
        if let Some(gil) =
            iteration.gil.as_ref().filter(|g| g.at_end == Some(true) && iteration.gil_setting == GilSetting::Unset)
        {
            let by: Vec<String> = gil
                .culprits
                .iter()
                .map(|c| format!("{} ({})", c.module, c.verdict.map_or("?".into(), |v| snake(&v)).replace('_', " ")))
                .collect();
            write!(
                html,
                "; GIL re-enabled during {} by {}",
                escape(gil.enabled_during.as_deref().unwrap_or("?")),
                escape(&by.join(", "))
            )
            .ok();
        }
        for warning in &iteration.tsan {
            write!(html, "; TSAN {}× {}", warning.count, escape(&warning.summary)).ok();
        }
        html.push('\n');
    }
    html.push_str("</pre>");
    if !suite.flaky_tests.is_empty() {
        let flaky: Vec<String> =
            suite.flaky_tests.iter().map(|f| format!("{} ({}/{})", f.test, f.failed, f.of)).collect();
        write!(html, "<p>flaky: {}</p>", escape(&flaky.join(", "))).ok();
    }
    if let Some(comparison) = &suite.gil_comparison {
        write!(
            html,
            "<p>with PYTHON_GIL=1: {:.0}% pass; free-threading-specific: {}; pre-existing: {}</p>",
            comparison.pass_rate * 100.0,
            escape(&none_if_empty(&comparison.free_threading_specific)),
            escape(&none_if_empty(&comparison.pre_existing))
        )
        .ok();
    }
    let failed = suite.iterations.iter().find_map(|i| i.output_tail.as_ref());
    if let Some(tail) = failed.or(row.install.error.as_ref()) {
        write!(html, "<details><summary>output</summary><pre>{}</pre></details>", escape(&tail_lines(tail, 40))).ok();
    }
}

fn none_if_empty(list: &[String]) -> String {
    if list.is_empty() { "none".into() } else { list.join(", ") }
}

/// The last `count` lines of `text`.
fn tail_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

fn cells(html: &mut String, summary: &ProbeSummary, free_threaded: bool) {
    let install = verdict(&summary.install);
    html.push_str(&install.replacen("<td class=\"", "<td class=\"first ", 1));
    let gil = if free_threaded {
        let mut cell = verdict(&summary.gil);
        if !summary.culprits.is_empty() {
            cell = cell.replacen(
                "</td>",
                &format!(" <span class=\"muted\">({})</span></td>", escape(&summary.culprits.join(", "))),
                1,
            );
        }
        cell
    } else {
        "<td class=\"none muted\" data-sort=\"\">n/a</td>".to_string()
    };
    html.push_str(&gil);
    html.push_str(&verdict(&summary.isolated));
    html.push_str(&verdict(&summary.legacy));
    html.push_str(&plain(&summary.fallbacks.join(", ")));
    html.push_str(&plain(&summary.static_verdicts));
    html.push_str(&plain(&summary.generators));
}

/// The detail block of one package on one interpreter: the install, each
/// probe's error and hints, each extension's static verdict.
fn details(html: &mut String, python: &str, row: &Row) {
    write!(html, "<p><b>{}</b>: {} in {:.1} s", escape(python), escape(&row.requirement), row.seconds).ok();
    if !row.import_names.is_empty() {
        write!(html, "; import names <code>{}</code>", escape(&row.import_names.join(" "))).ok();
    }
    if !row.install.wheel_tags.is_empty() {
        write!(html, "; wheel tags <code>{}</code>", escape(&row.install.wheel_tags.join(" "))).ok();
    }
    html.push_str("</p>");
    if row.install.status == crate::run::InstallStatus::Failed {
        write!(html, "<p>install failed: {}</p>", escape(&row.install.failure_line())).ok();
    }
    if let Some(error) = &row.install.error {
        write!(html, "<pre>install: {}</pre>", escape(error)).ok();
    }
    for probe in &row.probes {
        let name = match probe.config {
            Some(config) => format!("{} ({})", crate::model::snake(&probe.probe), crate::model::snake(&config)),
            None => crate::model::snake(&probe.probe),
        };
        // A fallback's error is its fallbacks, said below; a probe that does
        // not apply (the GIL probe on a default build) says nothing.
        let said = probe.status == crate::runtime::Status::NotApplicable || !probe.fallbacks.is_empty();
        if let Some(error) = probe.error.as_ref().filter(|_| !said) {
            write!(html, "<pre>{} of {}: {}</pre>", escape(&name), escape(&probe.module), escape(error)).ok();
        }
        for fallback in &probe.fallbacks {
            write!(
                html,
                "<pre>{}: {} fell back: {}</pre>",
                escape(&name),
                escape(&fallback.module),
                escape(&fallback.error)
            )
            .ok();
        }
        for extension in probe.extensions.iter().filter_map(|e| e.fix.as_ref().map(|f| (e, f))) {
            write!(html, "<pre>{} needs the GIL; fix: {}</pre>", escape(&extension.0.module), escape(extension.1)).ok();
        }
    }
    if !row.extensions.is_empty() {
        html.push_str("<pre>");
        for extension in &row.extensions {
            writeln!(
                html,
                "{}: GIL {}, subinterpreters {}{}",
                escape(extension.import_name.as_deref().unwrap_or(&extension.file)),
                escape(&extension.gil.map_or("?".into(), |v| snake(&v))),
                escape(&extension.subinterpreters.map_or("?".into(), |v| snake(&v))),
                extension.generator.map(|g| format!(" ({})", escape(&snake(&g)))).unwrap_or_default()
            )
            .ok();
        }
        html.push_str("</pre>");
    }
    if let Some(error) = &row.wheels_available_error {
        write!(html, "<pre>wheels: {}</pre>", escape(error)).ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_packages_is_escaped() {
        assert_eq!(
            escape("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
        assert_eq!(escape("a\u{1b}[31mb"), "a\u{fffd}[31mb");
    }
}
