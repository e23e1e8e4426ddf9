//! Rendering results for people and machines. Each format has its own file.

pub mod table;
