//! ThreadSanitizer reports in a process's output: each `WARNING:
//! ThreadSanitizer: <kind>` block up to its `SUMMARY:` line, deduplicated
//! by the summary and counted.

use crate::run::suite::TsanWarning;

/// How many frames of a report's first stack are kept.
const FRAMES: usize = 5;

/// Every distinct report in `output`, in the order first seen.
pub fn parse(output: &str) -> Vec<TsanWarning> {
    let mut found: Vec<TsanWarning> = Vec::new();
    let mut current: Option<TsanWarning> = None;
    for line in output.lines() {
        let line = line.trim_end();
        if let Some(rest) = line.trim_start().strip_prefix("WARNING: ThreadSanitizer: ") {
            let kind = match rest.rfind(" (pid=") {
                Some(at) => &rest[..at],
                None => rest,
            };
            current =
                Some(TsanWarning { kind: kind.to_string(), summary: String::new(), frames: Vec::new(), count: 1 });
            continue;
        }
        let Some(report) = current.as_mut() else { continue };
        let trimmed = line.trim_start();
        if let Some(summary) = trimmed.strip_prefix("SUMMARY: ThreadSanitizer: ") {
            report.summary = summary.to_string();
            let report = current.take().expect("a report is open");
            match found.iter_mut().find(|f| f.summary == report.summary) {
                Some(same) => same.count += 1,
                None => found.push(report),
            }
        } else if trimmed.starts_with('#') && report.frames.len() < FRAMES && !stack_ended(report) {
            report.frames.push(frame(trimmed));
        } else if trimmed.is_empty() && !report.frames.is_empty() {
            // The first stack ends at the first blank line after it.
            report.frames.push(String::new());
        }
    }
    for report in &mut found {
        report.frames.retain(|f| !f.is_empty());
    }
    found
}

/// The reports of two streams of one process: each summary once, counted
/// as often as the stream that shows it most (a report pytest captured and
/// replayed is one report, not two).
pub fn merge(first: Vec<TsanWarning>, second: Vec<TsanWarning>) -> Vec<TsanWarning> {
    let mut out = first;
    for report in second {
        match out.iter_mut().find(|r| r.summary == report.summary) {
            Some(same) => same.count = same.count.max(report.count),
            None => out.push(report),
        }
    }
    out
}

fn stack_ended(report: &TsanWarning) -> bool {
    report.frames.last().is_some_and(String::is_empty)
}

/// `#0 worker /tmp/race.c:8 (race+0x1234)` → `#0 worker /tmp/race.c:8`.
fn frame(line: &str) -> String {
    let line = match line.rfind(" (") {
        Some(at) if line.ends_with(')') => &line[..at],
        _ => line,
    };
    line.split_whitespace().filter(|word| !(word.starts_with("0x") && word.len() > 2)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_in_both_streams_counts_once() {
        let report = |summary: &str, count| TsanWarning {
            kind: "data race".into(),
            summary: summary.into(),
            frames: Vec::new(),
            count,
        };
        let merged = merge(vec![report("a", 1), report("b", 2)], vec![report("a", 1), report("c", 1)]);
        let got: Vec<(&str, u32)> = merged.iter().map(|r| (r.summary.as_str(), r.count)).collect();
        assert_eq!(got, [("a", 1), ("b", 2), ("c", 1)]);
    }

    #[test]
    fn addresses_and_module_offsets_leave_the_frames() {
        assert_eq!(frame("#0 worker /tmp/race.c:8 (race+0x11a9)"), "#0 worker /tmp/race.c:8");
        assert_eq!(frame("#1 <null> <null> (libc.so.6+0x8a1f4)"), "#1 <null> <null>");
        assert_eq!(frame("#2 0x7f00aa in f x.c:3"), "#2 in f x.c:3");
    }
}
