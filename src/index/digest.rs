//! SHA-256 digests as the index and lock files give them (lowercase hex),
//! and the hashing of files streamed from the network or the cache.

use std::fmt;
use std::io::{self, Read};

use sha2::{Digest, Sha256};

use super::error::IndexError;

/// A SHA-256 digest. Parsed from 64 hexadecimal digits, so that it is safe to
/// use as a cache folder name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// Parses 64 hexadecimal digits (either case).
    pub fn from_hex(value: &str) -> Result<Self, IndexError> {
        let bad = || IndexError::BadSha256 { value: value.chars().take(80).collect() };
        let bytes = value.as_bytes();
        if bytes.len() != 64 {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            let high = (pair[0] as char).to_digit(16).ok_or_else(bad)?;
            let low = (pair[1] as char).to_digit(16).ok_or_else(bad)?;
            *slot = (high * 16 + low) as u8;
        }
        Ok(Sha256Digest(out))
    }

    /// Lowercase hexadecimal, as indexes print it.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The digest of `data`.
    pub fn of(data: &[u8]) -> Self {
        Sha256Digest(Sha256::digest(data).into())
    }

    /// The digest of everything `reader` yields, and how many bytes that was.
    pub fn of_reader(reader: impl Read) -> io::Result<(Self, u64)> {
        let (digest, total) = hash_all::<Sha256>(reader)?;
        let bytes: [u8; 32] = digest.try_into().map_err(|_| io::Error::other("sha256 gave no 32 bytes"))?;
        Ok((Sha256Digest(bytes), total))
    }
}

/// The `D` digest of everything `reader` yields, and how many bytes that was.
pub fn hash_all<D: sha2::Digest>(mut reader: impl Read) -> io::Result<(Vec<u8>, u64)> {
    let mut hasher = D::new();
    let mut buffer = vec![0u8; 256 << 10];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..n]);
        total += n as u64;
    }
    Ok((hasher.finalize().to_vec(), total))
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({})", self.to_hex())
    }
}

impl std::str::FromStr for Sha256Digest {
    type Err = IndexError;

    fn from_str(value: &str) -> Result<Self, IndexError> {
        Sha256Digest::from_hex(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prints_and_hashes() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(Sha256Digest::of(b"").to_hex(), empty);
        assert_eq!(Sha256Digest::from_hex(&empty.to_uppercase()).unwrap(), Sha256Digest::of(b""));
        assert_eq!(Sha256Digest::of_reader(&b"abc"[..]).unwrap(), (Sha256Digest::of(b"abc"), 3));
        for bad in ["", "../../etc", &empty[1..], &format!("{}g", &empty[1..])] {
            assert!(matches!(Sha256Digest::from_hex(bad), Err(IndexError::BadSha256 { .. })), "{bad}");
        }
    }
}
