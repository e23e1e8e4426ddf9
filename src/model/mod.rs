//! Pure data types shared across ftprobe: no I/O, no processes.

pub mod paths;
pub mod tags;
pub mod version;
