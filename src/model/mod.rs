//! Pure data types shared across ftprobe: no I/O, no processes.

pub mod hash;
pub mod name;
pub mod paths;
pub mod platform;
pub mod ranking;
pub mod sdist;
pub mod tags;
pub mod target;
pub mod version;
pub mod wheel;

/// The name serde gives a unit enum variant (`not_used`), as text.
pub fn snake<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}
