//! Requirements files as pip-compile and `uv pip compile` write them, and
//! hand-written ones: `name==version` pins with `--hash=` continuation
//! lines and `; marker`s, `# via` comments (one line, or `# via` followed
//! by `#   parent` lines) that give the graph, `-r`/`-c` includes read
//! relative to the including file, `--index-url`/`--extra-index-url`,
//! `-e` and direct-URL lines, and the `# from URL` lines of `uv pip
//! compile --emit-index-annotation` (the index a pin came from).
//!
//! pip installs every line whose marker holds, so that is the install
//! rule; the `# via` graph is kept for explaining why a pin is there.
//! Entries under `# via -r file` (or `(pyproject.toml)`) are the roots;
//! a file with no `# via` at all has every entry as a root.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::requirement::{self, Requirement};
use super::{
    Dependency, Hash, InstallRule, Location, LockError, LockFormat, LockedDist, LockedSet, RootsFrom, Source,
    file_name_of, normalize,
};

/// The largest include depth followed.
const MAX_INCLUDE_DEPTH: usize = 32;

/// Reads a requirements file and the files it includes.
pub(super) fn read(path: &Path, text: &str) -> Result<LockedSet, LockError> {
    let mut reader = Reader::default();
    reader.read_file(path, text, Purpose::Install, &[])?;
    reader.apply_constraints();
    let roots_from = if reader.saw_via { RootsFrom::LockFile } else { RootsFrom::EveryEntry };
    let roots = reader.roots();
    let mut dists = reader.dists;
    for (child, parents) in reader.via.iter().enumerate() {
        for parent in parents.iter().filter(|parent| !names_a_file(parent)) {
            let parent = normalize(parent);
            let edge = Dependency::to(&dists[child].name);
            for dist in dists.iter_mut().filter(|dist| dist.name == parent) {
                if !dist.dependencies.contains(&edge) {
                    dist.dependencies.push(edge.clone());
                }
            }
        }
    }
    Ok(LockedSet {
        files: reader.files,
        format: LockFormat::Requirements,
        requires_python: None,
        roots,
        roots_from,
        install_rule: InstallRule::EveryEntry,
        extras: Vec::new(),
        groups: Vec::new(),
        default_groups: Vec::new(),
        indexes: reader.indexes,
        notes: reader.notes,
        dists,
    })
}

/// Whether a file is read for what it installs or only for its pins (`-c`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Install,
    Constrain,
}

#[derive(Default)]
struct Reader {
    files: Vec<PathBuf>,
    /// Canonical paths already read, parallel to `files`.
    canonical: Vec<PathBuf>,
    dists: Vec<LockedDist>,
    /// `# via` parents of each entry, parallel to `dists`.
    via: Vec<Vec<String>>,
    saw_via: bool,
    indexes: Vec<String>,
    /// Options read and not acted on (`--find-links`, `--no-index`), one sentence each.
    notes: Vec<String>,
    constraint_pins: BTreeMap<String, String>,
}

/// One logical line: physical lines joined at trailing backslashes.
struct LogicalLine {
    text: String,
    /// (1-based physical line, byte offset in `text` where it starts).
    pieces: Vec<(u32, usize)>,
}

impl LogicalLine {
    /// The physical line and 1-based character column of byte `offset`.
    fn position(&self, offset: usize) -> (u32, u32) {
        let (line, start) = self.pieces.iter().rev().find(|(_, start)| *start <= offset).copied().unwrap_or((1, 0));
        let offset = offset.min(self.text.len());
        let column = self.text.get(start..offset).map_or(1, |before| before.chars().count() + 1);
        (line, u32::try_from(column).unwrap_or(u32::MAX))
    }
}

/// Where a file is being read: its path, index in `files`, and why.
#[derive(Clone, Copy)]
struct FileContext<'a> {
    path: &'a Path,
    index: usize,
    purpose: Purpose,
}

impl FileContext<'_> {
    fn error(&self, line: &LogicalLine, offset: usize, message: impl Into<String>) -> LockError {
        let (line, column) = line.position(offset);
        LockError::malformed(self.path, line, column, message)
    }
}

