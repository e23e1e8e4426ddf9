//! Resolving the links of an index page against the page's own URL
//! (RFC 3986 reference resolution for the forms indexes use).

/// `link` as an absolute URL, relative to the page at `base`. The fragment
/// (`#sha256=…`) is dropped; a query is kept.
pub fn join(base: &str, link: &str) -> String {
    let link = link.split('#').next().unwrap_or(link).trim();
    if has_scheme(link) {
        return link.to_string();
    }
    let base = base.split(['#', '?']).next().unwrap_or(base);
    let (scheme, rest) = base.split_once("://").unwrap_or(("https", base));
    if let Some(authority_and_path) = link.strip_prefix("//") {
        return format!("{scheme}://{authority_and_path}");
    }
    let (host, base_path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    let (link_path, query) = match link.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (link, None),
    };
    let merged = if link_path.starts_with('/') {
        link_path.to_string()
    } else if link_path.is_empty() {
        base_path.to_string()
    } else {
        // The base's folder (up to its last slash), then the link.
        let folder = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
        format!("{folder}{link_path}")
    };
    let path = remove_dot_segments(&merged);
    match query {
        Some(query) => format!("{scheme}://{host}{path}?{query}"),
        None => format!("{scheme}://{host}{path}"),
    }
}

fn has_scheme(link: &str) -> bool {
    link.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// `/a/b/../c/./d` -> `/a/c/d`, keeping a trailing slash.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (index, segment) in segments.iter().enumerate() {
        let last = index + 1 == segments.len();
        match *segment {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            other => out.push(other),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_the_forms_indexes_use() {
        let page = "http://127.0.0.1:8/simple/a/";
        assert_eq!(join(page, "../../files/a-1.0.whl#sha256=00"), "http://127.0.0.1:8/files/a-1.0.whl");
        assert_eq!(join(page, "a-1.0.whl"), "http://127.0.0.1:8/simple/a/a-1.0.whl");
        assert_eq!(join(page, "/f/x.whl"), "http://127.0.0.1:8/f/x.whl");
        assert_eq!(join(page, "//files.example/x.whl"), "http://files.example/x.whl");
        assert_eq!(join(page, "https://files/x.whl"), "https://files/x.whl");
        assert_eq!(join(page, "./x.whl?token=1#md5=0"), "http://127.0.0.1:8/simple/a/x.whl?token=1");
        assert_eq!(join("https://host/simple/a/index.html", "../../../x.whl"), "https://host/x.whl");
        assert_eq!(join("https://host", "x.whl"), "https://host/x.whl");
    }
}
