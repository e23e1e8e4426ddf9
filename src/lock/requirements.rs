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
        supported_environments: None,
        roots,
        roots_from,
        install_rule: InstallRule::EveryEntry,
        extras: Vec::new(),
        groups: Vec::new(),
        default_groups: Vec::new(),
        indexes: reader.indexes,
        notes: reader.notes,
        conflicts: Vec::new(),
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
mod tests;
