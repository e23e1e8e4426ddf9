//! Why talking to a package index, or reading a wheel from one, failed: one
//! line each, naming the URL (or file) and saying what to do. A failure is an
//! error for that project or wheel, never a verdict about it.

/// A failure of the index layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("could not reach {url}: {reason}{}; check the URL or use --offline with a warm cache", tries(*attempts))]
    Unreachable { url: String, reason: String, attempts: u32 },
    #[error("{url}: the server answered {status}{}; try again later or use --offline with a warm cache", tries(*attempts))]
    ServerBusy { url: String, status: u16, attempts: u32 },
    #[error("{url}: the transfer broke off ({reason}){}; try again later", tries(*attempts))]
    Transfer { url: String, reason: String, attempts: u32 },
    #[error("{url}: TLS failed ({reason}); check the system's certificate store or the proxy's CA")]
    Tls { url: String, reason: String },
    #[error("{url}: the request failed ({reason}); check the URL")]
    Request { url: String, reason: String },
    #[error("{url}: not found (404); the URL is wrong or the index no longer has the file")]
    NotFound { url: String },
    #[error("{url}: the index has no project `{project}` (404); check the name and --index-url")]
    NoSuchProject { url: String, project: String },
    #[error("{url}: the server answered {status}; check the URL and any credentials it needs")]
    Status { url: String, status: u16 },
    #[error(
        "{url}: the server answered {status}: it wants credentials, and none were found for {host}; put them in the index URL (https://USER:TOKEN@{host}/...) or in ~/.netrc (machine {host} login USER password TOKEN)"
    )]
    NoCredentials { url: String, status: u16, host: String },
    #[error("{url}: the server answered {status} to the credentials from {from}; check them")]
    CredentialsRefused { url: String, status: u16, from: String },
    #[error("{url} is not a PEP 691 or PEP 503 project page ({reason}); check --index-url")]
    BadPage { url: String, reason: String },
    #[error(
        "{url}: the server's answer to a range request is inconsistent ({reason}); use --verify-full to download whole files"
    )]
    BadRange { url: String, reason: String },
    #[error(
        "{url}: the server sent the file with Content-Encoding `{encoding}`, not the file's own bytes; use another mirror"
    )]
    Encoded { url: String, encoding: String },
    #[error(
        "{url} is {actual} bytes but the index says {expected}; the file changed or the index is stale, so it is not scanned"
    )]
    SizeMismatch { url: String, expected: u64, actual: u64 },
    #[error(
        "{url}: the {what} is {size} bytes, over the {limit}-byte limit; this is not a wheel ftprobe reads remotely"
    )]
    TooLarge { url: String, what: &'static str, size: u64, limit: u64 },
    #[error("{url} is over the {limit}-byte limit for a download; it was not saved")]
    OverLimit { url: String, limit: u64 },
    #[error(
        "{url}: the members to read would inflate to {total} bytes, over the {limit} bytes allowed for a wheel of its size: a zip bomb or a corrupt wheel"
    )]
    Inflates { url: String, total: u64, limit: u64 },
    #[error(
        "{url}: its sha256 is {actual}, not the {expected} the index or lock file gives; the download is corrupt or was tampered with, so it is not scanned"
    )]
    HashMismatch { url: String, expected: String, actual: String },
    #[error("{url}: member `{member}` {reason}; the download is corrupt or was tampered with, so it is not scanned")]
    MemberMismatch { url: String, member: String, reason: String },
    #[error(
        "{url}: the wheel has no *.dist-info/RECORD, so its members cannot be checked without the whole file; use --verify-full"
    )]
    NoRecord { url: String },
    #[error("{url}: its RECORD cannot be used ({reason}); use --verify-full to check the whole file instead")]
    BadRecord { url: String, reason: String },
    #[error(
        "{url}: not a readable zip archive ({reason}); the wheel is corrupt, or use --verify-full to download it whole"
    )]
    BadZip { url: String, reason: String },
    #[error(
        "{url}: entries overlap (several members share the same bytes): a zip bomb or a corrupt wheel; real wheels never do this"
    )]
    Overlapping { url: String },
    #[error("`{value}` is not a sha256 (64 hexadecimal digits); the lock file or the index entry is malformed")]
    BadSha256 { value: String },
    #[error("offline: the cache lacks {missing} of {file}; run once without --offline to fetch it")]
    NotCached { file: String, missing: String },
    #[error("the cached copy of {file} did not verify ({reason}) and was removed; run again to fetch it anew")]
    CacheCorrupt { file: String, reason: String },
    #[error("cannot use the cache at {path}: {reason}; check its permissions or set FTPROBE_CACHE_DIR")]
    Cache { path: String, reason: String },
}

fn tries(attempts: u32) -> String {
    if attempts > 1 { format!(" ({attempts} attempts)") } else { String::new() }
}

impl IndexError {
    /// A failure that another attempt may not meet: the connection, a 5xx
    /// or 429 answer, a body cut short.
    pub fn is_transient(&self) -> bool {
        matches!(self, IndexError::Unreachable { .. } | IndexError::ServerBusy { .. } | IndexError::Transfer { .. })
    }

    /// The same error, saying how many attempts were made.
    pub(crate) fn after_attempts(mut self, made: u32) -> Self {
        if let IndexError::Unreachable { attempts, .. }
        | IndexError::ServerBusy { attempts, .. }
        | IndexError::Transfer { attempts, .. } = &mut self
        {
            *attempts = made;
        }
        self
    }

    /// A cache failure on `path`.
    pub(crate) fn cache(path: &std::path::Path, error: impl std::fmt::Display) -> Self {
        IndexError::Cache { path: path.display().to_string(), reason: error.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_and_say_what_to_do() {
        let down = IndexError::Unreachable {
            url: "http://127.0.0.1:9/simple/x/".into(),
            reason: "Connection refused (os error 111)".into(),
            attempts: 1,
        }
        .after_attempts(3);
        assert_eq!(
            down.to_string(),
            "could not reach http://127.0.0.1:9/simple/x/: Connection refused (os error 111) (3 attempts); \
             check the URL or use --offline with a warm cache"
        );
        assert!(down.is_transient());
        let missing =
            IndexError::NotCached { file: "a-1-py3-none-any.whl".into(), missing: "members `a/_x.so`".into() };
        assert!(!missing.to_string().contains('\n') && !missing.is_transient());
    }
}
