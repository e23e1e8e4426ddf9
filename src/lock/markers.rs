//! PEP 508 environment markers: parsing, and evaluation for a target
//! environment named by Python version, build kind and platform.
//!
//! Besides the PEP 508 variables this reads the lock-file-only sets of
//! PEP 751 (`'dev' in dependency_groups`, `'cpu' in extras`) and the draft
//! PEP 780 `sys_abi_features` (`'free-threading' in sys_abi_features`), the
//! only marker that can tell a free-threaded interpreter from a GIL one.
//! Comparisons follow `packaging`: a version comparison when the right side
//! makes a PEP 440 specifier with the operator, else string comparison.

use std::fmt;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifier};
use serde::{Serialize, Serializer};

use super::normalize;
use crate::model::platform::Machine;

mod parse;

/// A parsed environment marker, kept with its text.
#[derive(Clone, Debug)]
pub struct Marker {
    text: String,
    expression: Expression,
}

impl PartialEq for Marker {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Marker {}

impl Serialize for Marker {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl fmt::Display for Marker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a marker does not parse: what is wrong, at which character.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad environment marker `{text}` at character {column}: {message}")]
pub struct MarkerError {
    pub text: String,
    /// 1-based character position in the marker text.
    pub column: usize,
    pub message: String,
}

/// What extras and dependency groups are requested where a marker is
/// evaluated: the dependent's extras for `extra`, the lock file's requested
/// extras and groups for PEP 751's `extras` and `dependency_groups`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Requested<'a> {
    pub extras: &'a [String],
    pub groups: &'a [String],
}

impl Marker {
    /// Parses a marker expression such as `python_version < "3.11" and sys_platform == "linux"`.
    pub fn parse(text: &str) -> Result<Marker, MarkerError> {
        Ok(Marker { text: text.trim().to_string(), expression: parse::expression(text)? })
    }

    /// The marker as written (trimmed).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the marker holds in `environment` with `requested` extras and groups.
    pub fn evaluate(&self, environment: &Environment, requested: Requested<'_>) -> bool {
        self.expression.evaluate(environment, requested)
    }

    /// The extras the marker compares `extra` with (`extra == "socks"`), normalized.
    pub fn extras_named(&self) -> Vec<String> {
        let mut names = Vec::new();
        self.expression.extras_named(&mut names);
        names.sort();
        names.dedup();
        names
    }

    /// Both markers (`None` holds everywhere).
    pub fn both(first: Option<&Marker>, second: Option<&Marker>) -> Option<Marker> {
        match (first, second) {
            (None, None) => None,
            (Some(one), None) | (None, Some(one)) => Some(one.clone()),
            (Some(a), Some(b)) => Some(Marker {
                text: format!("({}) and ({})", a.text, b.text),
                expression: Expression::All(vec![a.expression.clone(), b.expression.clone()]),
            }),
        }
    }

    /// Either marker: `None` when the list is empty or any is `None`-like (holds everywhere).
    pub fn any_of(markers: Vec<Marker>) -> Option<Marker> {
        match markers.len() {
            0 => None,
            1 => markers.into_iter().next(),
            _ => Some(Marker {
                text: markers.iter().map(|m| format!("({})", m.text)).collect::<Vec<_>>().join(" or "),
                expression: Expression::Any(markers.into_iter().map(|m| m.expression).collect()),
            }),
        }
    }
}

impl FromStr for Marker {
    type Err = MarkerError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Marker::parse(text)
    }
}

/// The platforms ftprobe checks wheels for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Platform {
    #[serde(rename = "linux-x86_64")]
    LinuxX86_64,
    #[serde(rename = "linux-aarch64")]
    LinuxAarch64,
    #[serde(rename = "macos-arm64")]
    MacosArm64,
    #[serde(rename = "macos-x86_64")]
    MacosX86_64,
    #[serde(rename = "windows-amd64")]
    WindowsAmd64,
}

impl Platform {
    /// The marker platform of a wheel platform (`ftprobe deps --platform`, or
    /// this machine's); None for one markers here cannot describe.
    pub fn of(machine: &Machine) -> Option<Platform> {
        Some(match machine {
            Machine::Manylinux { arch, .. } | Machine::Musllinux { arch, .. } => match arch.as_str() {
                "x86_64" => Platform::LinuxX86_64,
                "aarch64" => Platform::LinuxAarch64,
                _ => return None,
            },
            Machine::Macos { arch, .. } => match arch.as_str() {
                "arm64" => Platform::MacosArm64,
                "x86_64" => Platform::MacosX86_64,
                _ => return None,
            },
            Machine::Windows { tag } if tag == "win_amd64" => Platform::WindowsAmd64,
            Machine::Windows { .. } => return None,
        })
    }

