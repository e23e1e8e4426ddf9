#![allow(unsafe_code)]
//! The only place that calls into libpython. It opens the library with
//! `RTLD_NOW | RTLD_GLOBAL` (extensions are not linked against libpython and
//! need its symbols global), and exposes safe methods. Object pointers stay
//! opaque: no `PyObject` field is ever read, because the layout differs
//! between default and free-threaded builds; only exported functions are
//! called, and configuration goes through the environment (PYTHONHOME and
//! friends, set by the parent), since `PyConfig` differs between builds.

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::path::Path;

#[cfg(unix)]
use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
#[cfg(windows)]
use libloading::os::windows::Library;

use super::protocol::SubinterpreterConfig;

/// `PyStatus` (3.8+): returned by value.
#[repr(C)]
struct PyStatus {
    kind: c_int,
    func: *const c_char,
    err_msg: *const c_char,
    exitcode: c_int,
}

/// `PyInterpreterConfig` (3.12+): seven ints, the same in 3.12 to 3.15.
#[repr(C)]
struct PyInterpreterConfig {
    use_main_obmalloc: c_int,
    allow_fork: c_int,
    allow_exec: c_int,
    allow_threads: c_int,
    allow_daemon_threads: c_int,
    check_multi_interp_extensions: c_int,
    gil: c_int,
}

type ThreadState = *mut c_void;

/// A loaded, possibly initialised libpython.
pub struct LibPython {
    _library: Library,
    initialize_ex: unsafe extern "C" fn(c_int),
    run_simple_string: unsafe extern "C" fn(*const c_char) -> c_int,
    thread_state_get: unsafe extern "C" fn() -> ThreadState,
    thread_state_swap: unsafe extern "C" fn(ThreadState) -> ThreadState,
    end_interpreter: unsafe extern "C" fn(ThreadState),
    new_interpreter_from_config: Option<unsafe extern "C" fn(*mut ThreadState, *const PyInterpreterConfig) -> PyStatus>,
}

/// Why libpython could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LibPythonError {
    #[error("cannot load `{path}`: {reason}")]
    Load { path: String, reason: String },
    #[error("`{path}` lacks {symbol}: it is not a CPython 3.12+ libpython")]
    Missing { path: String, symbol: &'static str },
    #[error("the code contains a NUL byte")]
    Nul,
    #[error("Py_NewInterpreterFromConfig failed in {func}: {message}")]
    NewInterpreter { func: String, message: String },
}

impl LibPython {
    /// Opens `path` with `RTLD_NOW | RTLD_GLOBAL` and resolves the functions used.
    pub fn open(path: &Path) -> Result<Self, LibPythonError> {
        let shown = path.display().to_string();
        // SAFETY: loading libpython runs its initialisers, which only set up
        // static data; it is done once, before any other Python call.
        #[cfg(unix)]
        let library = unsafe { Library::open(Some(path), RTLD_NOW | RTLD_GLOBAL) }
            .map_err(|e| LibPythonError::Load { path: shown.clone(), reason: e.to_string() })?;
        // SAFETY: as above (Windows: pythonXY.dll exports its symbols to
        // extensions that link it; there is no global namespace to join).
        #[cfg(windows)]
        let library = unsafe { Library::new(path) }
            .map_err(|e| LibPythonError::Load { path: shown.clone(), reason: e.to_string() })?;
        macro_rules! symbol {
            ($name:literal) => {
                // SAFETY: the type matches the CPython signature of this exported
                // function (cpython-reference.md, section D), for 3.12 to 3.15.
                unsafe {
                    *library
                        .get(concat!($name, "\0").as_bytes())
                        .map_err(|_| LibPythonError::Missing { path: shown.clone(), symbol: $name })?
                }
            };
        }
        let initialize_ex = symbol!("Py_InitializeEx");
        let run_simple_string = symbol!("PyRun_SimpleString");
        let thread_state_get = symbol!("PyThreadState_Get");
        let thread_state_swap = symbol!("PyThreadState_Swap");
        let end_interpreter = symbol!("Py_EndInterpreter");
        // SAFETY: as above; absent before 3.12.
        let new_interpreter_from_config = unsafe { library.get(b"Py_NewInterpreterFromConfig\0") }.ok().map(|s| *s);
        Ok(LibPython {
            _library: library,
            initialize_ex,
            run_simple_string,
            thread_state_get,
            thread_state_swap,
            end_interpreter,
            new_interpreter_from_config,
        })
    }

    /// `Py_InitializeEx(0)`: no signal handlers, so the parent's kill works as sent.
    pub fn initialize(&self) {
        // SAFETY: called once, on the main thread, before any other API call.
        unsafe { (self.initialize_ex)(0) }
    }

    /// Runs `code` in the current interpreter; false when it raised (the
    /// traceback is printed to stderr by CPython).
    pub fn run(&self, code: &str) -> Result<bool, LibPythonError> {
        let code = CString::new(code).map_err(|_| LibPythonError::Nul)?;
        // SAFETY: the interpreter is initialised and this thread holds its thread state.
        Ok(unsafe { (self.run_simple_string)(code.as_ptr()) } == 0)
    }

    /// Creates a subinterpreter with `config`, runs `code` in it, ends it and
    /// returns to the main interpreter. Ok(false) when the code raised.
    /// Free-threaded builds refuse `check_multi_interp_extensions = 0`, so
    /// their legacy preset keeps it on, as CPython's own preset does (gh-117649).
    pub fn run_in_subinterpreter(
        &self,
        config: SubinterpreterConfig,
        free_threaded: bool,
        code: &str,
    ) -> Result<bool, LibPythonError> {
        let Some(new_interpreter) = self.new_interpreter_from_config else {
            return Err(LibPythonError::Missing { path: "libpython".into(), symbol: "Py_NewInterpreterFromConfig" });
        };
        let code = CString::new(code).map_err(|_| LibPythonError::Nul)?;
        let settings = match config {
            SubinterpreterConfig::Isolated => PyInterpreterConfig {
                use_main_obmalloc: 0,
                allow_fork: 0,
                allow_exec: 0,
                allow_threads: 1,
                allow_daemon_threads: 0,
                check_multi_interp_extensions: 1,
                gil: 2,
            },
            SubinterpreterConfig::Legacy => PyInterpreterConfig {
                use_main_obmalloc: 1,
                allow_fork: 1,
                allow_exec: 1,
                allow_threads: 1,
                allow_daemon_threads: 1,
                check_multi_interp_extensions: c_int::from(free_threaded),
                gil: 1,
            },
        };
        // SAFETY: the sequence CPython's own tests use (run_in_subinterp_with_config):
        // detach the main thread state, create, run, end, re-attach. Every
        // pointer passed is valid for the call.
        unsafe {
            let main = (self.thread_state_get)();
            (self.thread_state_swap)(std::ptr::null_mut());
            let mut sub: ThreadState = std::ptr::null_mut();
            let status = new_interpreter(&mut sub, &settings);
            if status.kind != 0 || sub.is_null() {
                (self.thread_state_swap)(main);
                let text = |p: *const c_char| {
                    if p.is_null() { String::new() } else { CStr::from_ptr(p).to_string_lossy().into_owned() }
                };
                return Err(LibPythonError::NewInterpreter { func: text(status.func), message: text(status.err_msg) });
            }
            let ok = (self.run_simple_string)(code.as_ptr()) == 0;
            (self.end_interpreter)(sub);
            (self.thread_state_swap)(main);
            Ok(ok)
        }
    }
}