impl Reader {
    fn read_file(&mut self, path: &Path, text: &str, purpose: Purpose, including: &[PathBuf]) -> Result<(), LockError> {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        self.files.push(path.to_path_buf());
        self.canonical.push(canonical.clone());
        let context = FileContext { path, index: self.files.len() - 1, purpose };
        let mut stack = including.to_vec();
        stack.push(canonical);

        let lines: Vec<&str> = text.lines().collect();
        // The entry the next `# via` comment is about, and whether a bare `# via` opened a list.
        let mut current: Option<usize> = None;
        let mut in_via_list = false;
        let mut at = 0;
        while at < lines.len() {
            let trimmed = lines[at].trim();
            if trimmed.starts_with('#') {
                self.read_comment(trimmed, current, &mut in_via_list);
                at += 1;
                continue;
            }
            in_via_list = false;
            if trimmed.is_empty() {
                at += 1;
                continue;
            }
            let line = join_continuations(&lines, &mut at);
            current = self.read_line(&line, context, &stack)?;
        }
        Ok(())
    }

    /// Reads `# via parent`, `# via` and `#   parent`; other comments say nothing.
    fn read_comment(&mut self, comment: &str, current: Option<usize>, in_via_list: &mut bool) {
        let Some(entry) = current else {
            *in_via_list = false;
            return;
        };
        let body = comment.trim_start_matches('#');
        if let Some(index) = index_annotation(body) {
            *in_via_list = false;
            let dist = &mut self.dists[entry];
            if dist.source == Source::DEFAULT_INDEX {
                dist.source = Source::Registry { index: Some(index.to_string()) };
            }
            return;
        }
        if let Some(rest) = body.trim_start().strip_prefix("via")
            && (rest.is_empty() || rest.starts_with(char::is_whitespace))
        {
            self.saw_via = true;
            let parents = rest.trim();
            *in_via_list = parents.is_empty();
            // Old pip-compile wrote `# via a, b`.
            let listed = parents.split(", ").map(str::trim).filter(|parent| !parent.is_empty());
            self.via[entry].extend(listed.map(str::to_string));
            return;
        }
        if *in_via_list && body.starts_with("  ") && !body.trim().is_empty() {
            self.via[entry].push(body.trim().to_string());
        } else {
            *in_via_list = false;
        }
    }

    /// Reads one logical line; returns the entry it added, if any.
    fn read_line(
        &mut self,
        line: &LogicalLine,
        context: FileContext<'_>,
        stack: &[PathBuf],
    ) -> Result<Option<usize>, LockError> {
        let content_end = comment_start(&line.text);
        let content = &line.text[..content_end];
        let start = content.len() - content.trim_start().len();
        let content = content.trim();
        if content.is_empty() {
            return Ok(None);
        }
        if content.starts_with('-') {
            return self.read_option(line, start, content, context, stack);
        }
        self.read_requirement(line, start, content, context)
    }

    fn read_option(
        &mut self,
        line: &LogicalLine,
        start: usize,
        content: &str,
        context: FileContext<'_>,
        stack: &[PathBuf],
    ) -> Result<Option<usize>, LockError> {
        let (option, value) = split_option(content);
        let value_offset = start + (content.len() - value.len());
        let needs_value = |value: &str| -> Result<(), LockError> {
            if value.is_empty() { Err(context.error(line, start, format!("`{option}` needs a value"))) } else { Ok(()) }
        };
        match option {
            "-r" | "--requirement" | "-c" | "--constraint" => {
                needs_value(value)?;
                let purpose =
                    if matches!(option, "-c" | "--constraint") { Purpose::Constrain } else { context.purpose };
                self.include(line, value_offset, value, purpose, context, stack)?;
                Ok(None)
            }
            "-e" | "--editable" => {
                needs_value(value)?;
                self.read_editable(line, value_offset, value, context)
            }
            "-i" | "--index-url" | "--extra-index-url" => {
                needs_value(value)?;
                if !self.indexes.iter().any(|index| index == value) {
                    self.indexes.push(value.to_string());
                }
                Ok(None)
            }
            "-f" | "--find-links" | "--no-index" => {
                if option != "--no-index" {
                    needs_value(value)?;
                }
                let (at, _) = line.position(start);
                self.notes.push(format!(
                    "{}:{at}: `{content}` is not read; ftprobe deps takes --find-links and --no-index on its own command line",
                    context.path.display()
                ));
                Ok(None)
            }
            "--trusted-host" | "--no-binary" | "--only-binary" | "--use-feature" | "--config-settings" => {
                needs_value(value)?;
                Ok(None)
            }
            "--pre" | "--prefer-binary" | "--require-hashes" => Ok(None),
            _ => Err(context.error(line, start, format!("`{option}` is not an option a requirements file can hold"))),
        }
    }

