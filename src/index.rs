//! The package index: one HTTP client (`http.rs`, with credentials and
//! remembered host names), a project's files from its simple API page
//! (`project.rs`: PEP 691 JSON, else PEP 503 HTML), what its releases offer
//! (`release.rs`), and wheels read from it by HTTP Range (`remote/`).
//! Nothing is installed.

pub mod credentials;
pub mod digest;
pub mod error;
pub mod http;
pub mod keyring;
pub mod project;
pub mod release;
pub mod remote;
mod resolver;
pub mod url;

pub use release::{Availability, ReleaseError};

/// PyPI's simple API, the default index.
pub const PYPI_SIMPLE: &str = "https://pypi.org/simple/";
