//! Unit tests of the requirements reader.

use super::*;
use crate::lock::install::{Selection, installed};
use crate::lock::markers::{Environment, Platform};

fn fixture(relative: &str) -> LockedSet {
    crate::lock::test_fixtures::read(&format!("requirements/{relative}"))
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
        Source::Git { url: "https://github.com/example/tool.git".into(), reference: Some("v1.2".into()), commit: None }
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