    fn include(
        &mut self,
        line: &LogicalLine,
        offset: usize,
        value: &str,
        purpose: Purpose,
        context: FileContext<'_>,
        stack: &[PathBuf],
    ) -> Result<(), LockError> {
        if value.contains("://") {
            return Err(context.error(line, offset, format!("`{value}`: included files from URLs are not read")));
        }
        let base = context.path.parent().unwrap_or(Path::new("."));
        let path = base.join(value);
        let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
        if let Some(first) = stack.iter().position(|seen| *seen == canonical) {
            let mut cycle: Vec<String> = stack[first..].iter().map(|seen| seen.display().to_string()).collect();
            cycle.push(canonical.display().to_string());
            return Err(context.error(line, offset, format!("include cycle: {}", cycle.join(" -> "))));
        }
        if stack.len() >= MAX_INCLUDE_DEPTH {
            return Err(context.error(line, offset, format!("includes nest deeper than {MAX_INCLUDE_DEPTH} files")));
        }
        if self.canonical.contains(&canonical) {
            return Ok(());
        }
        let text = crate::input::read_text_limited(&path, super::MAX_LOCK_FILE_BYTES, "")
            .map_err(|problem| context.error(line, offset, format!("cannot read the included file: {problem}")))?;
        self.read_file(&path, &text, purpose, stack)
    }

    fn read_requirement(
        &mut self,
        line: &LogicalLine,
        start: usize,
        content: &str,
        context: FileContext<'_>,
    ) -> Result<Option<usize>, LockError> {
        let (requirement_text, options) = split_requirement_options(content);
        let hashes = read_hash_options(line, start + requirement_text.len(), options, context)?;
        let requirement_text = requirement_text.trim_end();
        let (name, version, specifier, source, marker) = if looks_like_url_or_path(requirement_text) {
            let (location, marker_text) = split_url_marker(requirement_text);
            let marker = marker_text
                .map(|(marker_offset, text)| {
                    super::markers::Marker::parse(text).map_err(|problem| {
                        let offset = start + marker_offset + char_bytes(text, problem.column);
                        context.error(line, offset, format!("bad environment marker `{text}`: {}", problem.message))
                    })
                })
                .transpose()?;
            let name = name_from_location(location).ok_or_else(|| {
                context.error(line, start, format!("cannot tell the package name of `{location}`; add `#egg=NAME`"))
            })?;
            (name, None, None, source_from_location(location), marker)
        } else {
            let parsed: Requirement = requirement::parse(requirement_text).map_err(|problem| {
                context.error(line, start + char_bytes(requirement_text, problem.column), problem.message)
            })?;
            let version = parsed.pinned_version();
            let specifier = if version.is_none() { parsed.specifier.clone() } else { None };
            let source = parsed.url.as_deref().map_or(Source::DEFAULT_INDEX, source_from_location);
            (parsed.name, version, specifier, source, parsed.marker)
        };
        let (line_number, column) = line.position(start);
        let dist = LockedDist {
            name,
            version,
            specifier,
            source,
            wheels: Vec::new(),
            sdist: None,
            hashes,
            marker,
            groups: Vec::new(),
            dependencies: Vec::new(),
            location: Location { file: context.index, line: line_number, column },
        };
        Ok(self.add(dist, context.purpose))
    }

