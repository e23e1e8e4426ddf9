//! Running a child process with a deadline and bounded output capture.
//!
//! Every child gets its own process group, so a timeout kills the child and
//! anything it started. Output beyond a cap keeps only its tail, so a child
//! that floods stdout cannot exhaust memory. This module does not interpret
//! what the child printed.

use std::io::{self, BufRead, BufReader, Read};
#[cfg(unix)]
use std::os::unix::process::{CommandExt, ExitStatusExt};
#[cfg(windows)]
use std::os::windows::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// How much of each stream is kept (the tail, when a child prints more).
pub const OUTPUT_CAP: usize = 4 << 20;

/// The longest stderr line read in one piece.
const LINE_CAP: u64 = 64 << 10;

/// What a finished (or killed) child left behind.
#[derive(Debug)]
pub struct Captured {
    /// Exit status; after a timeout, the status of the killed child.
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The deadline passed and the process group was killed.
    pub timed_out: bool,
    /// It was killed for printing nothing for the stall period.
    pub stalled: bool,
    /// It was killed because ftprobe was interrupted (Ctrl-C, SIGTERM).
    pub interrupted: bool,
    /// stderr lines that contained [`Limits::collect`] (all of them, not only the tail).
    pub collected: Vec<String>,
    pub elapsed: Duration,
}

/// How long a child may run and what to pick out of its stderr.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub timeout: Duration,
    /// Kill the child when neither stream has printed anything for this long.
    pub stall: Option<Duration>,
    /// Keep every stderr line containing this text, and leave CPython's
    /// verbose-mode lines (`# ...`, `import x # ...`) out of the kept stderr.
    pub collect: Option<&'static str>,
}

