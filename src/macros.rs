//! `string_enum!`: a closed set of names shared by JSON, the database and the
//! OpenAPI document, so the three cannot drift apart.

#[macro_export]
macro_rules! string_enum {
    // `$text` is a `tt`, not a `literal`: utoipa's derive does not see through the
    // invisible group a `literal` fragment is wrapped in, and would ignore the rename.
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the stored or transmitted name; `None` for anything else.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Reads a value written by this service; an unknown name means the row was
            /// written by something else, which is a bug worth surfacing as a 500.
            pub fn from_db(text: &str) -> Result<Self, $crate::domain::CorruptValue> {
                Self::parse(text).ok_or_else(|| $crate::domain::CorruptValue(
                    format!("unknown {} value in database: {text}", stringify!($name))))
            }

            pub fn names() -> String {
                [$($text),+].join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
