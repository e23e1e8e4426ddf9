//! A wheel's `*.dist-info/RECORD`: for every member, the digest of its
//! uncompressed bytes (`sha256=<urlsafe base64, no padding>`) and its size,
//! as the wheel specification requires. Used to check members read without
//! the rest of the wheel.

use std::collections::HashMap;
use std::io::{self, Read};

use base64::Engine;
use sha2::{Digest as _, Sha256, Sha384, Sha512};

use crate::index::digest::hash_all;

/// A member's digest as RECORD gives it. MD5 and SHA-1 are refused, as the
/// wheel specification refuses them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordDigest {
    Sha256(Vec<u8>),
    Sha384(Vec<u8>),
    Sha512(Vec<u8>),
}

/// One RECORD line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordEntry {
    /// None for RECORD itself and signature files, which cannot list their own digest.
    pub digest: Option<RecordDigest>,
    pub size: Option<u64>,
}

/// Why RECORD's text cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("line {line} is not CSV")]
    NotCsv { line: usize },
    #[error("line {line} has {fields} fields, not 3")]
    Fields { line: usize, fields: usize },
    #[error("line {line}: {error}")]
    Digest { line: usize, error: DigestError },
    #[error("line {line}: size `{size}` is not a number")]
    Size { line: usize, size: String },
    #[error("`{path}` is listed twice with different digests")]
    Twice { path: String },
}

/// Why a RECORD line's digest field cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("`{field}` is not `algorithm=digest`")]
    NotAlgorithmAndDigest { field: String },
    #[error("the {algorithm} digest `{value}` is not urlsafe base64")]
    NotBase64 { algorithm: String, value: String },
    #[error("digest algorithm `{algorithm}` is not one the wheel specification allows")]
    Algorithm { algorithm: String },
    #[error("the {algorithm} digest `{value}` has {bytes} bytes, not {length}")]
    Length { algorithm: String, value: String, bytes: usize, length: usize },
}

/// A parsed RECORD, by member path.
#[derive(Clone, Debug, Default)]
pub struct Record {
    entries: HashMap<String, RecordEntry>,
}

impl Record {
    /// Parses RECORD's CSV text (quoted fields, `""` inside quotes).
    pub fn parse(text: &str) -> Result<Record, RecordError> {
        let mut entries = HashMap::new();
        for (number, line) in text.lines().enumerate().map(|(n, l)| (n + 1, l.trim_end_matches('\r'))) {
            if line.is_empty() {
                continue;
            }
            let fields = csv_fields(line).ok_or(RecordError::NotCsv { line: number })?;
            let [path, hash, size] = fields.as_slice() else {
                return Err(RecordError::Fields { line: number, fields: fields.len() });
            };
            let digest = if hash.is_empty() {
                None
            } else {
                Some(parse_digest(hash).map_err(|error| RecordError::Digest { line: number, error })?)
            };
            let size = if size.is_empty() {
                None
            } else {
                Some(size.parse().map_err(|_| RecordError::Size { line: number, size: size.clone() })?)
            };
            let entry = RecordEntry { digest, size };
            if let Some(earlier) = entries.insert(path.clone(), entry.clone())
                && earlier != entry
            {
                return Err(RecordError::Twice { path: path.clone() });
            }
        }
        Ok(Record { entries })
    }

    pub fn get(&self, path: &str) -> Option<&RecordEntry> {
        self.entries.get(path)
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }
}

/// Why a member's bytes do not match its RECORD line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    NoDigest,
    Size { listed: u64, actual: u64 },
    Digest,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::NoDigest => f.write_str("has no digest in RECORD"),
            Mismatch::Size { listed, actual } => write!(f, "is {actual} bytes, but RECORD says {listed}"),
            Mismatch::Digest => f.write_str("does not match its digest in RECORD"),
        }
    }
}