    pub const ALL: [Platform; 5] = [
        Platform::LinuxX86_64,
        Platform::LinuxAarch64,
        Platform::MacosArm64,
        Platform::MacosX86_64,
        Platform::WindowsAmd64,
    ];

    /// The short name: `linux-x86_64`, `macos-arm64`, `windows-amd64`.
    pub fn short_name(self) -> &'static str {
        match self {
            Platform::LinuxX86_64 => "linux-x86_64",
            Platform::LinuxAarch64 => "linux-aarch64",
            Platform::MacosArm64 => "macos-arm64",
            Platform::MacosX86_64 => "macos-x86_64",
            Platform::WindowsAmd64 => "windows-amd64",
        }
    }

    fn sys_platform(self) -> &'static str {
        match self {
            Platform::LinuxX86_64 | Platform::LinuxAarch64 => "linux",
            Platform::MacosArm64 | Platform::MacosX86_64 => "darwin",
            Platform::WindowsAmd64 => "win32",
        }
    }

    fn platform_system(self) -> &'static str {
        match self {
            Platform::LinuxX86_64 | Platform::LinuxAarch64 => "Linux",
            Platform::MacosArm64 | Platform::MacosX86_64 => "Darwin",
            Platform::WindowsAmd64 => "Windows",
        }
    }

    /// `platform.machine()` as CPython reports it there.
    fn platform_machine(self) -> &'static str {
        match self {
            Platform::LinuxX86_64 | Platform::MacosX86_64 => "x86_64",
            Platform::LinuxAarch64 => "aarch64",
            Platform::MacosArm64 => "arm64",
            Platform::WindowsAmd64 => "AMD64",
        }
    }

    fn os_name(self) -> &'static str {
        match self {
            Platform::WindowsAmd64 => "nt",
            _ => "posix",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

/// Why a string names no platform.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a platform; use linux-x86_64, linux-aarch64, macos-arm64, macos-x86_64 or windows-amd64")]
pub struct PlatformParseError(pub String);

impl FromStr for Platform {
    type Err = PlatformParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lowered = text.trim().to_ascii_lowercase().replace('_', "-");
        let platform = match lowered.as_str() {
            "linux-x86-64" | "linux-amd64" | "linux" => Platform::LinuxX86_64,
            "linux-aarch64" | "linux-arm64" => Platform::LinuxAarch64,
            "macos-arm64" | "macos-aarch64" | "darwin-arm64" | "macos" => Platform::MacosArm64,
            "macos-x86-64" | "darwin-x86-64" => Platform::MacosX86_64,
            "windows-amd64" | "windows-x86-64" | "win-amd64" | "windows" => Platform::WindowsAmd64,
            _ => return Err(PlatformParseError(text.to_string())),
        };
        Ok(platform)
    }
}

/// A target interpreter: CPython `major.minor[.patch]`, GIL or
/// free-threaded, on one platform. The caller need not know marker names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Environment {
    pub major: u32,
    pub minor: u32,
    /// Used for `python_full_version`; 0 unless set with [`Environment::with_patch`].
    pub patch: u32,
    pub free_threaded: bool,
    pub platform: Platform,
}

impl Environment {
    pub fn new(major: u32, minor: u32, free_threaded: bool, platform: Platform) -> Environment {
        Environment { major, minor, patch: 0, free_threaded, platform }
    }

    /// The same target at patch release `patch` (`python_full_version`).
    pub fn with_patch(self, patch: u32) -> Environment {
        Environment { patch, ..self }
    }

    fn string_value(&self, variable: Variable) -> Option<String> {
        let full_version = || format!("{}.{}.{}", self.major, self.minor, self.patch);
        let value = match variable {
            Variable::PythonVersion => format!("{}.{}", self.major, self.minor),
            Variable::PythonFullVersion | Variable::ImplementationVersion => full_version(),
            Variable::ImplementationName => "cpython".into(),
            Variable::PlatformPythonImplementation => "CPython".into(),
            Variable::SysPlatform => self.platform.sys_platform().into(),
            Variable::PlatformSystem => self.platform.platform_system().into(),
            Variable::PlatformMachine => self.platform.platform_machine().into(),
            Variable::OsName => self.platform.os_name().into(),
            // Kernel and OS build strings are not part of the target.
            Variable::PlatformRelease | Variable::PlatformVersion => String::new(),
            Variable::Extra | Variable::Extras | Variable::DependencyGroups | Variable::SysAbiFeatures => return None,
        };
        Some(value)
    }

