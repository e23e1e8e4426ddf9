//! Host names resolved once a session. ureq asks its resolver before it
//! looks for a pooled connection, so without this every request makes a DNS
//! lookup, and a resolver that drops a query costs its timeout (5 s with
//! glibc's defaults) on requests that would have reused a connection.

use std::collections::HashMap;
use std::sync::Mutex;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// ureq's own resolver, with each answer kept for the life of the client.
/// Failures are not kept: a retry asks again.
#[derive(Debug, Default)]
pub struct RememberingResolver {
    inner: DefaultResolver,
    answers: Mutex<HashMap<String, ResolvedSocketAddrs>>,
}

impl Resolver for RememberingResolver {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = match (uri.scheme(), uri.authority()) {
            (Some(scheme), Some(authority)) => DefaultResolver::host_and_port(scheme, authority),
            _ => None,
        };
        let Some(key) = key else {
            return self.inner.resolve(uri, config, timeout);
        };
        if let Some(known) = self.answers.lock().ok().and_then(|a| a.get(&key).cloned()) {
            return Ok(known);
        }
        let answer = self.inner.resolve(uri, config, timeout)?;
        if let Ok(mut answers) = self.answers.lock() {
            answers.insert(key, answer.clone());
        }
        Ok(answer)
    }
}
