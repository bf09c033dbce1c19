//! Pure types and rules: no I/O, no database, no HTTP.

pub mod access;
pub mod billing;
pub mod email;
pub mod field_error;
pub mod invitation;
pub mod paging;
pub mod password;
pub mod period;
pub mod permission;
pub mod proration;
pub mod token;
