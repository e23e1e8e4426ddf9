//! Opening files ftprobe is given or finds, which may be hostile: only
//! regular files are read (a FIFO or a device would block or never end),
//! never more than a stated limit, and every failure is one sentence that
//! names the path and says what it is.

use std::fs::File;
use std::io::{self, Read};
#[cfg(unix)]
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Why a path could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InputError {
    #[error("`{0}` does not exist")]
    Missing(String),
    #[error("`{0}` is a symlink loop")]
    SymlinkLoop(String),
    #[error("`{0}`: the path is too long for this system")]
    TooLong(String),
    #[error("`{path}` is a {kind}, not a regular file; pass wheels, folders or .so/.pyd files")]
    NotRegular { path: String, kind: &'static str },
    #[error("`{path}` is {size} bytes, over the {limit}-byte limit{hint}")]
    TooLarge { path: String, size: u64, limit: u64, hint: &'static str },
    #[error("cannot read `{path}`: {reason}")]
    Io { path: String, reason: String },
}

impl InputError {
    /// The error for an I/O failure on `path`, named by its cause.
    pub fn from_io(path: &Path, error: &io::Error) -> Self {
        let shown = shown(path);
        match error.raw_os_error() {
            Some(libc::ENOENT) => InputError::Missing(shown),
            Some(libc::ELOOP) => InputError::SymlinkLoop(shown),
            Some(libc::ENAMETOOLONG) => InputError::TooLong(shown),
            _ => InputError::Io { path: shown, reason: error.to_string() },
        }
    }
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// What kind of non-regular file a file type is.
fn kind_of(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        return "directory";
    }
    #[cfg(unix)]
    {
        let special = [
            (file_type.is_fifo(), "FIFO (named pipe)"),
            (file_type.is_socket(), "socket"),
            (file_type.is_char_device(), "character device"),
            (file_type.is_block_device(), "block device"),
        ];
        if let Some((_, kind)) = special.into_iter().find(|(is, _)| *is) {
            return kind;
        }
    }
    "special file"
}

/// Opens `path` for reading only if it is a regular file. The open itself
/// never blocks (O_NONBLOCK, which regular files ignore), and the type is
/// checked on the opened file, so a path swapped for a FIFO in between is
/// still refused. Returns the file and its size.
pub fn open_regular(path: &Path) -> Result<(File, u64), InputError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    options.custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC);
    let file = options.open(path).map_err(|e| InputError::from_io(path, &e))?;
    let metadata = file.metadata().map_err(|e| InputError::from_io(path, &e))?;
    if !metadata.file_type().is_file() {
        return Err(InputError::NotRegular { path: shown(path), kind: kind_of(metadata.file_type()) });
    }
    Ok((file, metadata.len()))
}

/// Reads a whole regular file of at most `limit` bytes; `hint` ends the
/// error for a larger one (which option raises the limit).
pub fn read_limited(path: &Path, limit: u64, hint: &'static str) -> Result<Vec<u8>, InputError> {
    let (file, size) = open_regular(path)?;
    read_opened(file, size, path, limit, hint)
}

/// [`read_limited`] for a file [`open_regular`] already opened (its `size`
/// as opened), so a caller that needed the size first opens it only once.
pub fn read_opened(file: File, size: u64, path: &Path, limit: u64, hint: &'static str) -> Result<Vec<u8>, InputError> {
    if size > limit {
        return Err(InputError::TooLarge { path: shown(path), size, limit, hint });
    }
    let mut data = Vec::with_capacity(size as usize);
    // The file may grow while it is read: never take more than the limit.
    file.take(limit + 1).read_to_end(&mut data).map_err(|e| InputError::from_io(path, &e))?;
    if data.len() as u64 > limit {
        return Err(InputError::TooLarge { path: shown(path), size: data.len() as u64, limit, hint });
    }
    Ok(data)
}

/// [`read_limited`] as UTF-8 text.
pub fn read_text_limited(path: &Path, limit: u64, hint: &'static str) -> Result<String, InputError> {
    let data = read_limited(path, limit, hint)?;
    String::from_utf8(data).map_err(|_| InputError::Io { path: shown(path), reason: "it is not UTF-8 text".into() })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("x.so");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let error = open_regular(&fifo).unwrap_err().to_string();
        assert!(error.contains("FIFO"), "{error}");
        let error = open_regular(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(error.contains("character device"), "{error}");
        assert!(matches!(open_regular(dir.path()), Err(InputError::NotRegular { kind: "directory", .. })));
    }

    #[test]
    fn names_missing_paths_and_loops() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.whl");
        assert!(matches!(open_regular(&missing), Err(InputError::Missing(_))));
        let looped = dir.path().join("loop.so");
        std::os::unix::fs::symlink(&looped, &looped).unwrap();
        assert!(matches!(open_regular(&looped), Err(InputError::SymlinkLoop(_))));
    }

    #[test]
    fn reads_at_most_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big.so");
        std::fs::write(&file, vec![7u8; 1000]).unwrap();
        assert_eq!(read_limited(&file, 1000, "").unwrap().len(), 1000);
        let error = read_limited(&file, 999, " (--max-member-size)").unwrap_err().to_string();
        assert!(error.contains("1000 bytes, over the 999-byte limit (--max-member-size)"), "{error}");
    }
}