    fn read_editable(
        &mut self,
        line: &LogicalLine,
        offset: usize,
        value: &str,
        context: FileContext<'_>,
    ) -> Result<Option<usize>, LockError> {
        let location = value.split_whitespace().next().unwrap_or(value);
        let base = context.path.parent().unwrap_or(Path::new("."));
        let name = name_from_location(location)
            .or_else(|| {
                let directory = base.join(location.split('#').next().unwrap_or(location));
                let directory = directory.canonicalize().unwrap_or(directory);
                directory.file_name().map(|name| normalize(&name.to_string_lossy()))
            })
            .ok_or_else(|| {
                context.error(line, offset, format!("cannot tell the package name of `{location}`; add `#egg=NAME`"))
            })?;
        let source = match source_from_location(location) {
            Source::Path { path } => Source::Editable { path },
            other => other,
        };
        let (line_number, column) = line.position(offset);
        let dist = LockedDist {
            name,
            version: None,
            specifier: None,
            source,
            wheels: Vec::new(),
            sdist: None,
            hashes: Vec::new(),
            marker: None,
            groups: Vec::new(),
            dependencies: Vec::new(),
            location: Location { file: context.index, line: line_number, column },
        };
        Ok(self.add(dist, context.purpose))
    }

    /// Records an entry, or from a constraints file only its pin; returns the entry's index for `# via`.
    fn add(&mut self, dist: LockedDist, purpose: Purpose) -> Option<usize> {
        if purpose == Purpose::Constrain {
            if let Some(version) = dist.version {
                self.constraint_pins.entry(dist.name).or_insert(version);
            }
            return None;
        }
        self.dists.push(dist);
        self.via.push(Vec::new());
        Some(self.dists.len() - 1)
    }

    /// Pins from `-c` files fill in unpinned entries from the index.
    fn apply_constraints(&mut self) {
        for dist in &mut self.dists {
            if dist.version.is_none()
                && dist.source == Source::DEFAULT_INDEX
                && let Some(version) = self.constraint_pins.get(&dist.name)
            {
                dist.version = Some(version.clone());
            }
        }
    }

    /// Entries under `# via -r file` / `(pyproject.toml)`, or every entry when no `# via` was seen.
    fn roots(&self) -> Vec<Dependency> {
        self.dists
            .iter()
            .zip(&self.via)
            .filter(|(_, parents)| !self.saw_via || parents.iter().any(|parent| names_a_file(parent)))
            .map(|(dist, _)| Dependency {
                marker: dist.marker.clone(),
                version: dist.version.clone().or_else(|| dist.specifier.clone()),
                ..Dependency::to(&dist.name)
            })
            .collect()
    }
}

/// The URL of uv's `# from https://pypi.org/simple` (one word with a scheme; other comments are prose).
fn index_annotation(body: &str) -> Option<&str> {
    let url = body.trim().strip_prefix("from ")?.trim();
    (url.contains("://") && !url.contains(char::is_whitespace)).then_some(url)
}

/// `-r requirements.in`, `-c constraints.txt`, `app (pyproject.toml)`: a via parent that is a file.
fn names_a_file(parent: &str) -> bool {
    parent.starts_with('-') || parent.contains('(')
}

/// Joins physical lines ending in `\` from `at`, moving `at` past them.
fn join_continuations(lines: &[&str], at: &mut usize) -> LogicalLine {
    let mut text = String::new();
    let mut pieces = Vec::new();
    while *at < lines.len() {
        let physical = lines[*at];
        pieces.push((u32::try_from(*at + 1).unwrap_or(u32::MAX), text.len()));
        *at += 1;
        let trimmed_end = physical.trim_end();
        match trimmed_end.strip_suffix('\\') {
            Some(before) => {
                text.push_str(before);
                text.push(' ');
            }
            None => {
                text.push_str(physical);
                break;
            }
        }
    }
    LogicalLine { text, pieces }
}

/// Where a comment starts: `#` at the start or after whitespace (so `#egg=` in URLs stays).
fn comment_start(text: &str) -> usize {
    let bytes = text.as_bytes();
    (0..bytes.len())
        .find(|&at| bytes[at] == b'#' && (at == 0 || bytes[at - 1].is_ascii_whitespace()))
        .unwrap_or(text.len())
}

/// `-r file`, `-rfile`, `--requirement=file`, `--requirement file` → (option, value).
fn split_option(content: &str) -> (&str, &str) {
    if content.starts_with("--") {
        let end = content.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(content.len());
        let value = content[end..].trim_start_matches('=').trim();
        return (&content[..end], value);
    }
    let end = content.char_indices().nth(2).map_or(content.len(), |(at, _)| at);
    (&content[..end], content[end..].trim_start_matches('=').trim())
}

