//! Running a child process with a deadline and bounded output capture.
//!
//! Every child gets its own process group, so a timeout kills the child and
//! anything it started. Output beyond a cap keeps only its tail, so a child
//! that floods stdout cannot exhaust memory. This module does not interpret
//! what the child printed.

use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How much of each stream is kept (the tail, when a child prints more).
pub const OUTPUT_CAP: usize = 4 << 20;

/// What a finished (or killed) child left behind.
#[derive(Debug)]
pub struct Captured {
    /// Exit status; after a timeout, the status of the killed child.
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The deadline passed and the process group was killed.
    pub timed_out: bool,
    pub elapsed: Duration,
}

impl Captured {
    /// The signal that ended the child, if one did.
    pub fn signal(&self) -> Option<i32> {
        self.status.signal()
    }

    /// The last `max` bytes of stderr as text, trimmed.
    pub fn stderr_tail(&self, max: usize) -> String {
        tail_text(&self.stderr, max)
    }
}

/// The last `max` bytes of `bytes` as lossy UTF-8, trimmed of surrounding white space.
pub fn tail_text(bytes: &[u8], max: usize) -> String {
    let start = bytes.len().saturating_sub(max);
    String::from_utf8_lossy(&bytes[start..]).trim().to_string()
}

/// Human name of a signal number, e.g. `SIGSEGV`.
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGPIPE => "SIGPIPE",
        _ => return format!("signal {signal}"),
    };
    name.to_string()
}

/// Runs `command` with stdin closed, capturing stdout and stderr, and kills
/// its whole process group if it is still running after `timeout`.
pub fn run_with_timeout(command: &mut Command, timeout: Duration) -> io::Result<Captured> {
    let started = Instant::now();
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    let mut child = command.spawn()?;
    let pid = child.id() as libc::pid_t;
    let stdout = spawn_reader(child.stdout.take());
    let stderr = spawn_reader(child.stderr.take());

    let (done_tx, done_rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let status = child.wait();
        let _ = done_tx.send(());
        status
    });
    let timed_out = done_rx.recv_timeout(timeout).is_err();
    // Kill the group even after a normal exit: grandchildren that kept our
    // pipes open would otherwise keep the readers waiting.
    kill_group(pid);
    let status = waiter.join().map_err(|_| io::Error::other("the thread waiting for the child panicked"))??;
    let grace = Duration::from_secs(2);
    Ok(Captured {
        status,
        stdout: collect(stdout, grace),
        stderr: collect(stderr, grace),
        timed_out,
        elapsed: started.elapsed(),
    })
}

/// Sends SIGKILL to the process group led by `pid`.
fn kill_group(pid: libc::pid_t) {
    // SAFETY: killpg only sends a signal; a group that no longer exists gives ESRCH.
    unsafe {
        libc::killpg(pid, libc::SIGKILL);
    }
}

type Reader = mpsc::Receiver<Vec<u8>>;

fn spawn_reader<R: Read + Send + 'static>(stream: Option<R>) -> Reader {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut kept = Vec::new();
        if let Some(mut stream) = stream {
            let mut buf = [0u8; 64 * 1024];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > 2 * OUTPUT_CAP {
                    kept.drain(..kept.len() - OUTPUT_CAP);
                }
            }
        }
        if kept.len() > OUTPUT_CAP {
            kept.drain(..kept.len() - OUTPUT_CAP);
        }
        let _ = tx.send(kept);
    });
    rx
}

fn collect(reader: Reader, grace: Duration) -> Vec<u8> {
    reader.recv_timeout(grace).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_status() {
        let got = run_with_timeout(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(got.stdout, b"out\n");
        assert_eq!(got.stderr_tail(100), "err");
        assert_eq!(got.status.code(), Some(3));
        assert!(!got.timed_out);
    }

    #[test]
    fn kills_the_whole_group_on_timeout() {
        // The grandchild `sleep` holds stdout open; only a group kill ends it.
        let got = run_with_timeout(Command::new("sh").args(["-c", "sleep 30 & sleep 30"]), Duration::from_millis(300))
            .unwrap();
        assert!(got.timed_out);
        assert_eq!(got.signal(), Some(libc::SIGKILL));
        assert!(got.elapsed < Duration::from_secs(10), "took {:?}", got.elapsed);
    }

    #[test]
    fn reports_the_signal_of_a_crash() {
        let got = run_with_timeout(Command::new("sh").args(["-c", "kill -SEGV $$"]), Duration::from_secs(10)).unwrap();
        assert_eq!(got.signal().map(signal_name).as_deref(), Some("SIGSEGV"));
    }

    #[test]
    fn keeps_only_the_tail_of_a_flood() {
        let got = run_with_timeout(
            Command::new("sh").args(["-c", "head -c 20000000 /dev/zero; echo END"]),
            Duration::from_secs(30),
        )
        .unwrap();
        assert!(got.stdout.len() <= OUTPUT_CAP);
        assert!(got.stdout.ends_with(b"END\n"));
    }
}
