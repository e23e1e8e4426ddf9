//! The environment ftprobe gives the Pythons it runs.
//!
//! Variables that change what an import does are removed. Above all
//! `PYTHON_GIL`: set to 0 it keeps the GIL off even when a module needs it,
//! which hides exactly what ftprobe looks for (CPython `Python/ceval_gil.c`,
//! `_PyEval_EnableGILPermanent` returns early when `enable_gil` is set).

/// Removed from every child Python's environment.
pub const PYTHON_VARS_TO_CLEAR: &[&str] = &[
    "PYTHON_GIL",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONINSPECT",
    "PYTHONSAFEPATH",
    "PYTHONUSERBASE",
    "PYTHONNOUSERSITE",
    "PYTHONVERBOSE",
    "PYTHONWARNINGS",
    "PYTHONDEVMODE",
    "PYTHONMALLOC",
    "PYTHONFAULTHANDLER",
    "PYTHONEXECUTABLE",
    "PYTHONPLATLIBDIR",
    "__PYVENV_LAUNCHER__",
];

/// Removes [`PYTHON_VARS_TO_CLEAR`] from what `command` inherits.
pub fn clear_python_vars(command: &mut std::process::Command) {
    for name in PYTHON_VARS_TO_CLEAR {
        command.env_remove(name);
    }
}