/// Splits `name==1 ; marker --hash=...` at the first ` --` option.
fn split_requirement_options(content: &str) -> (&str, &str) {
    let bytes = content.as_bytes();
    let split = (1..bytes.len()).find(|&at| bytes[at - 1].is_ascii_whitespace() && content[at..].starts_with("--"));
    match split {
        Some(at) => (&content[..at], &content[at..]),
        None => (content, ""),
    }
}

/// Reads `--hash=sha256:...` (and `--hash sha256:...`) options; other per-requirement options are skipped.
fn read_hash_options(
    line: &LogicalLine,
    offset: usize,
    options: &str,
    context: FileContext<'_>,
) -> Result<Vec<Hash>, LockError> {
    let mut hashes = Vec::new();
    let words: Vec<(usize, &str)> = split_words(options);
    let mut index = 0;
    while index < words.len() {
        let (at, word) = words[index];
        let (name, inline) = match word.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (word, None),
        };
        let value = match inline {
            Some(value) => value,
            None => {
                index += 1;
                words.get(index).map(|(_, value)| *value).unwrap_or_default()
            }
        };
        match name {
            "--hash" => {
                let hash = Hash::parse(value).ok_or_else(|| {
                    context.error(line, offset + at, format!("`{value}` is not a hash (expected sha256:HEX)"))
                })?;
                hashes.push(hash);
            }
            "--config-settings" | "--global-option" | "--install-option" => {}
            _ => {
                return Err(context.error(
                    line,
                    offset + at,
                    format!("`{name}` is not an option a requirement line can hold"),
                ));
            }
        }
        index += 1;
    }
    Ok(hashes)
}

/// Whitespace-separated words with their byte offsets.
fn split_words(text: &str) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(begin)) => {
                words.push((begin, &text[begin..at]));
                start = None;
            }
            (false, None) => start = Some(at),
            _ => {}
        }
    }
    if let Some(begin) = start {
        words.push((begin, &text[begin..]));
    }
    words
}

/// The byte length of the first `column - 1` characters of `text`.
fn char_bytes(text: &str, column: usize) -> usize {
    text.chars().take(column.saturating_sub(1)).map(char::len_utf8).sum()
}

fn looks_like_url_or_path(text: &str) -> bool {
    let schemes = ["git+", "hg+", "svn+", "bzr+", "http://", "https://", "file:", "./", "../", "/", "~"];
    schemes.iter().any(|scheme| text.starts_with(scheme))
        || text
            .split(|c: char| c.is_whitespace() || c == ';')
            .next()
            .is_some_and(|first| first.ends_with(".whl") || first.ends_with(".tar.gz") || first.ends_with(".zip"))
}

/// `url ; marker` → (url, Some((byte offset of the marker, marker))).
fn split_url_marker(text: &str) -> (&str, Option<(usize, &str)>) {
    let bytes = text.as_bytes();
    let split = (1..bytes.len()).find(|&at| bytes[at] == b';' && bytes[at - 1].is_ascii_whitespace());
    match split {
        Some(at) => (text[..at].trim_end(), Some((at + 1, &text[at + 1..]))),
        None => (text.trim_end(), None),
    }
}

/// The package a URL or path names: `#egg=name`, else its wheel or sdist file name.
fn name_from_location(location: &str) -> Option<String> {
    if let Some((_, fragment)) = location.split_once('#') {
        let egg = fragment.split('&').find_map(|pair| pair.strip_prefix("egg="));
        if let Some(egg) = egg {
            return Some(normalize(egg.split('[').next().unwrap_or(egg)));
        }
    }
    let file = file_name_of(location);
    if let Some(stem) = file.strip_suffix(".whl") {
        return stem.split('-').next().filter(|name| !name.is_empty()).map(normalize);
    }
    let stem = [".tar.gz", ".zip", ".tar.bz2", ".tgz"].iter().find_map(|suffix| file.strip_suffix(suffix))?;
    stem.rsplit_once('-').map(|(name, _)| normalize(name))
}