impl Captured {
    /// The signal that ended the child, if one did.
    pub fn signal(&self) -> Option<i32> {
        #[cfg(unix)]
        return self.status.signal();
        #[cfg(not(unix))]
        None
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
#[cfg(unix)]
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

/// No signals end a process on Windows ([`Captured::signal`] is `None`).
#[cfg(not(unix))]
pub fn signal_name(signal: i32) -> String {
    format!("signal {signal}")
}

/// Puts the child `command` starts in a new process group (POSIX), or a new
/// process tree that [`crate::os::kill_process_group`] ends (Windows).
fn own_process_group(command: &mut Command) {
    #[cfg(unix)]
    command.process_group(0);
    // `CREATE_NEW_PROCESS_GROUP` from `<winbase.h>`.
    #[cfg(windows)]
    command.creation_flags(0x0000_0200);
}

/// Runs `command` with stdin closed, capturing stdout and stderr, and kills
/// its whole process group if it is still running after `timeout`.
pub fn run_with_timeout(command: &mut Command, timeout: Duration) -> io::Result<Captured> {
    run_supervised(command, Limits { timeout, stall: None, collect: None })
}

/// Like [`run_with_timeout`], also killing a child that stalls and collecting
/// matching stderr lines.
pub fn run_supervised(command: &mut Command, limits: Limits) -> io::Result<Captured> {
    let started = Instant::now();
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    own_process_group(command);
    let mut child = spawn(command)?;
    let pid = child.id();
    let activity = Arc::new(AtomicU64::new(0));
    let stdout = spawn_reader(child.stdout.take(), started, Arc::clone(&activity), ReadMode::Chunks);
    let stderr =
        spawn_reader(child.stderr.take(), started, Arc::clone(&activity), ReadMode::Lines { collect: limits.collect });

    let (done_tx, done_rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let status = child.wait();
        let _ = done_tx.send(());
        status
    });
    let (mut timed_out, mut stalled, mut interrupted) = (false, false, false);
    loop {
        if done_rx.recv_timeout(Duration::from_millis(50)).is_ok() {
            break;
        }
        if crate::interrupt::requested() {
            interrupted = true;
            break;
        }
        let now = started.elapsed();
        if now >= limits.timeout {
            timed_out = true;
            break;
        }
        let quiet = now.saturating_sub(Duration::from_millis(activity.load(Ordering::Relaxed)));
        if limits.stall.is_some_and(|stall| quiet >= stall) {
            (timed_out, stalled) = (true, true);
            break;
        }
    }
    // Kill the group even after a normal exit: grandchildren that kept our
    // pipes open would otherwise keep the readers waiting.
    crate::os::kill_process_group(pid);
    let status = waiter.join().map_err(|_| io::Error::other("the thread waiting for the child panicked"))??;
    // A process that left the group (setsid) may still hold the pipes: what
    // was read by then is kept, never dropped for want of an end of file.
    let deadline = Instant::now() + Duration::from_secs(2);
    let stdout = stdout.finish(deadline);
    let stderr = stderr.finish(deadline);
    Ok(Captured {
        status,
        stdout: stdout.kept,
        stderr: stderr.kept,
        timed_out,
        stalled,
        interrupted,
        collected: stderr.collected,
        elapsed: started.elapsed(),
    })
}

#[cfg(unix)]
fn is_text_busy(error: &io::Error) -> bool {
    error.raw_os_error() == Some(libc::ETXTBSY)
}

#[cfg(not(unix))]
fn is_text_busy(_: &io::Error) -> bool {
    false
}

/// Spawns `command`, retrying briefly when the executable was just written
/// and another thread's fork still holds it open (ETXTBSY, a kernel race).
fn spawn(command: &mut Command) -> io::Result<std::process::Child> {
    let mut attempts = 0;
    loop {
        match command.spawn() {
            Err(e) if is_text_busy(&e) && attempts < 20 => {
                attempts += 1;
                thread::sleep(Duration::from_millis(25));
            }
            other => return other,
        }
    }
}

fn touch(activity: &AtomicU64, started: Instant) {
    activity.store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
}

/// What a reader thread has taken from one stream so far.
#[derive(Default)]
struct Stream {
    /// The tail of the stream, at most [`OUTPUT_CAP`] bytes once finished.
    kept: Vec<u8>,
    /// Lines picked out by [`Limits::collect`].
    collected: Vec<String>,
}

impl Stream {
    /// Adds one piece (a line, for stderr), keeping the tail bounded.
    fn take(&mut self, piece: &[u8], mode: ReadMode) {
        // CPython's verbose mode: `# ...` and `import x # ...` lines.
        let verbose = piece.starts_with(b"# ")
            || (piece.starts_with(b"import ") && memchr::memmem::find(piece, b" # ").is_some());
        match mode {
            ReadMode::Lines { collect: Some(pattern) } if verbose => {
                let text = String::from_utf8_lossy(piece);
                if text.contains(pattern) {
                    self.collected.push(text.trim_end().to_string());
                }
            }
            _ => self.kept.extend_from_slice(piece),
        }
        if self.kept.len() > 2 * OUTPUT_CAP {
            self.trim();
        }
    }

