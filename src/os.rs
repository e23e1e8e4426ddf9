//! The operating-system calls std does not offer, behind safe functions.
//! With `worker/libpython.rs`, this is the only module allowed `unsafe`
//! (Cargo.toml's `[lints]` denies it elsewhere; `main.rs` only places a
//! function of this module in `.init_array`): each call here takes plain
//! integers and touches no Rust memory.
//!
//! On Windows, where ftprobe only scans and reports (the commands that run
//! interpreters are refused there, see `lib.rs`), killing uses `taskkill`
//! and the POSIX-only calls do nothing.

#![allow(unsafe_code)]

/// A pid that may be signalled: never 0, 1 (init) or a negative group.
#[cfg(unix)]
fn signallable(pid: u32) -> Option<libc::pid_t> {
    libc::pid_t::try_from(pid).ok().filter(|p| *p > 1)
}

/// Sends SIGKILL to the process group led by `pid`. A group that no longer
/// exists is not an error.
#[cfg(unix)]
pub fn kill_process_group(pid: u32) {
    if let Some(pid) = signallable(pid) {
        // SAFETY: killpg only sends a signal; a missing group gives ESRCH.
        unsafe { libc::killpg(pid, libc::SIGKILL) };
    }
}

/// Sends SIGKILL to one process.
#[cfg(unix)]
pub fn kill_process(pid: u32) {
    if let Some(pid) = signallable(pid) {
        // SAFETY: kill only sends a signal to one pid above 1.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// Ends the process tree rooted at `pid` (Windows has no process groups).
#[cfg(windows)]
pub fn kill_process_group(pid: u32) {
    taskkill(pid, true);
}

/// Ends one process.
#[cfg(windows)]
pub fn kill_process(pid: u32) {
    taskkill(pid, false);
}

#[cfg(windows)]
fn taskkill(pid: u32, tree: bool) {
    let mut command = std::process::Command::new("taskkill");
    command.args(["/F", "/PID", &pid.to_string()]);
    if tree {
        command.arg("/T");
    }
    let _ = command.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).status();
}

/// The pid of this process's parent.
#[cfg(unix)]
pub fn parent_pid() -> u32 {
    // SAFETY: getppid cannot fail.
    unsafe { libc::getppid() as u32 }
}

/// Asks the kernel to SIGKILL this process when the thread that started it
/// ends (Linux), so a worker never outlives an ftprobe that died. Returns
/// false when the parent is already gone (`expected_parent` no longer is).
pub fn die_with_parent(expected_parent: u32) -> bool {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_PDEATHSIG takes a signal number and no pointers.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0);
    }
    #[cfg(unix)]
    return parent_pid() == expected_parent;
    #[cfg(not(unix))]
    {
        let _ = expected_parent;
        true
    }
}

/// Makes the child `command` starts get SIGKILL when ftprobe dies (Linux):
/// an installer or a query run for a batch never outlives it.
pub fn child_dies_with_parent(command: &mut std::process::Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: the hook runs in the forked child before exec and only calls
        // prctl, which is async-signal-safe and takes no pointers.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0);
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

/// Makes this process adopt its orphaned descendants (Linux), so a module
/// that daemonizes (double fork, `setsid`) stays findable and killable.
pub fn adopt_orphans() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_CHILD_SUBREAPER takes an integer flag and no pointers.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0);
    }
}

/// Kills every child of this process and reaps it, repeating until none is
/// left (with [`adopt_orphans`], grandchildren become children as their
/// parents die). Linux only: elsewhere it does nothing.
pub fn kill_all_children() {
    for _ in 0..50 {
        let children = children_of(std::process::id());
        if children.is_empty() {
            return;
        }
        for child in children {
            kill_process(child);
        }
        // SAFETY: waitpid with a null status pointer only reaps children.
        #[cfg(unix)]
        unsafe {
            while libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) > 0 {}
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// The pids whose parent is `pid`, from /proc.
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            // The fourth field of /proc/N/stat, after the parenthesised name.
            std::fs::read_to_string(format!("/proc/{child}/stat")).ok().is_some_and(|stat| {
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                    .is_some_and(|parent| parent == pid)
            })
        })
        .collect()
}

/// Puts every signal back to its default disposition and unblocks all of
/// them, then ignores SIGPIPE and SIGXFSZ as the `python` executable does.
/// The Rust runtime installs SIGSEGV/SIGBUS handlers (stack-overflow
/// detection) that would otherwise swallow a crash raised by extension code.
pub fn reset_signals_like_python() {
    #[cfg(unix)]
    // SAFETY: signal() with SIG_DFL/SIG_IGN and sigprocmask with a local,
    // initialised set; invalid numbers (SIGKILL, SIGSTOP, real-time ones the
    // C library reserves) fail with EINVAL and are left alone.
    unsafe {
        for signal in 1..classic_signals_end() {
            libc::signal(signal, libc::SIG_DFL);
        }
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
}

/// One past the last classic (not real-time) signal number.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn classic_signals_end() -> libc::c_int {
    libc::SIGRTMIN()
}

/// One past the last classic signal number: macOS and the BSDs number them
/// 1 to 31 (`NSIG` is 32 in their `<signal.h>`; libc does not export it).
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
fn classic_signals_end() -> libc::c_int {
    32
}

static STDOUT_CLOSED_AT_START: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether file descriptor 1 is open right now.
#[cfg(unix)]
fn fd1_is_open() -> bool {
    // SAFETY: F_GETFD on a descriptor number only reads its flags.
    unsafe { libc::fcntl(1, libc::F_GETFD) != -1 }
}

/// Windows: std reports a missing standard output as a write error.
#[cfg(not(unix))]
fn fd1_is_open() -> bool {
    true
}

/// Records whether file descriptor 1 was open when the process started.
/// The binary runs it as a constructor, before Rust's runtime reopens a
/// closed stdout onto /dev/null (after which a lost report looks written).
pub extern "C" fn record_standard_fds() {
    STDOUT_CLOSED_AT_START.store(!fd1_is_open(), std::sync::atomic::Ordering::Relaxed);
}

/// Whether standard output can take a report: it was open at start and is now.
pub fn stdout_is_open() -> bool {
    fd1_is_open() && !STDOUT_CLOSED_AT_START.load(std::sync::atomic::Ordering::Relaxed)
}

/// The version of the GNU C library this process runs on, `(2, 36)`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn glibc_version() -> Option<(u32, u32)> {
    // SAFETY: gnu_get_libc_version takes nothing and returns a pointer to a
    // static NUL-terminated string that lives as long as the process.
    let text = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
    let (major, rest) = text.to_str().ok()?.split_once('.')?;
    let minor: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Not a glibc system (musl, macOS, Windows).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn glibc_version() -> Option<(u32, u32)> {
    None
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn finds_and_kills_a_child() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        assert!(children_of(std::process::id()).contains(&child.id()));
        kill_process(child.id());
        assert!(child.wait().unwrap().code().is_none(), "killed by a signal");
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn reads_the_glibc_version() {
        let (major, minor) = glibc_version().unwrap();
        assert!(major == 2 && minor >= 17, "glibc {major}.{minor}");
    }
}