fn source_from_location(location: &str) -> Source {
    let without_fragment = location.split('#').next().unwrap_or(location);
    for vcs in ["git+", "hg+", "svn+", "bzr+"] {
        if let Some(url) = without_fragment.strip_prefix(vcs) {
            // `git+https://host/repo.git@v1.0`: the reference follows the last `@` after the host.
            let path_start = url.find("://").map_or(0, |at| at + 3);
            let (url, reference) = match url[path_start..].rfind('@') {
                Some(at) => (&url[..path_start + at], Some(url[path_start + at + 1..].to_string())),
                None => (url, None),
            };
            return Source::Git { url: url.to_string(), reference, commit: None };
        }
    }
    if location.starts_with("http://") || location.starts_with("https://") {
        return Source::Url { url: location.to_string() };
    }
    let path = without_fragment.strip_prefix("file://").unwrap_or(without_fragment);
    Source::Path { path: path.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::install::{Selection, installed};
    use crate::lock::markers::{Environment, Platform};

    fn fixture(relative: &str) -> LockedSet {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/lockfiles/requirements").join(relative);
        crate::lock::read(&path).unwrap()
    }

    #[test]
    fn reads_warehouse_pip_compile_output() {
        let set = fixture("warehouse/main.txt");
        assert_eq!(set.format, LockFormat::Requirements);
        assert_eq!(set.dists.len(), 184);
        assert_eq!(set.roots_from, RootsFrom::LockFile);
        let cffi = set.dists_named("cffi").next().unwrap();
        assert_eq!(cffi.version.as_deref(), Some("2.0.0"));
        assert!(cffi.hashes.len() > 10);
        assert!(cffi.hashes.iter().all(|hash| hash.algorithm == "sha256" && hash.digest.len() == 64));
        assert_eq!(cffi.location.line, 217);
        let cryptography = set.dists_named("cryptography").next().unwrap();
        assert!(cryptography.dependencies.iter().any(|edge| edge.name == "cffi"), "cffi is `# via cryptography`");
        let alembic = set.dists_named("alembic").next().unwrap();
        assert_eq!(alembic.hashes.len(), 2);
        let enum_support = set.dists_named("alembic-postgresql-enum").next().unwrap();
        assert!(enum_support.dependencies.iter().any(|edge| edge.name == "alembic"));
        assert!(set.roots.iter().any(|root| root.name == "alembic"), "alembic is `# via -r requirements/main.in`");
        assert!(set.roots.iter().any(|root| root.name == "alembic-postgresql-enum"));
        assert!(!set.roots.iter().any(|root| root.name == "amqp"), "amqp is `# via kombu` only");
        let kombu = set.dists_named("kombu").next().unwrap();
        assert!(kombu.dependencies.iter().any(|edge| edge.name == "amqp"));
        assert!(set.dists_named("pydantic-core").next().is_some());
    }

    #[test]
    fn uvs_index_annotations_say_where_each_pin_came_from() {
        let text = "a==1\n    # via\n    #   -r requirements.in\n    #   b\n    # from https://example.org/simple/\n\
                    b==2\n    # via -r requirements.in\n    # from the usual place\n";
        let set = read(Path::new("/nonexistent/requirements.txt"), text).unwrap();
        let a = set.dists_named("a").next().unwrap();
        assert_eq!(a.source, Source::Registry { index: Some("https://example.org/simple/".into()) });
        assert!(set.dists_named("b").next().unwrap().dependencies.iter().any(|edge| edge.name == "a"));
        assert_eq!(set.dists_named("b").next().unwrap().source, Source::DEFAULT_INDEX, "prose, not a URL");
    }

    #[test]
    fn reads_mypy_compiled_file_with_markers() {
        let set = fixture("mypy/test-requirements.txt");
        assert_eq!(set.dists.len(), 31);
        let librt = set.dists_named("librt").next().unwrap();
        assert_eq!(librt.version.as_deref(), Some("0.15.0"));
        assert_eq!(librt.marker.as_ref().unwrap().text(), "platform_python_implementation != \"PyPy\"");
        let xdist = set.dists_named("pytest-xdist").next().unwrap();
        assert!(xdist.dependencies.iter().any(|edge| edge.name == "pytest"), "pytest is `# via pytest-xdist`");
        assert!(set.roots.iter().any(|root| root.name == "librt"), "via -r mypy-requirements.txt");
        let lxml = set.dists_named("lxml").next().unwrap();
        assert_eq!(lxml.marker.as_ref().unwrap().text(), "python_version < \"3.16\"");
        let names_on = |minor: u32| -> Vec<String> {
            let environment = Environment::new(3, minor, true, Platform::LinuxX86_64);
            installed(&set, &environment, &Selection::default()).iter().map(|dist| dist.name.clone()).collect()
        };
        assert!(names_on(15).contains(&"lxml".to_string()));
        assert!(!names_on(16).contains(&"lxml".to_string()), "lxml is only below 3.16 here");
        assert!(names_on(16).contains(&"librt".to_string()));
    }

    #[test]
    fn follows_mypys_includes() {
        let set = fixture("mypy/test-requirements.in");
        assert_eq!(set.files.len(), 3, "{:?}", set.files);
        assert_eq!(set.roots_from, RootsFrom::EveryEntry);
        let typing: Vec<_> = set.dists_named("typing-extensions").collect();
        assert_eq!(typing.len(), 2);
        assert_eq!(typing[0].specifier.as_deref(), Some(">=4.6.0"));
        assert_eq!(typing[0].version, None);
        assert!(set.files[typing[0].location.file].ends_with("mypy-requirements.txt"));
        assert_eq!(typing[0].location.line, 3);
        let old = Environment::new(3, 13, true, Platform::LinuxX86_64);
        let new = Environment::new(3, 15, true, Platform::LinuxX86_64);
        let typing_specifier = |environment: &Environment| -> Vec<Option<String>> {
            installed(&set, environment, &Selection::default())
                .iter()
                .filter(|dist| dist.name == "typing-extensions")
                .map(|dist| dist.specifier.clone())
                .collect()
        };
        assert_eq!(typing_specifier(&old), [Some(">=4.6.0".to_string())]);
        assert_eq!(typing_specifier(&new), [Some(">=4.16.0".to_string())]);
        // mypy-requirements.txt is included twice (directly and through build-requirements.txt), read once.
        assert_eq!(set.dists_named("pathspec").count(), 1);
    }

    fn write(directory: &Path, name: &str, text: &str) -> PathBuf {
        let path = directory.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn multi_line_via_and_options() {
        let directory = tempfile::tempdir().unwrap();
        let text = "\
# This file was autogenerated by uv via the following command:
#    uv pip compile --universal --generate-hashes requirements.in
--index-url https://pypi.org/simple
--extra-index-url=https://download.pytorch.org/whl/cpu

cffi==2.0.0 ; platform_python_implementation != 'PyPy' \\
    --hash=sha256:AAAA \\
    --hash sha256:bbbb
    # via
    #   -r requirements.in
    #   cryptography
cryptography==46.0.3 --hash=sha256:cccc
    # via -r requirements.in
tomli==2.2.1 ; python_full_version < '3.11'
    # via
    #   black
    #   mypy
-e ./local/my_pkg
-e git+https://github.com/example/tool.git@v1.2#egg=Tool_Name
./wheels/foo_bar-1.0-py3-none-any.whl ; sys_platform == 'linux'
yarl @ https://files.example/yarl-1.0.tar.gz
black==24.1.0  # a trailing comment
";
        std::fs::create_dir_all(directory.path().join("local/my_pkg")).unwrap();
        let path = write(directory.path(), "requirements.txt", text);
        let set = crate::lock::read(&path).unwrap();
        assert_eq!(set.indexes, ["https://pypi.org/simple", "https://download.pytorch.org/whl/cpu"]);
        let names: Vec<&str> = set.dists.iter().map(|dist| dist.name.as_str()).collect();
        assert_eq!(names, ["cffi", "cryptography", "tomli", "my-pkg", "tool-name", "foo-bar", "yarl", "black"]);
        let cffi = &set.dists[0];
        assert_eq!(cffi.hashes.iter().map(ToString::to_string).collect::<Vec<_>>(), ["sha256:aaaa", "sha256:bbbb"]);
        assert_eq!(cffi.marker.as_ref().unwrap().text(), "platform_python_implementation != 'PyPy'");
        assert_eq!((cffi.location.line, cffi.location.column), (6, 1));
        assert!(set.dists[1].dependencies.iter().any(|edge| edge.name == "cffi"));
        assert!(set.dists[7].dependencies.iter().any(|edge| edge.name == "tomli"));
        let roots: Vec<&str> = set.roots.iter().map(|root| root.name.as_str()).collect();
        assert_eq!(roots, ["cffi", "cryptography"]);
        assert_eq!(set.dists[3].source, Source::Editable { path: "./local/my_pkg".into() });
        assert_eq!(
            set.dists[4].source,
            Source::Git {
                url: "https://github.com/example/tool.git".into(),
                reference: Some("v1.2".into()),
                commit: None
            }
        );
        assert_eq!(set.dists[5].source, Source::Path { path: "./wheels/foo_bar-1.0-py3-none-any.whl".into() });
        assert!(set.dists[5].marker.is_some());
        assert_eq!(set.dists[6].source, Source::Url { url: "https://files.example/yarl-1.0.tar.gz".into() });
        assert_eq!(set.dists[7].version.as_deref(), Some("24.1.0"));
    }

    /// pip-compile copies `--find-links` into its output; deps takes it on its command line.
    #[test]
    fn find_links_and_no_index_lines_become_notes() {
        let directory = tempfile::tempdir().unwrap();
        let text = "--find-links ./wheels  # copied by pip-compile\n-f=other\n--no-index\nsix==1.17.0\n";
        let path = write(directory.path(), "requirements.txt", text);
        let set = crate::lock::read(&path).unwrap();
        let not_read = "is not read; ftprobe deps takes --find-links and --no-index on its own command line";
        let shown = path.display();
        let expected: Vec<String> = ["1: `--find-links ./wheels`", "2: `-f=other`", "3: `--no-index`"]
            .iter()
            .map(|at| format!("{shown}:{at} {not_read}"))
            .collect();
        assert_eq!(set.notes, expected);
        assert_eq!(set.dists.len(), 1);
        let missing = write(directory.path(), "bad.txt", "--find-links\n");
        assert!(crate::lock::read(&missing).unwrap_err().to_string().contains("`--find-links` needs a value"));
    }

    #[test]
    fn include_cycles_are_errors() {
        let directory = tempfile::tempdir().unwrap();
        let first = write(directory.path(), "a.txt", "six==1.0\n-r b.txt\n");
        write(directory.path(), "b.txt", "\n\n-r a.txt\n");
        let error = crate::lock::read(&first).unwrap_err().to_string();
        assert!(error.contains("b.txt:3:4: include cycle: "), "{error}");
        assert!(error.ends_with("a.txt"), "{error}");
        let missing = write(directory.path(), "c.txt", "-r nowhere.txt\n");
        let error = crate::lock::read(&missing).unwrap_err().to_string();
        assert!(error.contains("c.txt:1:4: cannot read the included file"), "{error}");
    }

    #[test]
    fn constraints_pin_without_adding_entries() {
        let directory = tempfile::tempdir().unwrap();
        write(directory.path(), "constraints.txt", "six==1.16.0\nattrs==25.1.0\n");
        let path = write(directory.path(), "requirements.txt", "-c constraints.txt\nsix\n");
        let set = crate::lock::read(&path).unwrap();
        assert_eq!(set.dists.len(), 1);
        assert_eq!(set.dists[0].version.as_deref(), Some("1.16.0"));
        assert_eq!(set.files.len(), 2);
    }

    #[test]
    fn unreadable_lines_name_line_and_column() {
        let directory = tempfile::tempdir().unwrap();
        let cases = [
            ("six==1.0\nfoo >=one\n", "2:5:"),
            ("six==1.0 \\\n    --hash=md5\n", "2:5:"),
            ("six==1.0 ; python_version >\n", "1:28:"),
            ("--frobnicate\n", "1:1:"),
            ("six==1.0 --frob\n", "1:10:"),
            ("six===\n", "1:4:"),
        ];
        for (text, expected) in cases {
            let path = write(directory.path(), "requirements.txt", text);
            let error = crate::lock::read(&path).unwrap_err().to_string();
            assert!(error.contains(&format!("requirements.txt:{expected}")), "{text:?}: {error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }
}