    fn trim(&mut self) {
        if self.kept.len() > OUTPUT_CAP {
            self.kept.drain(..self.kept.len() - OUTPUT_CAP);
        }
    }
}

/// A reader thread and what it has read.
struct StreamReader {
    stream: Arc<Mutex<Stream>>,
    done: mpsc::Receiver<()>,
}

impl StreamReader {
    /// Waits for the end of the stream until `deadline`, then takes what was read.
    fn finish(self, deadline: Instant) -> Stream {
        let _ = self.done.recv_timeout(deadline.saturating_duration_since(Instant::now()));
        let mut stream = std::mem::take(&mut *self.stream.lock().unwrap_or_else(|e| e.into_inner()));
        stream.trim();
        stream
    }
}

/// How a reader takes its stream.
#[derive(Clone, Copy)]
enum ReadMode {
    /// As it comes (stdout).
    Chunks,
    /// Line by line (stderr). With `collect`, CPython's verbose-mode lines
    /// are left out of the kept text and those holding it are picked out.
    Lines { collect: Option<&'static str> },
}

/// Reads `stream` until its end. Lines are read in bounded pieces, so that
/// megabytes without a newline are never held whole.
fn spawn_reader<R: Read + Send + 'static>(
    stream: Option<R>,
    started: Instant,
    activity: Arc<AtomicU64>,
    mode: ReadMode,
) -> StreamReader {
    let shared = Arc::new(Mutex::new(Stream::default()));
    let (done_tx, done) = mpsc::channel();
    let kept = Arc::clone(&shared);
    thread::spawn(move || {
        if let Some(stream) = stream {
            let mut reader = BufReader::new(stream);
            let mut piece = Vec::new();
            loop {
                piece.clear();
                let read = match mode {
                    ReadMode::Lines { .. } => (&mut reader).take(LINE_CAP).read_until(b'\n', &mut piece),
                    ReadMode::Chunks => {
                        let mut buf = [0u8; 64 * 1024];
                        reader.read(&mut buf).inspect(|&n| piece.extend_from_slice(&buf[..n]))
                    }
                };
                if !read.is_ok_and(|n| n > 0) {
                    break;
                }
                touch(&activity, started);
                kept.lock().unwrap_or_else(|e| e.into_inner()).take(&piece, mode);
            }
        }
        let _ = done_tx.send(());
    });
    StreamReader { stream: shared, done }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// Runs a `sh -c` script under a timeout alone.
    fn sh(script: &str, timeout: Duration) -> Captured {
        run_with_timeout(Command::new("sh").args(["-c", script]), timeout).unwrap()
    }

    /// Runs a `sh -c` script under `limits`.
    fn sh_supervised(script: &str, limits: Limits) -> Captured {
        run_supervised(Command::new("sh").args(["-c", script]), limits).unwrap()
    }

    #[test]
    fn captures_output_and_status() {
        let got = sh("echo out; echo err >&2; exit 3", Duration::from_secs(10));
        assert_eq!(got.stdout, b"out\n");
        assert_eq!(got.stderr_tail(100), "err");
        assert_eq!(got.status.code(), Some(3));
        assert!(!got.timed_out);
    }

    #[test]
    fn kills_the_whole_group_on_timeout() {
        // The grandchild `sleep` holds stdout open; only a group kill ends it.
        let got = sh("sleep 30 & sleep 30", Duration::from_millis(300));
        assert!(got.timed_out);
        assert_eq!(got.signal(), Some(libc::SIGKILL));
        assert!(got.elapsed < Duration::from_secs(10), "took {:?}", got.elapsed);
    }

    #[test]
    fn a_silent_child_is_killed_as_stalled() {
        let limits =
            Limits { timeout: Duration::from_secs(30), stall: Some(Duration::from_millis(300)), collect: None };
        let got = sh_supervised("echo started; sleep 30", limits);
        assert!(got.stalled && got.timed_out);
        assert_eq!(got.stdout, b"started\n");
    }

    #[test]
    fn collects_matching_lines_and_drops_verbose_noise() {
        let limits = Limits { timeout: Duration::from_secs(30), stall: None, collect: Some("requires the GIL") };
        let script = "echo '# import foo' >&2; echo \"import 'json' # <SourceFileLoader>\" >&2; \
                      echo \"# loading module 'x', which requires the GIL\" >&2; echo real error >&2";
        let got = sh_supervised(script, limits);
        assert_eq!(got.collected, ["# loading module 'x', which requires the GIL"]);
        assert_eq!(got.stderr_tail(100), "real error");
    }

    /// Reading in pieces must not lose or reorder output (the memory bound
    /// itself is not observable from here).
    #[test]
    fn a_stderr_flood_without_newlines_keeps_its_tail_intact() {
        let limits = Limits { timeout: Duration::from_secs(30), stall: None, collect: Some("requires the GIL") };
        let script = "head -c 20000000 /dev/zero | tr '\\0' x >&2; echo END >&2";
        let got = sh_supervised(script, limits);
        assert!(got.stderr.len() <= OUTPUT_CAP, "kept {} bytes", got.stderr.len());
        assert!(got.stderr.ends_with(b"xEND\n"));
    }

    #[test]
    fn reports_the_signal_of_a_crash() {
        let got = sh("kill -SEGV $$", Duration::from_secs(10));
        assert_eq!(got.signal().map(signal_name).as_deref(), Some("SIGSEGV"));
    }

    #[test]
    fn keeps_only_the_tail_of_a_flood() {
        let got = sh("head -c 20000000 /dev/zero; echo END", Duration::from_secs(30));
        assert!(got.stdout.len() <= OUTPUT_CAP);
        assert!(got.stdout.ends_with(b"END\n"));
    }
}