impl RecordEntry {
    /// Reads `data` to its end and checks it against this line. An I/O
    /// error (a read outside the fetched bytes, a failed inflation, a bad
    /// CRC) is returned as such.
    pub fn check(&self, data: impl Read) -> io::Result<Result<(), Mismatch>> {
        let Some(digest) = &self.digest else { return Ok(Err(Mismatch::NoDigest)) };
        let (actual, size) = match digest {
            RecordDigest::Sha256(_) => hash_all::<Sha256>(data)?,
            RecordDigest::Sha384(_) => hash_all::<Sha384>(data)?,
            RecordDigest::Sha512(_) => hash_all::<Sha512>(data)?,
        };
        let expected = match digest {
            RecordDigest::Sha256(d) | RecordDigest::Sha384(d) | RecordDigest::Sha512(d) => d,
        };
        if let Some(listed) = self.size
            && listed != size
        {
            return Ok(Err(Mismatch::Size { listed, actual: size }));
        }
        Ok(if &actual == expected { Ok(()) } else { Err(Mismatch::Digest) })
    }
}

fn parse_digest(field: &str) -> Result<RecordDigest, DigestError> {
    let (algorithm, value) =
        field.split_once('=').ok_or_else(|| DigestError::NotAlgorithmAndDigest { field: field.to_string() })?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .map_err(|_| DigestError::NotBase64 { algorithm: algorithm.to_string(), value: value.to_string() })?;
    let (digest, length) = match algorithm {
        "sha256" => (RecordDigest::Sha256(bytes.clone()), 32),
        "sha384" => (RecordDigest::Sha384(bytes.clone()), 48),
        "sha512" => (RecordDigest::Sha512(bytes.clone()), 64),
        other => return Err(DigestError::Algorithm { algorithm: other.to_string() }),
    };
    if bytes.len() != length {
        return Err(DigestError::Length {
            algorithm: algorithm.to_string(),
            value: value.to_string(),
            bytes: bytes.len(),
            length,
        });
    }
    Ok(digest)
}

/// The fields of one CSV line (RFC 4180 quoting), None when a quote is unbalanced.
fn csv_fields(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => break,
                    c => field.push(c),
                }
            }
            if !matches!(chars.peek(), None | Some(',')) {
                return None;
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                field.push(c);
                chars.next();
            }
        }
        fields.push(field);
        if chars.next().is_none() {
            return Some(fields);
        }
    }
}

/// The `sha256=` RECORD field for `data` (for tests and fixtures).
pub fn sha256_field(data: &[u8]) -> String {
    format!("sha256={}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(data)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_paths_and_checks_members() {
        let text = format!(
            "pkg/__init__.py,{},5\r\n\"pkg/a,b \"\"q\"\".so\",{},3\npkg-1.dist-info/RECORD,,\n",
            sha256_field(b"hello"),
            sha256_field(b"elf")
        );
        let record = Record::parse(&text).unwrap();
        let init = record.get("pkg/__init__.py").unwrap();
        assert_eq!(init.check(&b"hello"[..]).unwrap(), Ok(()));
        assert_eq!(init.check(&b"hellp"[..]).unwrap(), Err(Mismatch::Digest));
        assert_eq!(init.check(&b"hello!"[..]).unwrap(), Err(Mismatch::Size { listed: 5, actual: 6 }));
        assert_eq!(record.get("pkg/a,b \"q\".so").unwrap().check(&b"elf"[..]).unwrap(), Ok(()));
        let own = record.get("pkg-1.dist-info/RECORD").unwrap();
        assert_eq!(own.check(&b""[..]).unwrap(), Err(Mismatch::NoDigest));
    }

    #[test]
    fn refuses_weak_or_malformed_digests() {
        assert!(
            Record::parse("a,md5=AAAA,1\n").unwrap_err().to_string().contains("not one the wheel specification allows")
        );
        assert!(Record::parse("a,sha256=AAAA,1\n").unwrap_err().to_string().contains("has 3 bytes, not 32"));
        assert!(Record::parse("a,sha256=!!,1\n").unwrap_err().to_string().contains("not urlsafe base64"));
        assert!(Record::parse("\"a,b,1\n").unwrap_err().to_string().contains("not CSV"));
        assert!(Record::parse("a,b\n").unwrap_err().to_string().contains("2 fields"));
        let twice = format!("a,{},1\na,{},1\n", sha256_field(b"x"), sha256_field(b"y"));
        assert!(Record::parse(&twice).unwrap_err().to_string().contains("listed twice"));
    }
}
