//! A crash's signature from what faulthandler printed (`PYTHONFAULTHANDLER=1`):
//! the fatal error and the top frames of the thread that crashed, without
//! addresses, thread ids or line numbers, so that the same race crashing at
//! a slightly different moment still groups as one.

/// How many frames of the crashing thread the signature names.
const FRAMES: usize = 3;

/// `Segmentation fault: bump (test_crash.py) < worker (test_crash.py)`, or
/// the fatal error alone when the crashing thread's frames were not printed
/// (none, or the dump was cut short by a second crash).
pub fn signature(stderr: &str) -> Option<String> {
    let error = stderr.lines().find_map(|l| l.trim().strip_prefix("Fatal Python error: ")).map(|e| {
        // `Segmentation fault` / `Aborted` / `_PyMem_DebugRawFree: bad ID: ...`
        e.trim().to_string()
    });
    let lines: Vec<&str> = stderr.lines().collect();
    let start = lines.iter().position(|l| l.trim_start().starts_with("Current thread "));
    let frames: Vec<String> = match start {
        Some(start) => lines[start + 1..]
            .iter()
            .map(|l| l.trim())
            .take_while(|l| l.starts_with("File \""))
            .filter_map(frame)
            .take(FRAMES)
            .collect(),
        None => Vec::new(),
    };
    let error = error.or_else(|| {
        stderr.lines().map(str::trim).find(|l| l.contains("Assertion") && l.contains("failed")).map(|l| {
            let l = l.split(": ").skip_while(|p| !p.starts_with("Assertion")).collect::<Vec<_>>().join(": ");
            crate::testrun::junit::mask(&l)
        })
    })?;
    if frames.is_empty() {
        return Some(error);
    }
    Some(format!("{error}: {}", frames.join(" < ")))
}

/// `File "/x/tests/test_crash.py", line 12 in worker` → `worker (test_crash.py)`.
fn frame(line: &str) -> Option<String> {
    let rest = line.strip_prefix("File \"")?;
    let (path, rest) = rest.split_once('"')?;
    let function = rest.rsplit_once(" in ").map(|(_, f)| f.trim())?;
    let file = path.rsplit('/').next().unwrap_or(path);
    Some(format!("{function} ({file})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crashing_threads_frames_name_it() {
        let stderr = "Fatal Python error: Segmentation fault\n\n\
            Thread 0x00007f5e2d7fe6c0 (most recent call first):\n  File \"/s/tests/test_crash.py\", line 9 in other\n\n\
            Current thread 0x00007f5e2dfff6c0 (most recent call first):\n\
              File \"/s/tests/test_crash.py\", line 12 in worker\n\
              File \"/usr/lib/python3.13t/threading.py\", line 992 in run\n\
              File \"/usr/lib/python3.13t/threading.py\", line 1041 in _bootstrap_inner\n\
              File \"/usr/lib/python3.13t/threading.py\", line 1012 in _bootstrap\n\n\
            Extension modules: crashy._scratch (total: 1)\n";
        assert_eq!(
            signature(stderr).as_deref(),
            Some("Segmentation fault: worker (test_crash.py) < run (threading.py) < _bootstrap_inner (threading.py)")
        );
        assert_eq!(signature("Fatal Python error: Aborted\n").as_deref(), Some("Aborted"));
        // A second thread crashing while faulthandler dumps kills the process
        // mid-dump: no thread is known to be the crashing one.
        let cut = "Fatal Python error: Segmentation fault\n\nThread 0x00007f530d9fc6c0 (most recent call first):\n  File \"/s/tests/test_fill.py\"";
        assert_eq!(signature(cut).as_deref(), Some("Segmentation fault"));
        assert_eq!(signature("all fine\n"), None);
    }
}
