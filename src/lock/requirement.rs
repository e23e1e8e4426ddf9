//! One PEP 508 dependency specifier (`name[extra] >=1, <2 ; marker`,
//! `name @ url`), as pdm.lock, poetry.lock's extras, pyproject.toml and
//! requirements files write them. Poetry's parenthesised form
//! `name (>=1,<2)` reads too.

use std::str::FromStr;

use pep440_rs::VersionSpecifiers;

use super::markers::Marker;
use super::normalize;

/// A parsed dependency specifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// Normalized (PEP 503).
    pub name: String,
    /// Normalized extras, in the order written.
    pub extras: Vec<String>,
    /// The version specifiers as written, without parentheses; `None` when absent.
    pub specifier: Option<String>,
    /// The direct reference after `@`.
    pub url: Option<String>,
    pub marker: Option<Marker>,
}

/// What is wrong with a specifier, at which character.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RequirementError {
    /// 1-based character position in the specifier text.
    pub column: usize,
    pub message: String,
}

impl Requirement {
    /// The version an `==1.2.3` or `===1.2.3` specifier pins, if that is all it says.
    pub fn pinned_version(&self) -> Option<String> {
        let specifier = self.specifier.as_deref()?.trim();
        if specifier.contains(',') {
            return None;
        }
        let version = specifier.strip_prefix("===").or_else(|| specifier.strip_prefix("=="))?.trim();
        (!version.is_empty() && !version.ends_with(".*")).then(|| version.to_string())
    }
}

impl FromStr for Requirement {
    type Err = RequirementError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse(text)
    }
}

/// Parses one dependency specifier.
pub fn parse(text: &str) -> Result<Requirement, RequirementError> {
    let chars: Vec<char> = text.chars().collect();
    let error = |at: usize, message: String| RequirementError { column: at + 1, message };
    let mut at = skip_spaces(&chars, 0);

    let name_start = at;
    while at < chars.len() && (chars[at].is_ascii_alphanumeric() || matches!(chars[at], '-' | '_' | '.')) {
        at += 1;
    }
    let name: String = chars[name_start..at].iter().collect();
    if name.is_empty() {
        let found = chars.get(at).map_or("the end".to_string(), |c| format!("`{c}`"));
        return Err(error(at, format!("expected a package name, found {found}")));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) || !name.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(error(name_start, format!("`{name}` is not a valid package name")));
    }
    at = skip_spaces(&chars, at);

    let mut extras = Vec::new();
    if chars.get(at) == Some(&'[') {
        let close = chars[at..].iter().position(|&c| c == ']').ok_or_else(|| error(at, "`[` without `]`".into()))?;
        let inside: String = chars[at + 1..at + close].iter().collect();
        for extra in inside.split(',').map(str::trim).filter(|extra| !extra.is_empty()) {
            if !extra.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
                return Err(error(at + 1, format!("`{extra}` is not a valid extra name")));
            }
            extras.push(normalize(extra));
        }
        at = skip_spaces(&chars, at + close + 1);
    }

    let mut url = None;
    let mut specifier = None;
    if chars.get(at) == Some(&'@') {
        at = skip_spaces(&chars, at + 1);
        let start = at;
        while at < chars.len() && !chars[at].is_whitespace() {
            at += 1;
        }
        if start == at {
            return Err(error(start, "expected a URL after `@`".into()));
        }
        url = Some(chars[start..at].iter().collect::<String>());
        at = skip_spaces(&chars, at);
    } else {
        let start = at;
        let (body_start, body_end, next) = if chars.get(at) == Some(&'(') {
            let close =
                chars[at..].iter().position(|&c| c == ')').ok_or_else(|| error(at, "`(` without `)`".into()))?;
            (at + 1, at + close, at + close + 1)
        } else {
            let end = chars[at..].iter().position(|&c| c == ';').map_or(chars.len(), |offset| at + offset);
            (at, end, end)
        };
        let body: String = chars[body_start..body_end].iter().collect();
        let body = body.trim();
        if !body.is_empty() {
            VersionSpecifiers::from_str(body)
                .map_err(|problem| error(start, format!("bad version specifier `{body}`: {problem}")))?;
            specifier = Some(body.to_string());
        }
        at = skip_spaces(&chars, next);
    }

    let mut marker = None;
    if chars.get(at) == Some(&';') {
        let start = at + 1;
        let marker_text: String = chars[start..].iter().collect();
        let parsed =
            Marker::parse(&marker_text).map_err(|problem| error(start + problem.column - 1, problem.message))?;
        marker = Some(parsed);
    } else if at < chars.len() {
        return Err(error(at, format!("unexpected `{}`", chars[at])));
    }
    Ok(Requirement { name: normalize(&name), extras, specifier, url, marker })
}

fn skip_spaces(chars: &[char], mut at: usize) -> usize {
    while at < chars.len() && chars[at].is_whitespace() {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_extras_specifiers_and_markers() {
        let requirement = parse("Typing_Extensions[Foo, bar.baz] >=4.6.0,<5 ; python_version<'3.15'").unwrap();
        assert_eq!(requirement.name, "typing-extensions");
        assert_eq!(requirement.extras, ["foo", "bar-baz"]);
        assert_eq!(requirement.specifier.as_deref(), Some(">=4.6.0,<5"));
        assert_eq!(requirement.marker.unwrap().text(), "python_version<'3.15'");
        assert_eq!(parse("httpx==0.28.1").unwrap().pinned_version().as_deref(), Some("0.28.1"));
        assert_eq!(parse("httpcore==1.*").unwrap().pinned_version(), None);
        assert_eq!(parse("pytest (!=8.0.*)").unwrap().specifier.as_deref(), Some("!=8.0.*"));
        let poetry = parse("cffi (>=2.0.0b0) ; platform_python_implementation != \"PyPy\"").unwrap();
        assert_eq!(poetry.specifier.as_deref(), Some(">=2.0.0b0"));
        assert!(poetry.marker.is_some());
    }

    #[test]
    fn reads_direct_references() {
        let requirement =
            parse("poetry-core @ git+https://github.com/python-poetry/poetry-core.git ; python_version >= '3.9'")
                .unwrap();
        assert_eq!(requirement.url.as_deref(), Some("git+https://github.com/python-poetry/poetry-core.git"));
        assert!(requirement.marker.is_some());
    }

    #[test]
    fn errors_name_the_character() {
        assert_eq!(parse("==1.0").unwrap_err().column, 1);
        assert_eq!(parse("foo ==1.0 ; python_version >").unwrap_err().column, 29);
        assert_eq!(parse("foo >=one").unwrap_err().column, 5);
        assert!(parse("foo[bar").is_err());
        assert!(parse("foo @").is_err());
        assert!(parse("-foo").is_err());
    }
}