    /// PEP 780's `sys_abi_features` for this target.
    fn abi_features(&self) -> Vec<String> {
        let threading = if self.free_threaded { "free-threading" } else { "gil-enabled" };
        vec![threading.to_string(), "64-bit".to_string()]
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let build = if self.free_threaded { "t" } else { "" };
        write!(f, "{}.{}{build} {}", self.major, self.minor, self.platform)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variable {
    PythonVersion,
    PythonFullVersion,
    ImplementationName,
    ImplementationVersion,
    PlatformPythonImplementation,
    SysPlatform,
    PlatformSystem,
    PlatformMachine,
    PlatformRelease,
    PlatformVersion,
    OsName,
    Extra,
    Extras,
    DependencyGroups,
    SysAbiFeatures,
}

impl Variable {
    fn from_name(name: &str) -> Option<Variable> {
        let variable = match name {
            "python_version" => Variable::PythonVersion,
            "python_full_version" => Variable::PythonFullVersion,
            "implementation_name" => Variable::ImplementationName,
            "implementation_version" => Variable::ImplementationVersion,
            "platform_python_implementation" | "platform.python_implementation" | "python_implementation" => {
                Variable::PlatformPythonImplementation
            }
            "sys_platform" | "sys.platform" => Variable::SysPlatform,
            "platform_system" => Variable::PlatformSystem,
            "platform_machine" | "platform.machine" => Variable::PlatformMachine,
            "platform_release" => Variable::PlatformRelease,
            "platform_version" | "platform.version" => Variable::PlatformVersion,
            "os_name" | "os.name" => Variable::OsName,
            "extra" => Variable::Extra,
            "extras" => Variable::Extras,
            "dependency_groups" => Variable::DependencyGroups,
            "sys_abi_features" => Variable::SysAbiFeatures,
            _ => return None,
        };
        Some(variable)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    Equal,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Compatible,
    Arbitrary,
    In,
    NotIn,
}

impl Operator {
    fn symbol(self) -> &'static str {
        match self {
            Operator::Equal => "==",
            Operator::NotEqual => "!=",
            Operator::Less => "<",
            Operator::LessEqual => "<=",
            Operator::Greater => ">",
            Operator::GreaterEqual => ">=",
            Operator::Compatible => "~=",
            Operator::Arbitrary => "===",
            Operator::In => "in",
            Operator::NotIn => "not in",
        }
    }

    /// The result of comparing two strings as Python does, `None` where Python has no such operator.
    fn compare_strings(self, left: &str, right: &str) -> Option<bool> {
        let result = match self {
            Operator::Equal | Operator::Arbitrary => left == right,
            Operator::NotEqual => left != right,
            Operator::Less => left < right,
            Operator::LessEqual => left <= right,
            Operator::Greater => left > right,
            Operator::GreaterEqual => left >= right,
            Operator::In => right.contains(left),
            Operator::NotIn => !right.contains(left),
            Operator::Compatible => return None,
        };
        Some(result)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Operand {
    Variable(Variable),
    Literal(String),
}

#[derive(Clone, Debug)]
enum Expression {
    All(Vec<Expression>),
    Any(Vec<Expression>),
    Compare { left: Operand, operator: Operator, right: Operand },
}

/// A value a marker compares: text, or a PEP 751 / PEP 780 set.
enum Value {
    Text(String),
    Set(Vec<String>),
    /// `extra`: true for each requested extra, compared after name normalization.
    Extra,
}

impl Expression {
    fn extras_named(&self, names: &mut Vec<String>) {
        match self {
            Expression::All(parts) | Expression::Any(parts) => parts.iter().for_each(|part| part.extras_named(names)),
            Expression::Compare { left, right, .. } => match (left, right) {
                (Operand::Variable(Variable::Extra), Operand::Literal(name))
                | (Operand::Literal(name), Operand::Variable(Variable::Extra)) => names.push(normalize(name)),
                _ => {}
            },
        }
    }

    fn evaluate(&self, environment: &Environment, requested: Requested<'_>) -> bool {
        match self {
            Expression::All(parts) => parts.iter().all(|part| part.evaluate(environment, requested)),
            Expression::Any(parts) => parts.iter().any(|part| part.evaluate(environment, requested)),
            Expression::Compare { left, operator, right } => {
                let value = |operand: &Operand| match operand {
                    Operand::Literal(text) => Value::Text(text.clone()),
                    Operand::Variable(Variable::Extra) => Value::Extra,
                    Operand::Variable(Variable::Extras) => Value::Set(requested.extras.to_vec()),
                    Operand::Variable(Variable::DependencyGroups) => Value::Set(requested.groups.to_vec()),
                    Operand::Variable(Variable::SysAbiFeatures) => Value::Set(environment.abi_features()),
                    Operand::Variable(variable) => Value::Text(environment.string_value(*variable).unwrap_or_default()),
                };
                compare(&value(left), *operator, &value(right), requested.extras)
            }
        }
    }
}

fn compare(left: &Value, operator: Operator, right: &Value, extras: &[String]) -> bool {
    match (left, right) {
        (Value::Text(item), Value::Set(set)) => {
            let member = set.iter().any(|element| normalize(element) == normalize(item));
            match operator {
                Operator::In => member,
                Operator::NotIn => !member,
                _ => false,
            }
        }
        (Value::Extra, Value::Text(name)) | (Value::Text(name), Value::Extra) => {
            let requested = extras.iter().any(|extra| normalize(extra) == normalize(name));
            match operator {
                Operator::Equal => requested,
                Operator::NotEqual => !requested,
                _ => false,
            }
        }
        (Value::Text(left), Value::Text(right)) => compare_text(left, operator, right),
        _ => false,
    }
}

/// `packaging`'s rule: a version comparison when `operator` + `right` is a
/// PEP 440 specifier, else Python's string operator; no operator is false.
fn compare_text(left: &str, operator: Operator, right: &str) -> bool {
    if !matches!(operator, Operator::In | Operator::NotIn)
        && let Ok(specifier) = VersionSpecifier::from_str(&format!("{}{}", operator.symbol(), right))
    {
        return Version::from_str(left).is_ok_and(|version| specifier.contains(&version));
    }
    operator.compare_strings(left, right).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(marker: &str, environment: Environment) -> bool {
        Marker::parse(marker).unwrap().evaluate(&environment, Requested::default())
    }

    const LINUX_313T: Environment =
        Environment { major: 3, minor: 13, patch: 0, free_threaded: true, platform: Platform::LinuxX86_64 };

    #[test]
    fn versions_compare_as_versions_not_strings() {
        assert!(holds("python_version >= '3.9'", LINUX_313T));
        assert!(!holds("python_version < '3.9'", LINUX_313T));
        assert!(holds("python_full_version >= '3.13'", LINUX_313T));
        assert!(holds("python_full_version == '3.13.*'", LINUX_313T));
        assert!(!holds("python_full_version == '3.14.*'", LINUX_313T));
        assert!(holds("'3.11' <= python_version", LINUX_313T));
        assert!(holds("python_version ~= '3.10'", LINUX_313T));
        assert!(!holds("python_full_version >= '3.13.1'", LINUX_313T));
        assert!(holds("python_full_version >= '3.13.1'", LINUX_313T.with_patch(5)));
    }

    #[test]
    fn platform_variables_follow_the_target() {
        let mac = Environment::new(3, 14, false, Platform::MacosArm64);
        let windows = Environment::new(3, 14, true, Platform::WindowsAmd64);
        assert!(holds("sys_platform == 'darwin' and platform_machine == 'arm64'", mac));
        assert!(holds("platform_system == 'Windows' and os_name == 'nt'", windows));
        assert!(holds("platform_machine == 'AMD64'", windows));
        assert!(holds("sys_platform == \"linux\" and platform_machine == \"x86_64\"", LINUX_313T));
        assert!(holds("platform_python_implementation != 'PyPy'", LINUX_313T));
        assert!(holds("implementation_name == 'cpython'", LINUX_313T));
        assert!(!holds("sys_platform == 'win32' or sys_platform == 'darwin'", LINUX_313T));
        assert!(holds("(sys_platform == 'win32' or sys_platform == 'linux') and python_version > '3.12'", LINUX_313T));
        assert!(holds("'linux' in sys_platform", LINUX_313T));
        assert!(holds("platform_machine not in 'arm64 aarch64'", LINUX_313T));
        assert!(holds("sys.platform == 'linux'", LINUX_313T));
    }

    #[test]
    fn free_threading_reads_the_draft_abi_features_marker() {
        let gil = Environment::new(3, 13, false, Platform::LinuxX86_64);
        assert!(holds("'free-threading' in sys_abi_features", LINUX_313T));
        assert!(!holds("'free-threading' in sys_abi_features", gil));
        assert!(holds("\"gil-enabled\" in sys_abi_features", gil));
        assert!(holds("'free-threading' not in sys_abi_features", gil));
    }

    #[test]
    fn extras_and_groups_come_from_what_is_requested() {
        let marker = Marker::parse("extra == 'Socks_Proxy' and python_version >= '3.8'").unwrap();
        let socks = ["socks-proxy".to_string()];
        assert!(marker.evaluate(&LINUX_313T, Requested { extras: &socks, groups: &[] }));
        assert!(!marker.evaluate(&LINUX_313T, Requested::default()));
        assert_eq!(marker.extras_named(), ["socks-proxy"]);
        let either = Marker::parse("python_version < '3.11' and (extra == 'b' or 'a' == extra)").unwrap();
        assert_eq!(either.extras_named(), ["a", "b"]);
        assert!(Marker::parse("python_version < '3.11'").unwrap().extras_named().is_empty());
        let pylock = Marker::parse("'dev' in dependency_groups or 'cpu' in extras").unwrap();
        let dev = ["dev".to_string()];
        assert!(pylock.evaluate(&LINUX_313T, Requested { extras: &[], groups: &dev }));
        assert!(!pylock.evaluate(&LINUX_313T, Requested::default()));
        assert!(holds("extra != 'x'", LINUX_313T));
    }

    #[test]
    fn bad_markers_say_where() {
        let error = Marker::parse("python_version >= '3.8' and").unwrap_err();
        assert_eq!(error.column, 28);
        let error = Marker::parse("python_verison >= '3.8'").unwrap_err();
        assert_eq!((error.column, error.message.as_str()), (1, "`python_verison` is not a marker variable"));
        let error = Marker::parse("os_name == 'nt").unwrap_err();
        assert_eq!(error.column, 12);
        assert!(Marker::parse("(os_name == 'nt'").is_err());
        assert!(Marker::parse("os_name => 'nt'").is_err());
        assert!(Marker::parse("'a' == 'b'").is_err());
        assert!(Marker::parse("os_name not 'nt'").is_err());
        assert!(Marker::parse("").is_err());
        assert!(Marker::parse("os_name == 'nt' os_name").is_err());
    }

    #[test]
    fn undefined_comparisons_are_false_not_errors() {
        assert!(!holds("platform_release ~= 'abc'", LINUX_313T));
        assert!(!holds("sys_platform ~= 'linux'", LINUX_313T));
    }

    #[test]
    fn markers_combine() {
        let a = Marker::parse("sys_platform == 'linux'").unwrap();
        let b = Marker::parse("python_version < '3.13'").unwrap();
        let both = Marker::both(Some(&a), Some(&b)).unwrap();
        assert!(!both.evaluate(&LINUX_313T, Requested::default()));
        let either = Marker::any_of(vec![a, b]).unwrap();
        assert!(either.evaluate(&LINUX_313T, Requested::default()));
        assert_eq!(either.text(), "(sys_platform == 'linux') or (python_version < '3.13')");
    }

    #[test]
    fn platforms_parse_from_short_names() {
        for platform in Platform::ALL {
            assert_eq!(platform.short_name().parse::<Platform>().unwrap(), platform);
        }
        assert_eq!("linux_x86_64".parse::<Platform>().unwrap(), Platform::LinuxX86_64);
        assert!("solaris".parse::<Platform>().is_err());
    }

    #[test]
    fn wheel_platforms_map_to_marker_platforms() {
        let of = |tag: &str| Platform::of(&tag.parse::<crate::model::platform::Platform>().unwrap().machine);
        assert_eq!(of("manylinux_2_28_x86_64"), Some(Platform::LinuxX86_64));
        assert_eq!(of("musllinux_1_2_aarch64"), Some(Platform::LinuxAarch64));
        assert_eq!(of("macos"), Some(Platform::MacosArm64));
        assert_eq!(of("macosx_11_0_x86_64"), Some(Platform::MacosX86_64));
        assert_eq!(of("windows"), Some(Platform::WindowsAmd64));
        assert_eq!(of("win32"), None);
        assert_eq!(of("manylinux_2_28_ppc64le"), None);
    }
}
